"""Verifying the audit trail: every event's MAC, the links between events, and the sealed head.

The trail is read once, in sequence order, in chunks (``iterator(chunk_size=...)``), so memory
stays flat whatever its length. Upper layers pass a ``checker`` that sees every event in the
same pass (``extraction.verification`` binds field revisions to their events this way) and
combine the result into one report (``VerificationReport``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from django.db.models import TextField
from django.db.models.functions import Cast

from .canonical import quick_load, quick_payload
from .models import AuditEvent
from .seal import Seal
from .services import MAC_COLUMNS, audit_key, payload_bytes

EVENTS = AuditEvent._meta.db_table


def as_text(columns) -> list:
    """The columns for ``values_list``, ``created_at`` and ``data`` read as the database's text:
    parsing them the ORM's way for every row would cost more than checking them
    (``audit.canonical``)."""
    return [
        Cast(column, output_field=TextField()) if column in ("created_at", "data") else column
        for column in columns
    ]


@dataclass(frozen=True)
class Problem:
    """What is wrong with one row: ``table`` and ``row_id`` name it (``row_id`` None for a
    problem with no row of its own, such as a missing trigger)."""

    table: str
    row_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.table} id={self.row_id}" if self.row_id is not None else self.table
        return f"{where}: {self.message}"


@dataclass
class VerificationReport:
    """The outcome of one full verification. ``problems`` keeps the first ``KEEP`` found, in
    the order found (sequence order, then field order); ``problem_count`` counts them all."""

    KEEP = 20

    events: int = 0
    revisions: int = 0
    fields: int = 0
    last_sequence: int = 0
    last_id: int | None = None
    sealed_sequence: int | None = None
    sealed_at: str = ""
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)

    def merge(self, other: VerificationReport) -> None:
        """Append the report of the next range of the trail to this one."""
        self.events += other.events
        self.revisions += other.revisions
        self.problem_count += other.problem_count
        self.problems = (self.problems + other.problems)[: self.KEEP]
        if other.last_id is not None:
            self.last_sequence, self.last_id = other.last_sequence, other.last_id

    def add(self, table: str, row_id: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.KEEP:
            self.problems.append(Problem(table, row_id, message))

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        """One plain sentence for people."""
        counted = (
            f"{self.events:,} events, {self.revisions:,} value revisions and "
            f"{self.fields:,} current values"
        )
        if self.ok:
            sealed = (
                f", up to the seal of event #{self.sealed_sequence} ({self.sealed_at})"
                if self.sealed_sequence
                else ""
            )
            return f"The whole history is intact: {counted} checked{sealed}."
        return (
            f"The history is broken: {self.problem_count:,} problem"
            f"{'s' if self.problem_count != 1 else ''} in {counted}. "
            f"First broken row: {self.first_problem}"
        )

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "events": self.events,
            "revisions": self.revisions,
            "fields": self.fields,
            "last_sequence": self.last_sequence,
            "sealed_sequence": self.sealed_sequence,
            "problem_count": self.problem_count,
            "problems": [
                {"table": p.table, "row_id": p.row_id, "message": p.message} for p in self.problems
            ],
        }


class EventChecker(Protocol):
    """Sees every event of the trail in sequence order, in the same pass."""

    def event(self, *, event_id: int, sequence: int, action: str, data: dict) -> None: ...

    def finish(self) -> None: ...


Progress = Callable[[int], None]


def trail_verify(
    *,
    report: VerificationReport,
    upto: int,
    seal: Seal | None,
    checker: EventChecker | None = None,
    chunk_size: int = 5000,
    progress: Progress | None = None,
    start: int = 1,
) -> None:
    """Check events #``start``..``upto``: numbered without gaps, each linking to the MAC of the
    one before (for ``start`` > 1, the last event before the range, whose own check belongs to
    whoever checks that range: the same problems, at the same rows, as one pass over all),
    each MAC recomputed with the key, and the sealed
    checkpoint, when in range, present with its MAC. Problems go to ``report``, which also gets
    the last event's sequence and id (``last_sequence``, ``last_id``); ``progress(n)`` is called
    with the events read so far, once per chunk. Whether events after ``upto`` were deleted is
    the caller's to ask (``seal_tail_verify``)."""
    keyed = hmac.new(audit_key(), digestmod=hashlib.sha256)

    def mac_of(payload: bytes) -> str:
        digest = keyed.copy()
        digest.update(payload)
        return digest.hexdigest()

    rows = (
        AuditEvent.objects.filter(sequence__gte=start, sequence__lte=upto)
        .order_by("sequence")
        .values_list("id", "mac", *as_text(MAC_COLUMNS))
        .iterator(chunk_size=chunk_size)
    )
    expected, previous_mac, last_id = 1, "", None
    if start > 1:
        # Link on from the last event before the range, as a single pass would.
        before = (
            AuditEvent.objects.filter(sequence__lt=start)
            .order_by("-sequence")
            .values_list("sequence", "mac")
            .first()
        )
        if before is not None:
            expected, previous_mac = before[0] + 1, before[1]
    for event_id, mac, *columns in rows:
        text = columns[8]
        columns[8] = data = quick_load(text)
        quick = quick_payload(*columns) if data is not None else None
        if quick is None or mac_of(quick) != mac:
            # The canonical way: what the MAC was computed over when the event was written.
            columns[8] = data = json.loads(text)
            quick = None
        sequence, action, linked = columns[0], columns[2], columns[9]
        if sequence != expected:
            gap = (
                f"event #{expected} is"
                if sequence == expected + 1
                else f"events #{expected} to #{sequence - 1} are"
            )
            report.add(
                EVENTS,
                event_id,
                f"event #{sequence} comes after #{expected - 1}: {gap} missing (deleted).",
            )
        elif not hmac.compare_digest(linked, previous_mac):
            report.add(
                EVENTS,
                event_id,
                f"event #{sequence} does not link to the MAC of event #{sequence - 1}: "
                "the chain was cut or rewritten here.",
            )
        if quick is None and mac_of(payload_bytes(*columns)) != mac:
            report.add(
                EVENTS,
                event_id,
                f"event #{sequence} ({action}): its MAC does not match its content under the "
                "audit key: the row was changed (or its MAC recomputed without the key).",
            )
        if seal is not None and sequence == seal.sequence and mac != seal.mac:
            report.add(
                EVENTS,
                event_id,
                f"event #{sequence} differs from the one sealed at {seal.sealed_at}: the chain "
                "was rewritten up to here.",
            )
        if checker is not None:
            checker.event(event_id=event_id, sequence=sequence, action=action, data=data)
        previous_mac, expected, last_id = mac, sequence + 1, event_id
        report.events += 1
        if progress is not None and report.events % chunk_size == 0:
            progress(report.events)
    if checker is not None:
        checker.finish()
    report.last_sequence, report.last_id = expected - 1, last_id
    if progress is not None:
        progress(report.events)


def seal_tail_verify(*, report: VerificationReport, seal: Seal | None) -> None:
    """After the whole trail was read: the sealed event must not be past its end."""
    if seal is None:
        return
    report.sealed_sequence, report.sealed_at = seal.sequence, seal.sealed_at
    if seal.sequence > report.last_sequence:
        report.add(
            EVENTS,
            report.last_id,
            f"the trail ends at event #{report.last_sequence}, but event #{seal.sequence} "
            f"was sealed at {seal.sealed_at}: the newest events were deleted.",
        )
