"""The full verification of the history: the keyed audit trail, every field revision bound to
its event, every field's current value against its revisions, the seal and the triggers.

``history_verify`` reads each table once, in index order and in chunks, so memory stays flat
whatever the size; ``manage.py verify_history`` and the admin's background job both run it.
It checks a consistent cut: events up to the newest one when it starts, and the revisions
those events record; rows written meanwhile are left for the next run.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.db.models import Max, Q

from audit.models import AuditEvent
from audit.seal import SealError, seal_latest, seal_path
from audit.triggers import append_only_missing
from audit.verification import EVENTS, VerificationReport, as_text, trail_verify

from .history import RevisionAction
from .models import REVISION_HASH_COLUMNS, Field, FieldRevision, revision_hash

REVISIONS = FieldRevision._meta.db_table
FIELDS = Field._meta.db_table
PROTECTED_TABLES = [EVENTS, REVISIONS]

# progress(done, total): rows checked so far of all the rows to check.
Progress = Callable[[int, int], None]


class RevisionBinding:
    """Walks the revisions in ``audit_sequence`` order beside the events: every field event
    must have its revision, with the field, number and hash the event recorded, and every
    revision must be recorded by a field event."""

    def __init__(self, report: VerificationReport, *, upto: int, chunk_size: int):
        self.report = report
        self.rows = (
            FieldRevision.objects.filter(audit_sequence__lte=upto)
            .order_by("audit_sequence")
            .values_list("id", "audit_sequence", "field_id", "number", "hash")
            .iterator(chunk_size=chunk_size)
        )
        self.pending = next(self.rows, None)

    def _advance(self) -> None:
        self.pending = next(self.rows, None)

    def _unrecorded(self, why: str) -> None:
        revision_id, sequence, field_id, number, _ = self.pending
        self.report.add(
            REVISIONS,
            revision_id,
            f"revision {number} of field {field_id} names audit event #{sequence}, {why}: "
            "it is not covered by the keyed chain.",
        )
        self._advance()

    def event(self, *, event_id: int, sequence: int, action: str, data: dict) -> None:
        while self.pending is not None and self.pending[1] < sequence:
            self._unrecorded("which is missing")
        is_field_event = action.startswith("field.")
        if not is_field_event:
            if self.pending is not None and self.pending[1] == sequence:
                self._unrecorded(f"which is a {action} event")
            return
        if self.pending is None or self.pending[1] != sequence:
            self.report.add(
                EVENTS,
                event_id,
                f"event #{sequence} records revision {data.get('revision')} of field "
                f"{data.get('field')}, which is missing (deleted).",
            )
            return
        revision_id, _, field_id, number, stored_hash = self.pending
        self._advance()
        self.report.revisions += 1
        if (field_id, number) != (data.get("field"), data.get("revision")):
            self.report.add(
                REVISIONS,
                revision_id,
                f"revision {number} of field {field_id} claims audit event #{sequence}, which "
                f"records revision {data.get('revision')} of field {data.get('field')}.",
            )
        elif stored_hash != data.get("revision_hash"):
            self.report.add(
                REVISIONS,
                revision_id,
                f"revision {number} of field {field_id}: its hash is not the one keyed audit "
                f"event #{sequence} recorded: the revision was changed.",
            )

    def finish(self) -> None:
        while self.pending is not None:
            self._unrecorded("beyond the end of the trail")
        unbound = FieldRevision.objects.filter(audit_sequence__isnull=True)
        first = unbound.order_by("pk").values_list("pk", "field_id", "number").first()
        if first is not None:
            count = unbound.count()
            self.report.add(
                REVISIONS,
                first[0],
                f"revision {first[2]} of field {first[1]} (and {count - 1} more) has no audit "
                "event: it is not covered by the keyed chain.",
            )


def fields_verify(
    *,
    report: VerificationReport,
    upto: int,
    chunk_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Each field's revisions numbered 1..n, each linking to the plain hash of the one before
    and matching its own content; each field's current value the value of its last revision
    that set it (a machine re-reading keeps the person's value). Fields and revisions are
    merged in (field, number) order."""
    fields = Field.objects.order_by("pk").values_list("pk", "value").iterator(chunk_size)
    revisions = (
        FieldRevision.objects.filter(Q(audit_sequence__lte=upto) | Q(audit_sequence__isnull=True))
        .order_by("field_id", "number")
        .values_list("id", *as_text(REVISION_HASH_COLUMNS), "hash")
        .iterator(chunk_size)
    )
    pending = next(revisions, None)
    for field_id, current in fields:
        number, previous_hash, value, last_id = 0, "", None, None
        while pending is not None and pending[1] <= field_id:
            (revision_id, rev_field, rev_number, rev_value, _, _, action, _, _, linked, stored) = (
                pending
            )
            if rev_field == field_id:
                number += 1
                if rev_number != number:
                    report.add(
                        REVISIONS,
                        revision_id,
                        f"revision {rev_number} of field {field_id} follows revision "
                        f"{number - 1}: revision {number} is missing (deleted).",
                    )
                    number = rev_number
                elif linked != previous_hash:
                    report.add(
                        REVISIONS,
                        revision_id,
                        f"revision {rev_number} of field {field_id} does not link to the hash "
                        "of the revision before it.",
                    )
                if revision_hash(*pending[1:10]) != stored:
                    report.add(
                        REVISIONS,
                        revision_id,
                        f"revision {rev_number} of field {field_id}: its hash does not match "
                        "its content: the revision was changed.",
                    )
                previous_hash = stored
                if action not in RevisionAction.KEEPS_VALUE or value is None:
                    value, last_id = rev_value, revision_id
            pending = next(revisions, None)
        report.fields += 1
        if value is None:
            report.add(FIELDS, field_id, "the field has no revision: its value was never recorded.")
        elif current != value and not _changed_since(field_id, upto):
            report.add(
                FIELDS,
                field_id,
                f"its current value is not the value of its last revision (id {last_id}): it "
                "was changed outside the recorded history.",
            )
        if progress is not None and report.fields % chunk_size == 0:
            progress(report.fields)
    if progress is not None:
        progress(report.fields)


def _changed_since(field_id: int, upto: int) -> bool:
    """Whether the field gained a revision after the cut (its value may be newer)."""
    return FieldRevision.objects.filter(field_id=field_id, audit_sequence__gt=upto).exists()


def history_verify(
    *, chunk_size: int = 5000, progress: Progress | None = None
) -> VerificationReport:
    """Verify the whole history; never stops early, so the report counts every row checked."""
    report = VerificationReport()
    for table in append_only_missing(connection, PROTECTED_TABLES):
        report.add(
            table,
            None,
            "the database triggers that refuse UPDATE and DELETE on this table are missing.",
        )
    seal_error = ""
    try:
        seal = seal_latest()
    except SealError as error:
        seal, seal_error = None, str(error)
        report.add("seal", None, seal_error)
    # Read after the seal: every sealed event is already in the cut.
    upto = AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0
    if seal is None and upto and not seal_error:
        report.add(
            "seal",
            None,
            f"there is no seal of the chain's head in {seal_path()}: deleting the newest events "
            "could not be detected (the audit.seal_head beat job writes one every minute).",
        )
    total = upto + Field.objects.count()

    def events_done(done: int) -> None:
        if progress is not None:
            progress(done, total)

    def fields_done(done: int) -> None:
        if progress is not None:
            progress(report.events + done, total)

    binding = RevisionBinding(report, upto=upto, chunk_size=chunk_size)
    trail_verify(
        report=report,
        upto=upto,
        seal=seal,
        checker=binding,
        chunk_size=chunk_size,
        progress=events_done,
    )
    fields_verify(report=report, upto=upto, chunk_size=chunk_size, progress=fields_done)
    return report
