"""Writes on applications and on the values people confirm, correct and decide.

Every change of a value appends a FieldRevision and an audit event in the same transaction;
every status change goes through the model's transition map. Every write takes the
application's row lock first and decides under it: an applicant's write checks that the
application is still theirs to change (``application_lock_for_edit``), a staff write that the
actor holds the claim (``application_lock_for_staff``). Locks are taken in one order:
application, then field or flag.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import Role
from applications.claims import (
    ApplicationClosed,
    ClaimHeldByOther,
    actor_role,
    application_lock_for_staff,
)
from applications.models import Application
from applications.selectors import AUDIT_PERMISSION, REVIEW_PERMISSION
from applications.services import application_lock, application_lock_for_edit
from audit.models import Action
from audit.services import audit_record
from extraction.grounding import locate
from extraction.history import RevisionAction, revision_append
from extraction.models import Document, Field, FieldRevision
from extraction.normalize import (
    DATE_ERA_YEARS,
    OLDEST_YEAR,
    DateReading,
    ImplausibleDate,
    NormalizationError,
    normalize,
)
from extraction.progress import application_documents_changed
from rules.models import Flag
from rules.services import flags_refresh

from .models import Decision
from .notifications import notify_decision
from .versions import application_changes


class NotReady(ValidationError):
    """A step that cannot happen yet; the message says what is missing."""


class StaleVersion(ValidationError):
    """The application changed since the page the decision came from; ``changes`` says how."""

    def __init__(self, changes: list[str]):
        self.changes = changes
        super().__init__(
            "This application changed since you opened it, so nothing was decided. Look at "
            "what changed, then decide again: " + " ".join(changes),
            code="stale",
        )


class FieldLocked(PermissionDenied):
    """The reviewer's request for changes did not reopen this value."""

    def __init__(self, field: Field):
        super().__init__(
            f"The reviewer did not ask you to change {field.label}, so it stays as submitted."
        )


def _lock_for_value_change(*, field: Field, actor, why: str) -> tuple[Application, str]:
    """Lock the field's application for a change of one value by ``actor`` and return it with
    the role the actor acts in. The caller holds the transaction."""
    application_id = (
        Field.objects.filter(pk=field.pk).values_list("document__application_id", flat=True).get()
    )
    application = application_lock(application=application_id)
    # Read under the application's lock, which document_remove takes too.
    removed = (
        Document.all_objects.filter(pk=field.document_id, removed_at__isnull=False)
        .values_list("original_name", flat=True)
        .first()
    )
    if removed is not None:
        raise PermissionDenied(
            f"“{removed}” was removed from this application, so its values stay as they were."
        )
    if actor.pk == application.owner_id:
        application = application_lock_for_edit(application=application, documents=False)
        if not application.applicant_can_change_field(field.pk):
            raise FieldLocked(field)
        return application, Role.APPLICANT
    if actor_role(actor) in ("", Role.APPLICANT):
        raise PermissionDenied("Only the applicant or staff may change this value.")
    return application_lock_for_staff(application=application, actor=actor, why=why), actor_role(
        actor
    )


def _normalized(field: Field, value: str) -> str:
    era = _field_spec(field).get("era", "") if field.kind == "date" else ""
    try:
        normalized = normalize(field.kind, value, dates=DateReading(era=era)) if value else ""
    except ImplausibleDate as error:
        if DATE_ERA_YEARS.get(era, DATE_ERA_YEARS[""])[1] == 0 and error.year > error.last:
            raise ValidationError(
                f"{field.label} cannot be in the future; “{value}” is after today.",
                code="out_of_range",
            ) from error
        raise ValidationError(
            f"{field.label} should fall between {error.first} and {error.last}; “{value}” does "
            "not. Check the year on the document.",
            code="out_of_range",
        ) from error
    except NormalizationError as error:
        raise ValidationError(str(error), code="invalid_value") from error
    if normalized:
        _check_range(field, value, normalized, era)
    return normalized


def _field_spec(field: Field) -> dict:
    document_type = (
        Document.objects.filter(pk=field.document_id)
        .values_list("document_type__fields", flat=True)
        .first()
    )
    return next((spec for spec in document_type or [] if spec.get("key") == field.key), {})


def _check_range(field: Field, value: str, normalized: str, era: str) -> None:
    """A value of the right kind that no document could show: a tax year of 20255, a pay date
    in 2206. Refused with the range it must lie in."""
    today = timezone.localdate()
    if field.kind == "integer" and field.key.endswith("year"):
        last = today.year + 1
        if not (len(normalized) == 4 and OLDEST_YEAR <= int(normalized) <= last):
            raise ValidationError(
                f"{field.label} is a four-digit year from {OLDEST_YEAR} to {last}; "
                f"“{value}” is not.",
                code="out_of_range",
            )
    # The year's range is the normalizer's (``date_year_range``); a date of the past may not be
    # later today either.
    elif (
        field.kind == "date"
        and DATE_ERA_YEARS.get(era, DATE_ERA_YEARS[""])[1] == 0
        and normalized > today.isoformat()
    ):
        raise ValidationError(
            f"{field.label} cannot be in the future; “{value}” is after today.",
            code="out_of_range",
        )


def _value_event(*, field: Field, previous: str, value: str) -> dict:
    """What a value change's audit event says beyond the revision: the words a person reads.
    A sensitive value stays in the field's own history; the trail says only that it changed."""
    data = {"label": field.label, "document": field.document_id}
    if field.sensitive:
        data["sensitive"] = True
    else:
        data.update({"from": previous, "to": value})
    return data


def field_correct(*, field: Field, value: str, actor, reason: str = "") -> Field:
    """Save a value typed by the applicant or staff, recorded as a revision with the actor,
    role and reason, and as an audit event.

    The revision says what the person did: "corrected" whenever the value changes ("entered"
    when there was none), "confirmed" only when it stays as it was. A second save of the same
    value is a no-op unless it carries a reason, which is then recorded, never dropped. Staff
    must give a reason for a change. Raises ValidationError with a plain message when the
    value is not of the field's kind (for example "12/45/2026" for a date); PermissionDenied
    subclasses when the actor may not change it now (see ``_lock_for_value_change``).
    """
    # NFC: a name typed with combining accents is the same name as the one read.
    value = unicodedata.normalize("NFC", value.strip())
    reason = reason.strip()
    with transaction.atomic():
        # Whether the actor may change it comes first: a refusal says so, not "bad date".
        application, role = _lock_for_value_change(field=field, actor=actor, why="a correction")
        if field.required and not value:
            raise ValidationError(
                f"{field.label} cannot be left empty. If the document does not show it, choose "
                "“Not on this document”; otherwise type the value shown on the page.",
                code="required",
            )
        normalized = _normalized(field, value)
        field = Field.objects.select_for_update().select_related("document").get(pk=field.pk)
        previous = field.value
        changed = value != previous
        if not changed:
            if field.status != Field.Status.PROPOSED and not reason:
                return field
            action = RevisionAction.CONFIRMED
        else:
            if role != Role.APPLICANT and not reason:
                raise ValidationError(
                    f"Write the reason for changing {field.label}: the audit needs it.",
                    code="reason_required",
                )
            action = (
                RevisionAction.ENTERED
                if not previous and not field.machine_value
                else RevisionAction.CORRECTED
            )
        revision_append(
            field=field,
            value=value,
            actor=actor,
            role=role,
            action=action,
            reason=reason,
            event_data=_value_event(field=field, previous=previous, value=value),
        )
        if changed:
            field.value = value
            field.normalized = normalized
            target = (
                Field.Status.CONFIRMED if value == field.machine_value else Field.Status.CORRECTED
            )
            if target not in Field.TRANSITIONS[field.status]:
                target = Field.Status.CORRECTED
            field.move_to(target)
            _reground(field)
        elif field.status == Field.Status.PROPOSED:
            field.move_to(Field.Status.CONFIRMED)
        field.save()
        if changed:
            flags_refresh(application=application)
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
    with transaction.atomic():
        application, role = _lock_for_value_change(field=field, actor=actor, why="a confirmation")
        field = Field.objects.select_for_update().get(pk=field.pk)
        if field.status != Field.Status.PROPOSED:
            return field
        if field.required and not field.value:
            raise ValidationError(
                f"{field.label} is required: type the value shown on the document.",
                code="required",
            )
        revision_append(
            field=field,
            value=field.value,
            actor=actor,
            role=role,
            action=RevisionAction.CONFIRMED,
            event_data=_value_event(field=field, previous=field.value, value=field.value),
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
    counts as checked. Appends an "absent" revision; idempotent once marked, unless a new
    reason is given, which is then recorded. Staff must give a reason."""
    reason = reason.strip()
    with transaction.atomic():
        application, role = _lock_for_value_change(
            field=field, actor=actor, why="a value marked not on the document"
        )
        field = Field.objects.select_for_update().select_related("document").get(pk=field.pk)
        last = field.revisions.order_by("-number").first()
        if last is not None and last.action == ABSENT and not field.value and not reason:
            return field
        if role != Role.APPLICANT and not reason:
            raise ValidationError(
                f"Write the reason for marking {field.label} as not on the document.",
                code="reason_required",
            )
        previous = field.value
        revision_append(
            field=field,
            value="",
            actor=actor,
            role=role,
            action=ABSENT,
            reason=reason,
            event_data=_value_event(field=field, previous=previous, value=""),
        )
        field.value = ""
        field.normalized = ""
        if field.status != Field.Status.CONFIRMED:
            field.move_to(
                Field.Status.CONFIRMED
                if Field.Status.CONFIRMED in Field.TRANSITIONS[field.status]
                else Field.Status.CORRECTED
            )
        _reground(field)
        field.save()
        if previous:
            flags_refresh(application=application)
    return field


def fields_marked_absent(field_ids) -> set[int]:
    """Of these fields, the ones whose latest revision says "not on this document"."""
    latest = FieldRevision.objects.filter(field=OuterRef("pk")).order_by("-number")
    return set(
        Field.objects.filter(pk__in=list(field_ids))
        .annotate(last_action=Subquery(latest.values("action")[:1]))
        .filter(last_action=ABSENT)
        .values_list("pk", flat=True)
    )


def document_remove(*, document: Document, actor, reason: str = "") -> Document:
    """The applicant takes a document out of their application before submitting.

    The document leaves the application (the lists, the checks, the submission, the review)
    but is not deleted: its original file, pages, values and their history stay, because the
    audit trail already holds its sha256 and every value a person touched; a retention job,
    not this click, decides when stored files go. Recorded as ``document.removed`` with the
    reason. Only a whole file that is not being read; a file split into parts goes with its
    parts. Raises PermissionDenied (not the owner, submitted, documents locked by a request
    for changes) or ValidationError (already removed, still being read, a part of a file).
    """
    reason = reason.strip()[:500]
    with transaction.atomic():
        application = application_lock(application=document.application_id)
        if application.owner_id != actor.pk:
            raise PermissionDenied("Only the applicant can remove their documents.")
        application_lock_for_edit(application=application)
        document = Document.all_objects.select_for_update().get(pk=document.pk)
        if document.removed_at is not None:
            raise ValidationError(
                f"“{document.original_name}” was already removed. Nothing changed.",
                code="already_removed",
            )
        if document.split_from_id:
            raise ValidationError(
                f"This part is one of several in “{document.split_from.original_name}”: "
                "remove that whole file instead.",
                code="part",
            )
        if not document.is_finished:
            raise ValidationError(
                f"“{document.original_name}” is still being read: remove it once it is read.",
                code="reading",
            )
        now = timezone.now()
        parts = list(Document.all_objects.select_for_update().filter(split_from=document))
        for removed in (document, *parts):
            removed.removed_at = now
            removed.removed_by = actor
            removed.save(update_fields=["removed_at", "removed_by", "updated_at"])
        audit_record(
            action=Action.DOCUMENT_REMOVED,
            actor=actor,
            role=Role.APPLICANT,
            application=application,
            subject=document,
            data={
                "name": document.original_name,
                "sha256": document.sha256,
                "size": document.size,
                "parts": len(parts),
                "reason": reason,
                "file_kept": True,
            },
        )
        application_documents_changed(application=application)
        flags_refresh(application=application)
    return document


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
    fields = Field.objects.filter(
        document__application=application, document__removed_at__isnull=True
    )
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


REPLY_MAX = 2000


def application_submit(*, application: Application, actor, reply: str = "") -> Application:
    """The applicant hands the application to the reviewers; its documents and values are
    frozen from now on (every applicant write checks the status under the same row lock).

    Idempotent: submitting an application that was already submitted (a double click, or Back
    and submit again after a reviewer took it) changes nothing and returns it as it is now.
    Raises NotReady listing what is missing.
    """
    if actor.pk != application.owner_id:
        raise PermissionDenied("Only the applicant can submit this application.")
    with transaction.atomic():
        application = application_lock(application=application)
        if not application.applicant_can_edit and application.submitted_at is not None:
            return application
        application = application_lock_for_edit(application=application, documents=False)
        answering = application.changes_scope is not None
        if application.status == Application.Status.CHANGES_REQUESTED:
            application.move_to(Application.Status.AWAITING_APPLICANT)
        problems = application_submission_problems(application)
        if problems:
            raise NotReady(problems, code="not_ready")
        reply = reply.strip()
        if len(reply) > REPLY_MAX:
            raise ValidationError(
                f"Keep the reply under {REPLY_MAX} characters ({len(reply)} now).",
                code="reply_too_long",
            )
        if answering and reply:
            # The answer belongs to the request it answers: the reviewer reads them together.
            request = (
                Decision.objects.select_for_update()
                .filter(application=application, kind=Decision.Kind.REQUEST_CHANGES)
                .order_by("-created_at", "-pk")
                .first()
            )
            if request is not None:
                request.reply = reply
                request.replied_at = timezone.now()
                request.save(update_fields=["reply", "replied_at"])
        application.move_to(Application.Status.SUBMITTED)
        application.submitted_at = timezone.now()
        application.changes_scope = None
        application.save()
        flags_refresh(application=application)
        audit_record(
            action=Action.APPLICATION_SUBMITTED,
            actor=actor,
            role=Role.APPLICANT,
            application=application,
            subject=application,
            data={
                "documents": application.documents.count(),
                "values": Field.objects.filter(
                    document__application=application, document__removed_at__isnull=True
                ).count(),
                **({"reply": reply} if answering else {}),
            },
        )
    return application


def _assert_reviewer(actor) -> None:
    if not actor.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Only reviewers can do this.")


def _audit_application(action: str, *, application: Application, actor, **data) -> None:
    audit_record(
        action=action,
        actor=actor,
        role=actor_role(actor),
        application=application,
        subject=application,
        data=data,
    )


def _person(user) -> str:
    return user.email if user is not None else ""


def application_claim(
    *, application: Application, reviewer, take_over: bool = False
) -> Application:
    """Assign the application to a reviewer and open it for review. Idempotent for the holder.

    When another reviewer holds it, ClaimHeldByOther names them; only an admin may take it
    over (``take_over``), which is recorded as a reassignment.
    """
    _assert_reviewer(reviewer)
    with transaction.atomic():
        application = application_lock(application=application)
        if application.status not in Application.REVIEWABLE:
            raise ApplicationClosed(application)
        previous = application.assigned_to
        if previous == reviewer and application.status == Application.Status.IN_REVIEW:
            return application
        taking_over = previous is not None and previous != reviewer
        if taking_over and not (take_over and reviewer.has_perm(AUDIT_PERMISSION)):
            raise ClaimHeldByOther(application)
        application.move_to(Application.Status.IN_REVIEW)
        application.assigned_to = reviewer
        application.save(update_fields=["status", "assigned_to", "updated_at"])
        if taking_over:
            _audit_application(
                Action.APPLICATION_REASSIGNED,
                application=application,
                actor=reviewer,
                **{"from": _person(previous), "to": _person(reviewer), "take_over": True},
            )
        else:
            _audit_application(Action.APPLICATION_CLAIMED, application=application, actor=reviewer)
    return application


def application_release(*, application: Application, reviewer) -> Application:
    """The holder gives the application back to the queue, unclaimed. Idempotent when nobody
    holds it; ClaimHeldByOther when someone else does."""
    _assert_reviewer(reviewer)
    with transaction.atomic():
        application = application_lock(application=application)
        if application.status not in Application.REVIEWABLE:
            raise ApplicationClosed(application)
        if application.assigned_to_id is None:
            return application
        if application.assigned_to_id != reviewer.pk:
            raise ClaimHeldByOther(application)
        application.assigned_to = None
        application.save(update_fields=["assigned_to", "updated_at"])
        _audit_application(Action.APPLICATION_RELEASED, application=application, actor=reviewer)
    return application


def application_assign(*, application: Application, assignee, actor) -> Application:
    """An admin gives the application to a reviewer (or to nobody, with ``assignee=None``)."""
    if not actor.has_perm(AUDIT_PERMISSION):
        raise PermissionDenied("Only admins can reassign applications.")
    if assignee is not None and not assignee.has_perm(REVIEW_PERMISSION):
        raise ValidationError(f"{assignee} is not a reviewer.", code="not_reviewer")
    with transaction.atomic():
        application = application_lock(application=application)
        if application.status not in Application.REVIEWABLE:
            raise NotReady(
                f"This application is {application.get_status_display().lower()}; only "
                "applications waiting for review can be reassigned.",
                code="not_reviewable",
            )
        previous = application.assigned_to
        if previous == assignee:
            return application
        application.assigned_to = assignee
        application.save(update_fields=["assigned_to", "updated_at"])
        _audit_application(
            Action.APPLICATION_REASSIGNED,
            application=application,
            actor=actor,
            **{"from": _person(previous), "to": _person(assignee)},
        )
    return application


# Open flags of these severities need an explicit confirmation and a note to approve over.
CONFIRM_SEVERITIES = ("high", "critical")

_DECISION_TARGET = {
    Decision.Kind.APPROVE: Application.Status.APPROVED,
    Decision.Kind.REJECT: Application.Status.REJECTED,
    Decision.Kind.REQUEST_CHANGES: Application.Status.CHANGES_REQUESTED,
}
_DECISION_ACTION = {
    Decision.Kind.APPROVE: Action.APPLICATION_APPROVED,
    Decision.Kind.REJECT: Action.APPLICATION_REJECTED,
    Decision.Kind.REQUEST_CHANGES: Action.APPLICATION_CHANGES_REQUESTED,
}


def application_decide(
    *,
    application: Application,
    reviewer,
    kind: str,
    version: str,
    note: str = "",
    confirm_open_flags: bool = False,
    reopen_fields=(),
    allow_uploads: bool = False,
) -> Decision:
    """Approve, reject or send back the application exactly as the reviewer saw it.

    ``version`` is ``application_version`` of the page the decision came from; if the
    documents, values or flags changed since, StaleVersion lists the changes and nothing is
    decided. The reviewer must hold the claim (an unclaimed application is claimed first).
    Rejecting and requesting changes need a note, which the applicant sees for a request.
    Approving needs every value checked by a person, and, while high or critical flags are
    open, ``confirm_open_flags`` and a note saying why; it verifies each value with a revision
    in the reviewer's name. A request for changes reopens exactly ``reopen_fields`` (field
    ids of this application) and, with ``allow_uploads``, the document set.
    """
    _assert_reviewer(reviewer)
    note = note.strip()
    if kind not in Decision.Kind.values:
        raise ValidationError("Unknown decision.", code="invalid")
    if kind in (Decision.Kind.REJECT, Decision.Kind.REQUEST_CHANGES) and not note:
        raise ValidationError(
            "Write a note: the applicant and the audit need to know why.", code="note_required"
        )
    target = _DECISION_TARGET[kind]
    with transaction.atomic():
        application = application_lock_for_staff(
            application=application, actor=reviewer, why=f"a decision ({kind})"
        )
        changes = application_changes(application=application, version=version)
        if changes:
            raise StaleVersion(changes)
        fields = Field.objects.filter(
            document__application=application, document__removed_at__isnull=True
        )
        reopened: list[int] = []
        if kind == Decision.Kind.APPROVE:
            _assert_approvable(application, fields, note, confirm_open_flags)
        elif kind == Decision.Kind.REQUEST_CHANGES:
            wanted = {int(pk) for pk in reopen_fields}
            reopened = sorted(fields.filter(pk__in=wanted).values_list("pk", flat=True))
            if len(reopened) != len(wanted):
                raise ValidationError("Choose values of this application only.", code="invalid")
            if not reopened and not allow_uploads:
                raise ValidationError(
                    "Choose what the applicant should change: tick the values to reopen, or "
                    "let them add or replace documents.",
                    code="nothing_reopened",
                )
            application.changes_scope = {"fields": reopened, "uploads": bool(allow_uploads)}
        application.move_to(target)
        if target != Application.Status.CHANGES_REQUESTED:
            application.decided_at = timezone.now()
        application.save()
        decision = Decision.objects.create(
            application=application, reviewer=reviewer, kind=kind, note=note
        )
        if kind == Decision.Kind.APPROVE:
            _verify_values(application=application, fields=fields, decision=decision)
        for field in fields.filter(pk__in=reopened).exclude(status=Field.Status.PROPOSED):
            field.move_to(Field.Status.PROPOSED)
            field.save(update_fields=["status", "updated_at"])
        data = {"decision": decision.pk, "note": note}
        if kind == Decision.Kind.APPROVE:
            data["open_flags_confirmed"] = bool(confirm_open_flags)
        if kind == Decision.Kind.REQUEST_CHANGES:
            data.update(application.changes_scope)
            data["reopened_fields"] = data.pop("fields")
        _audit_application(_DECISION_ACTION[kind], application=application, actor=reviewer, **data)
        notify_decision(decision=decision)
    return decision


def _assert_approvable(application, fields, note: str, confirm_open_flags: bool) -> None:
    unchecked = list(
        fields.filter(status=Field.Status.PROPOSED)
        .select_related("document")
        .order_by("document_id", "position")
    )
    if unchecked:
        names = ", ".join(f"{f.label} on “{f.document.original_name}”" for f in unchecked[:5])
        more = f" and {len(unchecked) - 5} more" if len(unchecked) > 5 else ""
        raise NotReady(
            f"No person has checked {len(unchecked)} value{'s' if len(unchecked) != 1 else ''}"
            f" ({names}{more}). Confirm or correct {'them' if len(unchecked) != 1 else 'it'}, "
            "or request changes.",
            code="unchecked_values",
        )
    serious = application.flags.filter(
        status=Flag.Status.OPEN, severity__in=CONFIRM_SEVERITIES
    ).count()
    if serious and (not confirm_open_flags or not note):
        raise ValidationError(
            f"{serious} high or critical flag{'s are' if serious != 1 else ' is'} still "
            "open. To approve anyway, tick the confirmation and write a note saying why.",
            code="open_flags",
        )


def _verify_values(*, application: Application, fields, decision: Decision) -> None:
    """Each value checked by a person becomes verified by the approving reviewer's act, with a
    revision and an audit event in their name."""
    reviewer = decision.reviewer
    for field in fields.exclude(status=Field.Status.VERIFIED).select_for_update(of=("self",)):
        revision_append(
            field=field,
            value=field.value,
            actor=reviewer,
            role=actor_role(reviewer),
            action=RevisionAction.VERIFIED,
            reason=f"Approved (decision {decision.pk}).",
            event_data=_value_event(field=field, previous=field.value, value=field.value),
        )
        field.move_to(Field.Status.VERIFIED)
        field.save(update_fields=["status", "updated_at"])


def application_reopen(*, application: Application, actor, reason: str) -> Application:
    """An admin reopens a decided application for review, saying why; the decision and the
    values it verified stay in history. The application goes back to the queue unclaimed."""
    if not actor.has_perm(AUDIT_PERMISSION):
        raise PermissionDenied("Only admins can reopen a decided application.")
    reason = reason.strip()
    if not reason:
        raise ValidationError("Write why the application is reopened.", code="reason_required")
    with transaction.atomic():
        application = application_lock(application=application)
        if application.status not in Application.DECIDED:
            raise NotReady(
                f"This application is {application.get_status_display().lower()}; only an "
                "approved or rejected application can be reopened.",
                code="not_decided",
            )
        previous = application.status
        application.move_to(Application.Status.IN_REVIEW)
        application.decided_at = None
        application.assigned_to = None
        application.save(update_fields=["status", "decided_at", "assigned_to", "updated_at"])
        _audit_application(
            Action.APPLICATION_REOPENED,
            application=application,
            actor=actor,
            reason=reason,
            previous_status=previous,
        )
    return application
