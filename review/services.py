"""Writes on applications and on the values people confirm, correct and decide.

Every change of a value appends a FieldRevision in the same transaction; every status change
goes through the model's transition map.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from extraction.grounding import locate
from extraction.history import RevisionAction, revision_append
from extraction.models import Document, Field
from extraction.normalize import NormalizationError, normalize

from .models import Application, Decision
from .notifications import notify_decision, notify_documents_read


class ApplicationLocked(PermissionDenied):
    """The applicant may not change the application in its current status."""

    def __init__(self, application: Application):
        super().__init__(
            f"This application is {application.get_status_display().lower()}, so it can no "
            "longer be changed."
        )


class NotReady(ValidationError):
    """A step that cannot happen yet; the message says what is missing."""


def assert_applicant_can_edit(application: Application) -> None:
    if not application.applicant_can_edit:
        raise ApplicationLocked(application)


def application_create(
    *,
    owner,
    stated_name: str,
    stated_employer: str = "",
    stated_monthly_income: Decimal | None = None,
    title: str = "",
) -> Application:
    return Application.objects.create(
        owner=owner,
        stated_name=stated_name.strip(),
        stated_employer=stated_employer.strip(),
        stated_monthly_income=stated_monthly_income,
        title=title.strip(),
    )


def application_documents_changed(*, application: Application) -> Application:
    """Keep the application's status in step with its documents' reading.

    Called inside the transaction that changed a document. While any document is queued or
    being read the application is `processing`; once all are finished it waits for the applicant.
    """
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if not application.applicant_can_edit:
            return application
        reading = application.documents.exclude(status__in=Document.FINISHED).exists()
        status = application.status
        if status == Application.Status.CHANGES_REQUESTED:
            application.move_to(Application.Status.AWAITING_APPLICANT)
        if reading:
            application.move_to(Application.Status.PROCESSING)
        elif application.status in (Application.Status.PROCESSING, Application.Status.DRAFT):
            application.move_to(Application.Status.AWAITING_APPLICANT)
        if application.status != status:
            application.save(update_fields=["status", "updated_at"])
            if status == Application.Status.PROCESSING:
                notify_documents_read(application=application)
    return application


def _role_for(actor, application: Application) -> str:
    if actor == application.owner:
        return Role.APPLICANT
    role = actor.role
    if role == Role.APPLICANT:
        raise PermissionDenied("Only the applicant or staff may change this value.")
    return role


def _assert_can_change_fields(role: str, application: Application, actor) -> None:
    if role == Role.APPLICANT:
        assert_applicant_can_edit(application)
        return
    if application.status not in Application.REVIEWABLE:
        raise PermissionDenied(
            "Values can be changed by staff only while the application is in review."
        )
    _assert_not_someone_elses(application, actor)


def _current_application(field: Field) -> Application:
    # Read the status afresh: a related object cached on the caller's field may be stale.
    return Application.objects.select_related("owner", "assigned_to").get(documents__fields=field)


def _normalized(field: Field, value: str) -> str:
    try:
        return normalize(field.kind, value) if value else ""
    except NormalizationError as error:
        raise ValidationError(str(error), code="invalid_value") from error


def _after_field_change(application: Application) -> None:
    from rules.services import flags_refresh

    flags_refresh(application=application)


def field_correct(*, field: Field, value: str, actor, reason: str = "") -> Field:
    """Set a new value, recorded as a revision with the actor, role and reason.

    The machine's value stays in history; a correction back to the machine's value counts as a
    confirmation. Raises ValidationError with a plain message when the value is not of the
    field's kind (for example "12/45/2026" for a date).
    """
    # NFC: a name typed with combining accents is the same name as the one read.
    value = unicodedata.normalize("NFC", value.strip())
    application = _current_application(field)
    role = _role_for(actor, application)
    _assert_can_change_fields(role, application, actor)
    if field.required and not value:
        raise ValidationError(f"{field.label} is required on this document.", code="required")
    normalized = _normalized(field, value)
    with transaction.atomic():
        field = Field.objects.select_for_update().select_related("document").get(pk=field.pk)
        if value == field.value and field.status != Field.Status.PROPOSED:
            return field
        action = RevisionAction.CORRECTED if field.machine_value else RevisionAction.ENTERED
        if value == field.machine_value:
            action = RevisionAction.CONFIRMED
        revision_append(
            field=field, value=value, actor=actor, role=role, action=action, reason=reason.strip()
        )
        field.value = value
        field.normalized = normalized
        field.move_to(
            Field.Status.CONFIRMED if value == field.machine_value else Field.Status.CORRECTED
        )
        _reground(field)
        field.save()
        _after_field_change(application)
    return field


def _reground(field: Field) -> None:
    pages = list(field.document.pages.all())
    location = (
        locate(value=field.value, kind=field.kind, pages=[(p.number, p.words) for p in pages])
        if field.value
        else None
    )
    if location:
        field.page = next(p for p in pages if p.number == location.page)
        field.box = location.box
        field.grounded = True
    else:
        field.box = []
        field.grounded = False


def field_confirm(*, field: Field, actor) -> Field:
    """The person checked the value and it is right as read. Idempotent."""
    application = _current_application(field)
    role = _role_for(actor, application)
    _assert_can_change_fields(role, application, actor)
    with transaction.atomic():
        field = Field.objects.select_for_update().get(pk=field.pk)
        if field.status != Field.Status.PROPOSED:
            return field
        if field.required and not field.value:
            raise ValidationError(
                f"{field.label} is required: type the value shown on the document.",
                code="required",
            )
        revision_append(
            field=field, value=field.value, actor=actor, role=role, action=RevisionAction.CONFIRMED
        )
        field.move_to(Field.Status.CONFIRMED)
        field.save()
    return field


def fields_confirm_remaining(*, document: Document, actor) -> int:
    """Confirm every value of the document still waiting to be checked, except empty required
    ones, which the person must fill in. Returns how many were confirmed."""
    confirmed = 0
    for field in document.fields.filter(status=Field.Status.PROPOSED):
        if field.required and not field.value:
            continue
        field_confirm(field=field, actor=actor)
        confirmed += 1
    return confirmed


# The revision action of a required value the person says the document does not show.
ABSENT = "absent"


def field_mark_absent(*, field: Field, actor, reason: str = "") -> Field:
    """The person says the document does not show this value: the value becomes empty and
    counts as checked. Appends an "absent" revision; idempotent once marked."""
    application = _current_application(field)
    role = _role_for(actor, application)
    _assert_can_change_fields(role, application, actor)
    with transaction.atomic():
        field = Field.objects.select_for_update().select_related("document").get(pk=field.pk)
        last = field.revisions.order_by("-number").first()
        if last is not None and last.action == ABSENT and not field.value:
            return field
        revision_append(
            field=field, value="", actor=actor, role=role, action=ABSENT, reason=reason.strip()
        )
        field.value = ""
        field.normalized = ""
        if field.status != Field.Status.CONFIRMED:
            field.move_to(Field.Status.CONFIRMED)
        _reground(field)
        field.save()
        _after_field_change(application)
    return field


def fields_marked_absent(field_ids) -> set[int]:
    """Of these fields, the ones whose latest revision says "not on this document"."""
    from django.db.models import OuterRef, Subquery

    from extraction.models import FieldRevision

    latest = FieldRevision.objects.filter(field=OuterRef("pk")).order_by("-number")
    return set(
        Field.objects.filter(pk__in=list(field_ids))
        .annotate(last_action=Subquery(latest.values("action")[:1]))
        .filter(last_action=ABSENT)
        .values_list("pk", flat=True)
    )


def application_submission_problems(application: Application) -> list[str]:
    """What still stands between the applicant and submitting, in plain words.

    A required value that is empty must be typed in or marked "not on this document"; each
    such value is named.
    """
    problems = []
    documents = list(application.documents.select_related("document_type"))
    if not documents:
        problems.append("Upload at least one document.")
    for document in documents:
        if document.status == Document.Status.SPLIT:
            continue  # its parts are documents of their own, each checked here
        if document.status in (Document.Status.QUEUED, Document.Status.PROCESSING):
            problems.append(f"“{document.original_name}” is still being read.")
        elif document.status == Document.Status.FAILED:
            problems.append(f"“{document.original_name}” could not be read: retry or replace it.")
        elif document.document_type_id is None:
            problems.append(f"Choose the type of “{document.original_name}”.")
    fields = Field.objects.filter(document__application=application)
    empty_required = list(
        fields.filter(required=True, value="")
        .select_related("document")
        .order_by("document__created_at", "document_id", "position", "pk")
    )
    pending = (
        fields.filter(status=Field.Status.PROPOSED)
        .exclude(pk__in=[f.pk for f in empty_required])
        .count()
    )
    if pending:
        problems.append(
            f"{pending} value{'s' if pending != 1 else ''} still to confirm or correct."
        )
    absent = fields_marked_absent(f.pk for f in empty_required) if empty_required else set()
    for field in empty_required:
        if field.pk not in absent:
            problems.append(
                f"{field.label} on “{field.document.original_name}” is empty: type it in or "
                "mark it “not on this document”."
            )
    return problems


def application_submit(*, application: Application, actor) -> Application:
    if actor != application.owner:
        raise PermissionDenied("Only the applicant can submit this application.")
    from rules.services import flags_refresh

    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status == Application.Status.SUBMITTED:
            return application
        if application.status == Application.Status.CHANGES_REQUESTED:
            application.move_to(Application.Status.AWAITING_APPLICANT)
        problems = application_submission_problems(application)
        if problems:
            raise NotReady(problems, code="not_ready")
        application.move_to(Application.Status.SUBMITTED)
        application.submitted_at = timezone.now()
        application.save()
        flags_refresh(application=application)
    return application


def _assert_reviewer(actor) -> None:
    if not actor.has_perm("review.review_application"):
        raise PermissionDenied("Only reviewers can do this.")


class AssignedToSomeoneElse(PermissionDenied):
    """Another reviewer is working on the application; taking it over must be explicit."""

    def __init__(self, application: Application):
        self.assignee = application.assigned_to
        super().__init__(
            f"{application.assigned_to} is working on this application. Take it over first "
            "if you mean to work on it."
        )


def _assert_not_someone_elses(application: Application, actor) -> None:
    if application.assigned_to_id is not None and application.assigned_to_id != actor.pk:
        raise AssignedToSomeoneElse(application)


def application_claim(
    *, application: Application, reviewer, take_over: bool = False
) -> Application:
    """Assign the application to a reviewer and open it for review.

    When another reviewer has it, nothing changes unless ``take_over`` says the reviewer means
    to take it from them (AssignedToSomeoneElse otherwise). Idempotent for the assignee.
    """
    _assert_reviewer(reviewer)
    with transaction.atomic():
        application = (
            # Lock only the application: PostgreSQL refuses the nullable side of the join.
            Application.objects.select_for_update(of=("self",))
            .select_related("assigned_to")
            .get(pk=application.pk)
        )
        if application.status not in Application.REVIEWABLE:
            raise NotReady("Only submitted applications can be claimed.", code="not_reviewable")
        if not take_over:
            _assert_not_someone_elses(application, reviewer)
        application.move_to(Application.Status.IN_REVIEW)
        application.assigned_to = reviewer
        application.save()
    return application


def application_assign(*, application: Application, assignee, actor) -> Application:
    """An admin gives the application to a reviewer (or to nobody, with ``assignee=None``)."""
    if not actor.has_perm("review.audit_history"):
        raise PermissionDenied("Only admins can reassign applications.")
    if assignee is not None and not assignee.has_perm("review.review_application"):
        raise ValidationError(f"{assignee} is not a reviewer.", code="not_reviewer")
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status not in Application.REVIEWABLE:
            raise NotReady(
                f"This application is {application.get_status_display().lower()}; only "
                "applications waiting for review can be reassigned.",
                code="not_reviewable",
            )
        application.assigned_to = assignee
        application.save(update_fields=["assigned_to", "updated_at"])
    return application


# Open flags of these severities need an explicit confirmation and a note to approve over.
CONFIRM_SEVERITIES = ("high", "critical")


def application_decide(
    *,
    application: Application,
    reviewer,
    kind: str,
    note: str = "",
    confirm_open_flags: bool = False,
) -> Decision:
    """Approve, reject or send back. Rejecting and requesting changes need a note, which the
    applicant sees for a request. Approving while high or critical flags are open needs
    ``confirm_open_flags`` and a note saying why."""
    _assert_reviewer(reviewer)
    note = note.strip()
    if kind not in Decision.Kind.values:
        raise ValidationError("Unknown decision.", code="invalid")
    if kind in (Decision.Kind.REJECT, Decision.Kind.REQUEST_CHANGES) and not note:
        raise ValidationError(
            "Write a note: the applicant and the audit need to know why.", code="note_required"
        )
    target = {
        Decision.Kind.APPROVE: Application.Status.APPROVED,
        Decision.Kind.REJECT: Application.Status.REJECTED,
        Decision.Kind.REQUEST_CHANGES: Application.Status.CHANGES_REQUESTED,
    }[kind]
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status not in Application.REVIEWABLE:
            raise NotReady(
                f"This application is {application.get_status_display().lower()}; "
                "it cannot be decided now.",
                code="not_reviewable",
            )
        _assert_not_someone_elses(application, reviewer)
        if kind == Decision.Kind.APPROVE:
            serious = application.flags.filter(
                status="open", severity__in=CONFIRM_SEVERITIES
            ).count()
            if serious and (not confirm_open_flags or not note):
                raise ValidationError(
                    f"{serious} high or critical flag{'s are' if serious != 1 else ' is'} still "
                    "open. To approve anyway, tick the confirmation and write a note saying why.",
                    code="open_flags",
                )
        application.move_to(Application.Status.IN_REVIEW)
        application.move_to(target)
        if application.assigned_to_id is None:
            application.assigned_to = reviewer
        if target != Application.Status.CHANGES_REQUESTED:
            application.decided_at = timezone.now()
        application.save()
        decision = Decision.objects.create(
            application=application, reviewer=reviewer, kind=kind, note=note
        )
        if target == Application.Status.APPROVED:
            Field.objects.filter(document__application=application).update(
                status=Field.Status.VERIFIED
            )
        notify_decision(decision=decision)
    return decision
