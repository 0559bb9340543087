"""Who may change an application under review: the reviewer who holds its claim.

Every staff write (a correction, a waiver, a flag reopened, a decision) starts with
``application_lock_for_staff`` in its own transaction, so the check and the write see the same
row: a write from a page opened before someone else's claim is refused with their name, a write
on an unclaimed application claims it first (and the trail says so), and nothing changes after
the final decision until an admin reopens the application.

It sits here, below rules and review, because both rules (waivers) and review (values,
decisions) need it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from audit.models import Action
from audit.services import audit_record

from .models import Application
from .selectors import REVIEW_PERMISSION
from .services import application_lock


class NotAStaffMember(PermissionDenied):
    def __init__(self):
        super().__init__("Only reviewers can do this.")


class ClaimHeldByOther(PermissionDenied):
    """Another reviewer holds the claim; the message names them."""

    def __init__(self, application: Application):
        self.application = application
        self.holder = application.assigned_to
        super().__init__(
            f"{self.holder} is working on this application, so nothing was changed. Ask them "
            "to release it, or ask an admin to reassign it to you."
        )


class ApplicationClosed(PermissionDenied):
    """The application is not open for review: decided, sent back, or not yet submitted."""

    def __init__(self, application: Application):
        self.application = application
        status = application.get_status_display().lower()
        if application.status in Application.DECIDED:
            detail = "the decision stands unless an admin reopens it"
        elif application.status == Application.Status.CHANGES_REQUESTED:
            detail = "it is back with the applicant until they submit again"
        else:
            detail = "the applicant has not submitted it yet"
        super().__init__(f"This application is {status}; {detail}. Nothing was changed.")


def actor_role(actor) -> str:
    return getattr(actor, "role", "") or ""


def application_lock_for_staff(*, application: Application | int, actor, why: str) -> Application:
    """Lock the application row for the caller's transaction and make sure ``actor`` holds it.

    ``why`` names the write in plain words ("a correction"); it goes into the claim event when
    the write claims an unclaimed application. Raises NotAStaffMember, ApplicationClosed
    (not in review) or ClaimHeldByOther (someone else holds it; admins too must reassign
    first, so that two people never act on one application at once).
    """
    if not actor.has_perm(REVIEW_PERMISSION):
        raise NotAStaffMember()
    locked = application_lock(application=application)
    if locked.status not in Application.REVIEWABLE:
        raise ApplicationClosed(locked)
    if locked.assigned_to_id is not None and locked.assigned_to_id != actor.pk:
        raise ClaimHeldByOther(locked)
    if locked.assigned_to_id is None or locked.status == Application.Status.SUBMITTED:
        was_unclaimed = locked.assigned_to_id is None
        locked.move_to(Application.Status.IN_REVIEW)
        locked.assigned_to = actor
        locked.save(update_fields=["status", "assigned_to", "updated_at"])
        if was_unclaimed:
            audit_record(
                action=Action.APPLICATION_CLAIMED,
                actor=actor,
                role=actor_role(actor),
                application=locked,
                subject=locked,
                data={"implicit": True, "because_of": why},
            )
    return locked
