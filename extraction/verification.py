"""The full verification of the history: the keyed audit trail, every field revision bound to
its event, every field's current value against its revisions, the seal and the triggers.

``history_verify`` reads the events and the revisions once, in index order and in chunks, so
memory stays flat whatever the size, and has the database compare fields and revisions with
each other, returning only broken rows; ``manage.py verify_history`` and the admin's background
job both run it.
It checks a consistent cut: events up to the newest one when it starts, and the revisions
those events record; rows written meanwhile are left for the next run.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable

from django.db import connection, connections
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from audit.models import AuditEvent
from audit.seal import Seal, SealError, seal_latest, seal_path
from audit.triggers import append_only_missing
from audit.verification import (
    EVENTS,
    VerificationReport,
    as_text,
    seal_tail_verify,
    trail_verify,
)

from .history import RevisionAction
from .models import REVISION_HASH_COLUMNS, Field, FieldRevision, revision_hash

REVISIONS = FieldRevision._meta.db_table
FIELDS = Field._meta.db_table
PROTECTED_TABLES = [EVENTS, REVISIONS]

# progress(done, total): rows checked so far of all the rows to check.
Progress = Callable[[int, int], None]


class RevisionBinding:
    """Walks the revisions in ``audit_sequence`` order beside the events: every field event
    must have its revision, with the field, number and hash the event recorded; every
    revision's hash must match its content; and every revision must be recorded by a field
    event."""

    def __init__(self, report: VerificationReport, *, upto: int, chunk_size: int, start: int = 1):
        self.report = report
        self.rows = (
            FieldRevision.objects.filter(audit_sequence__gte=start, audit_sequence__lte=upto)
            .order_by("audit_sequence")
            .values_list("id", "audit_sequence", *as_text(REVISION_HASH_COLUMNS), "hash")
            .iterator(chunk_size=chunk_size)
        )
        self.pending = next(self.rows, None)

    def _advance(self) -> None:
        self.pending = next(self.rows, None)

    def _unrecorded(self, why: str) -> None:
        revision_id, sequence, field_id, number = self.pending[:4]
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
        row = self.pending
        revision_id, _, field_id, number, stored_hash = *row[:4], row[-1]
        self._advance()
        self.report.revisions += 1
        if revision_hash(*row[2:-1]) != stored_hash:
            self.report.add(
                REVISIONS,
                revision_id,
                f"revision {number} of field {field_id}: its hash does not match its content: "
                "the revision was changed.",
            )
        elif (field_id, number) != (data.get("field"), data.get("revision")):
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


def unbound_verify(*, report: VerificationReport) -> None:
    """Every revision must name its audit event."""
    unbound = FieldRevision.objects.filter(audit_sequence__isnull=True)
    first = unbound.order_by("pk").values_list("pk", "field_id", "number").first()
    if first is not None:
        count = unbound.count()
        report.add(
            REVISIONS,
            first[0],
            f"revision {first[2]} of field {first[1]} (and {count - 1} more) has no audit "
            "event: it is not covered by the keyed chain.",
        )


def fields_verify(*, report: VerificationReport, upto: int) -> None:
    """Each field's revisions numbered 1..n, each linking to the plain hash of the one before;
    each field's current value the value of its last revision that set it (a machine
    re-reading keeps the person's value). The revisions' own content was checked against the
    keyed events (``RevisionBinding``); these checks compare rows with rows, so the database
    does them, and returns only the broken ones (a few index lookups per row)."""
    cut = Q(audit_sequence__lte=upto) | Q(audit_sequence__isnull=True)
    before = FieldRevision.objects.filter(field=OuterRef("field"), number=OuterRef("number") - 1)
    unlinked = (
        FieldRevision.objects.filter(cut)
        .annotate(before_hash=Subquery(before.values("hash")[:1]))
        .filter(
            (Q(number=1) & ~Q(previous_hash=""))
            | (Q(number__gt=1) & (Q(before_hash__isnull=True) | ~Q(previous_hash=F("before_hash"))))
        )
        .order_by("field_id", "number")
        .values_list("id", "field_id", "number", "before_hash")
    )
    for revision_id, field_id, number, before_hash in unlinked[: report.KEEP]:
        if number > 1 and before_hash is None:
            message = f"revision {number - 1} is missing (deleted)"
        else:
            message = "it does not link to the hash of the revision before it"
        report.add(REVISIONS, revision_id, f"revision {number} of field {field_id}: {message}.")

    revisions = FieldRevision.objects.filter(cut, field=OuterRef("pk")).order_by("-number")
    setting = revisions.exclude(action__in=RevisionAction.KEEPS_VALUE)
    fields = (
        Field.objects.annotate(
            expected=Coalesce(
                Subquery(setting.values("value")[:1]), Subquery(revisions.values("value")[:1])
            ),
            last_id=Subquery(setting.values("pk")[:1]),
        )
        .filter(Q(expected__isnull=True) | ~Q(value=F("expected")))
        .order_by("pk")
        .values_list("pk", "expected", "last_id")
    )
    found = 0
    for field_id, expected, last_id in fields.iterator(chunk_size=report.KEEP):
        if expected is None:
            report.add(FIELDS, field_id, "the field has no revision: its value was never recorded.")
        elif not _changed_since(field_id, upto):
            report.add(
                FIELDS,
                field_id,
                f"its current value is not the value of its last revision (id {last_id}): it "
                "was changed outside the recorded history.",
            )
        else:
            continue
        found += 1
        if found >= report.KEEP:
            break
    report.fields = Field.objects.count()


def _changed_since(field_id: int, upto: int) -> bool:
    """Whether the field gained a revision after the cut (its value may be newer)."""
    return FieldRevision.objects.filter(field_id=field_id, audit_sequence__gt=upto).exists()


def history_verify(
    *, chunk_size: int = 5000, progress: Progress | None = None, workers: int = 1
) -> VerificationReport:
    """Verify the whole history; never stops early, so the report counts every row checked.
    ``workers`` > 1 reads the trail in that many processes at once (``_trail_in_processes``)."""
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
    # The fields' checks run in the database, quickly: progress counts events.
    if workers > 1 and upto >= 2 * chunk_size:
        _trail_in_processes(
            report=report,
            upto=upto,
            seal=seal,
            chunk_size=chunk_size,
            workers=workers,
            progress=progress,
        )
    else:

        def events_done(done: int) -> None:
            if progress is not None:
                progress(done, upto)

        trail_verify(
            report=report,
            upto=upto,
            seal=seal,
            checker=RevisionBinding(report, upto=upto, chunk_size=chunk_size),
            chunk_size=chunk_size,
            progress=events_done,
        )
    seal_tail_verify(report=report, seal=seal)
    unbound_verify(report=report)
    fields_verify(report=report, upto=upto)
    return report


def _verify_range(number: int, start: int, upto: int, seal, chunk_size: int, counter, results):
    """One process's share of the trail (events ``start``..``upto``) on its own connection;
    puts ``(number, report, error)`` on ``results``."""
    report = VerificationReport()

    def done(events: int) -> None:
        counter.value = events

    try:
        trail_verify(
            report=report,
            upto=upto,
            seal=seal,
            checker=RevisionBinding(report, start=start, upto=upto, chunk_size=chunk_size),
            chunk_size=chunk_size,
            progress=done,
            start=start,
        )
        results.put((number, report, ""))
    except Exception as error:  # noqa: BLE001 - handed to the parent, which raises it
        results.put((number, None, repr(error)))
    finally:
        connection.close()


def _trail_in_processes(
    *,
    report: VerificationReport,
    upto: int,
    seal: Seal | None,
    chunk_size: int,
    workers: int,
    progress: Progress | None,
) -> None:
    """Split the trail into ``workers`` consecutive ranges, each checked by its own forked
    process on its own database connection; their reports join in range order, so the first
    problem is the one a single pass would find first. For the command line: a Celery worker's
    processes may not start processes of their own."""
    bounds = [1 + upto * n // workers for n in range(workers)] + [upto + 1]
    context = multiprocessing.get_context("fork")
    counters = [context.Value("q", 0) for _ in range(workers)]
    results = context.Queue()
    # A forked child must not share the parent's open connection.
    connections.close_all()
    processes = [
        context.Process(
            target=_verify_range,
            args=(n, bounds[n], bounds[n + 1] - 1, seal, chunk_size, counters[n], results),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    reports: dict[int, VerificationReport] = {}
    errors = []
    quiet_rounds = 0
    while len(reports) + len(errors) < workers:
        try:
            number, part, error = results.get(timeout=0.5)
        except queue.Empty:
            # Every child puts its result before it exits; once all have exited, give what
            # they put a moment to arrive, then count the missing ones as dead.
            if not any(process.is_alive() for process in processes):
                quiet_rounds += 1
                if quiet_rounds > 4:
                    errors.append("a verification process died")
        else:
            if part is None:
                errors.append(error)
            else:
                reports[number] = part
        if progress is not None:
            progress(sum(counter.value for counter in counters), upto)
    for process in processes:
        process.join()
    if errors:
        raise RuntimeError(f"The verification failed: {errors[0]}")
    for number in range(workers):
        report.merge(reports[number])
