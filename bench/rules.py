"""Cost of the rule engine: the built-in pack on one application, and a back-test at scale.

Builds its data in a fresh test database (SQLite by default; PostgreSQL when DATABASE_URL
points at one, as `test_<name>`), with bulk_create, and prints a Markdown table.

    .venv/bin/python -m bench.rules [--applications 10000] [--repeat 20]
    DATABASE_URL=postgres://user:pass@127.0.0.1:5432/attest .venv/bin/python -m bench.rules
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from applications.models import Application, new_reference  # noqa: E402
from bench.database import throwaway_database  # noqa: E402
from core.models import Job  # noqa: E402
from extraction.catalog import document_types_sync, shipped_document_types  # noqa: E402
from extraction.models import Document, Field, Page  # noqa: E402
from extraction.normalize import normalize  # noqa: E402
from rules.context import context_build  # noqa: E402
from rules.evaluation import RuleSpec, findings_evaluate, placeholders  # noqa: E402
from rules.jobs import rule_reevaluate_run  # noqa: E402
from rules.models import Rule  # noqa: E402
from rules.selectors import REEVALUATE_JOB, rule_backtest  # noqa: E402
from rules.services import _enabled_specs, flags_refresh, rules_sync  # noqa: E402
from rules.typecheck import check_rule_types, variables_for  # noqa: E402

TEXT = (
    "EARNINGS STATEMENT Northwind Logistics LLC Employee Jordan A. Rivera Pay period "
    "Gross pay 2,600.00 Deductions 612.40 Net pay 1,987.60 Year to date 52,000.00 " * 20
)


def _day(days_ago: int) -> str:
    return (timezone.now().date() - timedelta(days=days_ago)).isoformat()


def _values(type_key: str, rng: random.Random) -> dict[str, str]:
    gross = rng.choice([2600.0, 2600.0, 2600.0, 3100.0])
    net = gross - 612.40 if rng.random() > 0.02 else gross + 50
    return {
        "pay_stub": {
            "employee_name": "Jordan A. Rivera",
            "employer_name": "Northwind Logistics LLC",
            "pay_period_start": _day(24),
            "pay_period_end": _day(10),
            "pay_date": _day(rng.choice([5, 5, 5, 40])),
            "gross_pay": f"{gross:.2f}",
            "total_deductions": "612.40",
            "net_pay": f"{net:.2f}",
            "ytd_gross": "52000.00",
        },
        "bank_statement": {
            "account_holder": "Jordan Rivera",
            "bank_name": "First Community Bank",
            "account_number": "****1234",
            "statement_start": _day(40),
            "statement_end": _day(10),
            "opening_balance": "1000.00",
            "total_deposits": "5200.00",
            "total_withdrawals": "4000.00",
            "closing_balance": "2200.00",
        },
        "w2": {
            "tax_year": "2025",
            "employee_name": "Jordan Rivera",
            "employee_ssn": "123-45-6789",
            "employer_name": "Northwind Logistics",
            "employer_ein": "12-3456789",
            "wages": "63000.00",
            "federal_tax_withheld": "8000.00",
        },
        "drivers_license": {
            "full_name": "Jordan A Rivera",
            "id_number": "D1234567",
            "date_of_birth": "1990-04-01",
            "expiration_date": _day(-365),
            "issuing_state": "CA",
        },
    }[type_key]


def build_applications(owner, types, layout: list[str], count: int, rng, batch=1000) -> None:
    """``count`` applications, each with one document per entry of ``layout`` (type keys)."""
    for start in range(0, count, batch):
        size = min(batch, count - start)
        applications = Application.objects.bulk_create(
            [
                Application(
                    owner=owner,
                    reference=new_reference(),
                    stated_name="Jordan Rivera",
                    stated_employer="Northwind Logistics",
                    stated_monthly_income=5200,
                    status=Application.Status.SUBMITTED,
                    submitted_at=timezone.now(),
                )
                for _ in range(size)
            ]
        )
        documents = Document.objects.bulk_create(
            [
                Document(
                    application=application,
                    uploaded_by=owner,
                    document_type=types[key],
                    original=f"bench/{application.pk}-{n}.pdf",
                    original_name=f"{key}.pdf",
                    media_type="application/pdf",
                    size=1000,
                    sha256=f"{application.pk:032x}{n:032x}",
                    page_count=1,
                    status=Document.Status.EXTRACTED,
                    metadata={"producer": "Payroll System 4.2", "creator": "Payroll"},
                )
                for application in applications
                for n, key in enumerate(layout)
            ]
        )
        Page.objects.bulk_create(
            [
                Page(document=d, number=1, image=f"bench/{d.pk}.png", width=1, height=1, text=TEXT)
                for d in documents
            ]
        )
        fields = []
        for document in documents:
            document_type = document.document_type
            values = _values(document_type.key, rng)
            for position, spec in enumerate(document_type.fields):
                value = values.get(spec["key"], "")
                kind = spec.get("kind", "text")
                fields.append(
                    Field(
                        document=document,
                        key=spec["key"],
                        label=spec["label"],
                        kind=kind,
                        required=spec.get("required", False),
                        position=position,
                        machine_value=value,
                        value=value,
                        normalized=normalize(kind, value) if value else "",
                        grounded=True,
                        status=Field.Status.CONFIRMED,
                    )
                )
        Field.objects.bulk_create(fields, batch_size=2000)


def median_ms(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with throwaway_database():
        run(args)


def run(args) -> None:
    from accounts.models import User

    rng = random.Random(7)
    owner = User.objects.create_user(email="bench@example.com", password=None)
    types = {t.key: t for t in document_types_sync()}
    rules_sync()
    specs = _enabled_specs()

    layout = ["pay_stub", "pay_stub", "bank_statement", "bank_statement", "w2", "drivers_license"]
    build_applications(owner, types, layout, 1, rng)
    one = Application.objects.latest("pk")
    context = context_build(one)
    rows = [
        (
            "pack: build context (6 documents, 44 fields)",
            median_ms(lambda: context_build(one), args.repeat),
        ),
        (
            f"pack: evaluate {len(specs)} rules",
            median_ms(lambda: findings_evaluate(specs, context), args.repeat),
        ),
        (
            "pack: flags_refresh end to end",
            median_ms(lambda: flags_refresh(application=one), args.repeat),
        ),
    ]

    started = time.perf_counter()
    build_applications(owner, types, ["pay_stub", "bank_statement"], args.applications, rng)
    built = time.perf_counter() - started
    spec = RuleSpec.from_version(Rule.objects.get(key="net_above_gross").current)
    result = rule_backtest(spec=spec, limit=args.applications)
    text_spec = RuleSpec.from_version(Rule.objects.get(key="ai_addressed_text").current)
    text_result = rule_backtest(spec=text_spec, limit=args.applications)

    # Type-checking the whole pack, expressions and message placeholders, as saving does.
    declared = {d["key"]: d for d in shipped_document_types()}

    def check_pack():
        for spec in specs:
            seen = variables_for(spec.scope, declared)
            check_rule_types(spec.expression, scope=spec.scope, types=declared, variables=seen)
            for source in placeholders(spec.message):
                check_rule_types(
                    source, scope=spec.scope, types=declared, boolean=False, variables=seen
                )

    rows.append(
        (
            f"type-check the pack ({len(specs)} rules with their messages)",
            median_ms(check_pack, args.repeat),
        )
    )

    # The re-check job body, in this process: one rule over every open application.
    job = Job.objects.create(
        kind=REEVALUATE_JOB, label="bench", arguments={"rule": "net_above_gross"}
    )
    started = time.perf_counter()
    rule_reevaluate_run(job_id=job.pk)
    recheck = time.perf_counter() - started
    job.refresh_from_db()

    vendor = connection.vendor
    print(f"Rule engine on {vendor}, Python {platform.python_version()}, {os.cpu_count()} CPUs\n")
    print("| measure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value:.2f} ms |")
    print(
        f"| build {args.applications:,} applications × 2 documents (bulk_create) | {built:.1f} s |"
    )
    for name, res in (
        ("net_above_gross", result),
        ("ai_addressed_text (reads page text)", text_result),
    ):
        per = res.seconds / max(res.checked, 1) * 1e6
        print(
            f"| back-test `{name}` over {res.checked:,} applications | {res.seconds:.1f} s "
            f"({per:.0f} µs each; flagged {res.flagged:,}) |"
        )
    checked = job.result.get("checked", 0)
    print(
        f"| re-check job `net_above_gross` over {checked:,} open applications | {recheck:.1f} s "
        f"({recheck / max(checked, 1) * 1000:.1f} ms each; {job.result.get('flagged', 0):,} "
        f"carry the flag; job {job.status}) |"
    )


if __name__ == "__main__":
    main()
