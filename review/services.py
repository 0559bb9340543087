"""Writes on applications and on the values people confirm, correct and decide.

Every change of a value appends a FieldRevision in the same transaction; every status change
goes through the model's transition map.
"""

from __future__ import annotations

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


def _assert_can_change_fields(role: str, application: Application) -> None:
    if role == Role.APPLICANT:
        assert_applicant_can_edit(application)
    elif application.status not in Application.REVIEWABLE:
        raise PermissionDenied(
            "Values can be changed by staff only while the application is in review."
        )


def _current_application(field: Field) -> Application:
    # Read the status afresh: a related object cached on the caller's field may be stale.
    return Application.objects.select_related("owner").get(documents__fields=field)


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
    value = value.strip()
    application = _current_application(field)
    role = _role_for(actor, application)
    _assert_can_change_fields(role, application)
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
    _assert_can_change_fields(role, application)
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


def application_submission_problems(application: Application) -> list[str]:
    """What still stands between the applicant and submitting, in plain words."""
    problems = []
    documents = list(application.documents.select_related("document_type"))
    if not documents:
        problems.append("Upload at least one document.")
    for document in documents:
        if document.status in (Document.Status.QUEUED, Document.Status.PROCESSING):
            problems.append(f"“{document.original_name}” is still being read.")
        elif document.status == Document.Status.FAILED:
            problems.append(f"“{document.original_name}” could not be read: retry or replace it.")
        elif document.document_type_id is None:
            problems.append(f"Choose the type of “{document.original_name}”.")
    pending = Field.objects.filter(
        document__application=application, status=Field.Status.PROPOSED
    ).count()
    if pending:
        problems.append(
            f"{pending} value{'s' if pending != 1 else ''} still to confirm or correct."
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


def application_claim(*, application: Application, reviewer) -> Application:
    """Assign the application to a reviewer and open it for review."""
    _assert_reviewer(reviewer)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status not in Application.REVIEWABLE:
            raise NotReady("Only submitted applications can be claimed.", code="not_reviewable")
        application.move_to(Application.Status.IN_REVIEW)
        application.assigned_to = reviewer
        application.save()
    return application


def application_decide(
    *, application: Application, reviewer, kind: str, note: str = ""
) -> Decision:
    """Approve, reject or send back. Rejecting and requesting changes need a note, which the
    applicant sees for a request."""
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
