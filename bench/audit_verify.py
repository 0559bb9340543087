"""How long the full verification of the history takes (``manage.py verify_history``), and
whether its memory stays flat, at a given number of audit events.

Builds the history in a fresh test database (PostgreSQL when DATABASE_URL points at one, as
`test_<name>`; SQLite otherwise): one field per four events, each field read by the machine
and corrected once (two revisions bound to two field events), and two other events (flags,
claims) between them. MACs and hashes are computed in Python and the rows loaded with COPY
(PostgreSQL) or executemany (SQLite). Then it runs ``history_verify`` once and prints a
Markdown table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attest .venv/bin/python -m bench.audit_verify \
        --events 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from applications.models import Application, new_reference  # noqa: E402
from audit.models import AuditEvent, AuditHead  # noqa: E402
from audit.services import audit_key, payload_mac, seal_head  # noqa: E402
from bench.database import throwaway_database  # noqa: E402
from extraction.models import (  # noqa: E402
    Document,
    DocumentType,
    Field,
    FieldRevision,
    revision_hash,
)
from extraction.verification import history_verify  # noqa: E402

FIELDS_PER_DOCUMENT = 50
EVENT_COLUMNS = [
    "sequence",
    "created_at",
    "action",
    "actor_id",
    "role",
    "application_id",
    "subject_type",
    "subject_id",
    "data",
    "previous_mac",
    "mac",
]
REVISION_COLUMNS = [
    "field_id",
    "number",
    "value",
    "actor_id",
    "role",
    "action",
    "reason",
    "created_at",
    "previous_hash",
    "hash",
    "audit_sequence",
]


def _load(table: str, columns: list[str], rows: list[tuple]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(columns)
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            rows = [tuple(adapt(v) if hasattr(v, "tzinfo") else v for v in row) for row in rows]
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                rows,
            )


def _documents(count: int, owner: User) -> list[Document]:
    kind, _ = DocumentType.objects.get_or_create(key="pay_stub", defaults={"label": "Pay stub"})
    applications = Application.objects.bulk_create(
        [
            Application(
                owner=owner,
                reference=new_reference(),
                stated_name="Bench",
                status=Application.Status.SUBMITTED,
            )
            for _ in range(count)
        ],
        batch_size=2000,
    )
    return Document.objects.bulk_create(
        [
            Document(
                application=application,
                uploaded_by=owner,
                document_type=kind,
                original=f"bench/{application.pk}.pdf",
                original_name="pay_stub.pdf",
                media_type="application/pdf",
                size=1000,
                sha256=f"{application.pk:064x}",
                page_count=1,
                status=Document.Status.EXTRACTED,
            )
            for application in applications
        ],
        batch_size=2000,
    )


def build(events: int, batch: int = 20000) -> None:
    """``events`` audit events (a multiple of 4), ``events / 4`` fields and ``events / 2``
    revisions, chained and sealed exactly as the services would have written them."""
    key = audit_key()
    owner = User.objects.create_user(email="bench@example.com", password="!")  # noqa: S106
    fields_total = events // 4
    documents = _documents(max(1, -(-fields_total // FIELDS_PER_DOCUMENT)), owner)
    start = timezone.now() - timedelta(days=1)
    sequence, previous_mac = 0, ""

    def event(action, role, application_id, subject_id, data):
        nonlocal sequence, previous_mac
        sequence += 1
        linked = previous_mac
        columns = (
            sequence,
            start + timedelta(microseconds=sequence),
            action,
            None,
            role,
            application_id,
            "field" if subject_id else "",
            subject_id,
            data,
            linked,
        )
        previous_mac = payload_mac(*columns, key=key)
        return (*columns[:8], json.dumps(data), linked, previous_mac)

    made = 0
    while made < fields_total:
        size = min(batch, fields_total - made)
        new_fields = Field.objects.bulk_create(
            [
                Field(
                    document=documents[(made + n) // FIELDS_PER_DOCUMENT],
                    key=f"field_{(made + n) % FIELDS_PER_DOCUMENT}",
                    label="Field",
                    machine_value=f"{made + n}.00",
                    value=f"{made + n}.50",
                    status=Field.Status.CORRECTED,
                )
                for n in range(size)
            ],
            batch_size=5000,
        )
        event_rows, revision_rows = [], []
        for field in new_fields:
            application_id = documents[made // FIELDS_PER_DOCUMENT].application_id
            previous_hash = ""
            for number, (value, role, action) in enumerate(
                [
                    (field.machine_value, Role.MACHINE, "extracted"),
                    (field.value, Role.REVIEWER, "corrected"),
                ],
                start=1,
            ):
                created = start + timedelta(microseconds=sequence + 1)
                digest = revision_hash(
                    field.pk, number, value, None, role, action, "", created, previous_hash
                )
                data = {
                    "field": field.pk,
                    "key": field.key,
                    "revision": number,
                    "revision_hash": digest,
                    "reason": "",
                }
                event_rows.append(
                    event(f"field.{action}", role, application_id, str(field.pk), data)
                )
                revision_rows.append(
                    (
                        field.pk,
                        number,
                        value,
                        None,
                        role,
                        action,
                        "",
                        created,
                        previous_hash,
                        digest,
                        sequence,
                    )
                )
                previous_hash = digest
                event_rows.append(
                    event("flag.raised", Role.MACHINE, application_id, "", {"rule": "bench"})
                )
            made += 1
        _load(AuditEvent._meta.db_table, EVENT_COLUMNS, event_rows)
        _load(FieldRevision._meta.db_table, REVISION_COLUMNS, revision_rows)
    AuditHead.objects.update_or_create(pk=1, defaults={"sequence": sequence, "mac": previous_mac})
    seal_head()


def _rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _measured(workers: int, chunk_size: int):
    """One verification: (processes, report, seconds, CPU seconds, memory growth of this
    process in MiB;
    with several processes, each child's own stays as flat as this one's)."""
    baseline, peak = _rss_mib(), 0.0

    def progress(done: int, total: int) -> None:
        nonlocal peak
        peak = max(peak, _rss_mib() - baseline)

    started, cpu = time.perf_counter(), _cpu_seconds()
    report = history_verify(chunk_size=chunk_size, progress=progress, workers=workers)
    return workers, report, time.perf_counter() - started, _cpu_seconds() - cpu, peak


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (not the database server's)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    events = max(4, args.events - args.events % 4)
    settings.AUDIT_SEAL_PATH = Path(tempfile.mkdtemp(prefix="attest-bench-seal-")) / "seal.log"
    with throwaway_database():
        started = time.perf_counter()
        with transaction.atomic():
            build(events)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        built = time.perf_counter() - started
        results = [_measured(workers, args.chunk_size) for workers in args.workers]
    print(
        f"Database: {connection.vendor}; chunk size {args.chunk_size}; history built in "
        f"{built:.0f} s; {os.cpu_count()} cores.\n"
    )
    print(
        "| events | revisions | fields | processes | verify (s) | Python CPU (s) | events/s "
        "| memory growth (MiB) | intact |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for workers, report, seconds, cpu, peak in results:
        print(
            f"| {report.events:,} | {report.revisions:,} | {report.fields:,} | {workers} | "
            f"{seconds:.1f} | {cpu:.1f} | {report.events / seconds:,.0f} | {peak:.0f} | "
            f"{'yes' if report.ok else 'NO'} |"
        )
    print(f"\nLoad average while it ran: {os.getloadavg()[0]:.1f} (the machine is shared).")
    broken = [report for _, report, _, _, _ in results if not report.ok]
    if broken:
        print(f"\n{broken[0].summary()}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
