"""Writes on the application aggregate that every layer needs: locking it for the applicant's
edits, creating it, and keeping its status in step with the reading of its documents.

The review workflow (submitting, claims, decisions) lives in ``review.services``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from audit.models import Action
from audit.services import audit_record

from .models import Application
from .notifications import notify_documents_read


class ApplicationLocked(PermissionDenied):
    """The applicant may not change the application in its current status."""

    def __init__(self, application: Application):
        self.application = application
        super().__init__(
            f"This application is {application.get_status_display().lower()}, so it can no "
            "longer be changed."
        )


class DocumentsLocked(PermissionDenied):
    """A reviewer's request for changes left the documents as they are."""

    def __init__(self, application: Application):
        self.application = application
        super().__init__(
            "The reviewer asked you to change only some values, not the documents, so "
            "documents cannot be added, replaced or read again now."
        )


def assert_applicant_can_edit(application: Application, *, documents: bool = False) -> None:
    """Raise ApplicationLocked when the applicant may not change the application now, and
    DocumentsLocked when ``documents`` says the change touches the document set and the open
    request for changes does not allow that."""
    if not application.applicant_can_edit:
        raise ApplicationLocked(application)
    if documents and not application.applicant_can_change_documents:
        raise DocumentsLocked(application)


def application_lock(*, application: Application | int) -> Application:
    """Lock the application row for the rest of the caller's transaction and return it fresh."""
    pk = getattr(application, "pk", application)
    return Application.objects.select_for_update(of=("self",)).get(pk=pk)


def application_lock_for_edit(
    *, application: Application | int, documents: bool = True
) -> Application:
    """Lock the application row for the rest of the caller's transaction and check that the
    applicant may still change it. Raises ApplicationLocked (or DocumentsLocked, for a change
    of the document set that an open request for changes does not allow) otherwise.

    Every applicant write (upload, correction, removal) takes this lock first, and submitting
    takes it too, so a write and a submission never interleave: one of them sees the other.
    ``documents=False`` is for changes of one value; the caller checks the value's scope.
    """
    locked = application_lock(application=application)
    assert_applicant_can_edit(locked, documents=documents)
    return locked


def application_create(
    *,
    owner,
    stated_name: str,
    stated_employer: str = "",
    stated_monthly_income: Decimal | None = None,
    title: str = "",
    actor=None,
    via: str = "",
) -> Application:
    """Create an application owned by ``owner``. ``actor`` is who created it when not the
    owner (an integration's API key acting on the applicant's behalf); ``via`` names the
    channel in the trail ("api key ab12cd34")."""
    actor = actor or owner
    with transaction.atomic():
        application = Application.objects.create(
            owner=owner,
            stated_name=stated_name.strip(),
            stated_employer=stated_employer.strip(),
            stated_monthly_income=stated_monthly_income,
            title=title.strip(),
        )
        audit_record(
            action=Action.APPLICATION_CREATED,
            actor=actor,
            role=Role.APPLICANT if actor == owner else (getattr(actor, "role", "") or ""),
            application=application,
            subject=application,
            data={
                "stated_name": application.stated_name,
                "stated_employer": application.stated_employer,
                "stated_monthly_income": application.stated_monthly_income,
                **({"owner": owner.email, "via": via} if actor != owner else {}),
            },
        )
    return application


def _assert_owner(application: Application, actor) -> None:
    if application.owner_id != actor.pk:
        raise PermissionDenied("Only the applicant can change this application.")


def application_withdraw(*, application: Application | int, actor, reason: str = "") -> Application:
    """The applicant takes the application back before it is decided (before submitting, or
    while a request for changes is with them). Final: nothing can be changed or submitted
    after it; its documents and history stay, as the retention of a submitted case would."""
    reason = reason.strip()[:500]
    with transaction.atomic():
        locked = application_lock(application=application)
        _assert_owner(locked, actor)
        if locked.status == Application.Status.WITHDRAWN:
            return locked
        assert_applicant_can_edit(locked)
        previous = locked.status
        locked.move_to(Application.Status.WITHDRAWN)
        locked.changes_scope = None
        locked.save(update_fields=["status", "changes_scope", "updated_at"])
        audit_record(
            action=Action.APPLICATION_WITHDRAWN,
            actor=actor,
            role=Role.APPLICANT,
            application=locked,
            subject=locked,
            data={"previous_status": previous, "reason": reason},
        )
    return locked


STATED_FIELDS = ("stated_name", "stated_employer", "stated_monthly_income")


class StatedLocked(PermissionDenied):
    def __init__(self):
        super().__init__(
            "What you stated can be changed only before the application is first submitted."
        )


def application_stated_update(
    *,
    application: Application | int,
    actor,
    stated_name: str,
    stated_employer: str = "",
    stated_monthly_income: Decimal | None = None,
) -> Application:
    """The applicant corrects what they stated, before the first submission only (after it,
    the reviewer judged the documents against these values). Each change is in the trail with
    its old and new value; saving the same values again records nothing."""
    new = {
        "stated_name": stated_name.strip(),
        "stated_employer": stated_employer.strip(),
        "stated_monthly_income": stated_monthly_income,
    }
    with transaction.atomic():
        locked = application_lock(application=application)
        _assert_owner(locked, actor)
        assert_applicant_can_edit(locked)
        if locked.submitted_at is not None or locked.changes_scope is not None:
            raise StatedLocked()
        changes = {
            name: {"from": getattr(locked, name), "to": value}
            for name, value in new.items()
            if getattr(locked, name) != value
        }
        if not changes:
            return locked
        for name in changes:
            setattr(locked, name, new[name])
        locked.save(update_fields=[*changes, "updated_at"])
        audit_record(
            action=Action.APPLICATION_STATED_CHANGED,
            actor=actor,
            role=Role.APPLICANT,
            application=locked,
            subject=locked,
            data={"changes": changes},
        )
    return locked


def application_reading_changed(*, application: Application | int, reading: bool) -> Application:
    """Keep the application's status in step with its documents' reading.

    ``reading`` says whether any of its documents is still queued or being read; the caller
    (extraction) works it out after taking ``application_lock`` in the transaction that changed
    a document, so that two documents finishing at once cannot both see the other unfinished.
    While reading,
    the application is `processing`; once all documents are finished it waits for the applicant.
    An application the applicant can no longer edit is left as it is.
    """
    with transaction.atomic():
        application = application_lock(application=application)
        if not application.applicant_can_edit:
            return application
        status = application.status
        if status == Application.Status.CHANGES_REQUESTED:
            application.move_to(Application.Status.AWAITING_APPLICANT)
        if reading:
            application.move_to(Application.Status.PROCESSING)
        elif application.status in (Application.Status.PROCESSING, Application.Status.DRAFT):
            application.move_to(Application.Status.AWAITING_APPLICANT)
        if application.status != status:
            tell = status == Application.Status.PROCESSING and application.ready_notified_at is None
            if tell:
                application.ready_notified_at = timezone.now()
            application.save(update_fields=["status", "ready_notified_at", "updated_at"])
            if tell:
                notify_documents_read(application=application)
    return application
