"""The append-only history of a field's value, each revision also bound into the keyed audit trail.

A revision stores the plain SHA-256 hash of the one before it (``previous_hash``), which shows a
careless edit. What proves the history is the audit event appended with every revision: it
records the field, the revision number and the revision's hash, and its MAC is keyed with a
secret outside the database. ``FieldRevision.audit_sequence`` names that event.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record

from .models import Document, Field, FieldRevision


class RevisionAction:
    EXTRACTED = "extracted"
    # The machine read the document again after a person had checked the value: its new
    # reading is history, but the person's value stays the field's value.
    REREAD = "reread"
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    ENTERED = "entered"
    ABSENT = "absent"
    VERIFIED = "verified"

    # Revisions that do not change the field's current value.
    KEEPS_VALUE = frozenset({REREAD})


def revision_event_data(revision: FieldRevision, *, key: str = "") -> dict:
    """What the audit event of a revision records about it (the value itself stays out of the
    trail, so that masked values are never copied; the revision's hash covers it)."""
    return {
        "field": revision.field_id,
        "key": key,
        "revision": revision.number,
        "revision_hash": revision.hash,
        "reason": revision.reason,
    }


def revision_append(
    *,
    field: Field,
    value: str,
    actor,
    role: str,
    action: str,
    reason: str = "",
    event_data: dict | None = None,
) -> FieldRevision:
    """Append a revision to the field's chain and its one event to the audit trail; the caller
    holds the transaction. ``event_data`` adds the writer's own words to the event (for example
    the value it replaced), beside what ``revision_event_data`` records.

    The field row is locked so that two writers cannot both claim the same revision number;
    the audit head is locked after it (``audit_record``).
    """
    with transaction.atomic():
        Field.objects.select_for_update().filter(pk=field.pk).first()
        last = field.revisions.order_by("-number").first()
        revision = FieldRevision(
            field=field,
            number=(last.number + 1) if last else 1,
            value=value,
            actor=actor,
            role=role,
            action=action,
            reason=reason,
            created_at=timezone.now(),
            previous_hash=last.hash if last else "",
        )
        revision.hash = revision.compute_hash()
        application_id = (
            Document.objects.filter(pk=field.document_id)
            .values_list("application_id", flat=True)
            .first()
        )
        event = audit_record(
            action=f"field.{action}",
            actor=actor,
            role=role,
            application=application_id,
            subject=field,
            data={**(event_data or {}), **revision_event_data(revision, key=field.key)},
        )
        revision.audit_sequence = event.sequence
        revision.save()
    return revision


def revisions_append(
    *, appends: list[tuple[Field, str, str]], actor, role: str
) -> list[FieldRevision]:
    """``revision_append`` for several fields of one document, ``appends`` as ``[(field,
    value, action)]``: the same revisions and the same events, in the same order (one
    ``audit_record`` each), with the fields locked, their last revisions and the document's
    application read in one query each rather than once per field. The caller holds the
    transaction.

    The fields are locked in the order of their ids, all before the audit head.
    """
    if not appends:
        return []
    with transaction.atomic():
        ids = sorted({field.pk for field, _, _ in appends})
        list(Field.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        last: dict[int, tuple[int, str]] = {}
        for field_id, number, hashed in (
            FieldRevision.objects.filter(field_id__in=ids)
            .order_by("field_id", "number")
            .values_list("field_id", "number", "hash")
        ):
            last[field_id] = (number, hashed)
        document_ids = {field.document_id for field, _, _ in appends}
        applications = dict(
            Document.objects.filter(pk__in=document_ids).values_list("pk", "application_id")
        )
        revisions = []
        for field, value, action in appends:
            number, previous_hash = last.get(field.pk, (0, ""))
            revision = FieldRevision(
                field=field,
                number=number + 1,
                value=value,
                actor=actor,
                role=role,
                action=action,
                reason="",
                created_at=timezone.now(),
                previous_hash=previous_hash,
            )
            revision.hash = revision.compute_hash()
            event = audit_record(
                action=f"field.{action}",
                actor=actor,
                role=role,
                application=applications.get(field.document_id),
                subject=field,
                data=revision_event_data(revision, key=field.key),
            )
            revision.audit_sequence = event.sequence
            last[field.pk] = (revision.number, revision.hash)
            revisions.append(revision)
        FieldRevision.objects.bulk_create(revisions)
    return revisions


def verify_chain(revisions) -> bool:
    """True when every revision's plain hash matches its content and links to the one before.

    Only a consistency check of one field's rows: the proof is ``extraction.verification``.
    """
    previous = ""
    for revision in revisions:
        if revision.previous_hash != previous or revision.compute_hash() != revision.hash:
            return False
        previous = revision.hash
    return True
