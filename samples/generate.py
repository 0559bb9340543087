"""Realistic sample documents for the demo and for measuring extraction, with their answers.

Every document belongs to one demo applicant, Jordan A. Rivera of Northwind Logistics LLC, and
they agree with each other: the pay stubs' net pay arrives in the bank statement, the W-2 adds up
a year of the same payroll. Each ``<name>.pdf`` or ``<name>.png`` has a ``<name>.expected.json``
beside it holding the values in their normalized form. The output depends only on the seed.

    python -m samples.generate OUTDIR [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from .bank_statement import (
    PERIOD,
    bank_statement_expected,
    bank_statement_pdf,
    january_transactions,
)
from .payroll import FIRST_PERIOD_START, pay_stub_expected, pay_stub_pdf, payroll
from .scan import scanned_png
from .utility_bill import EnergyBill, utility_bill_expected, utility_bill_pdf
from .w2 import w2_expected, w2_pdf, wage_statement

# The newest date the samples were first written with: the utility bill's.
NEWEST = date(2026, 2, 3)


def sample_shift(today: date | None) -> tuple[timedelta, int]:
    """How far to move the samples so that they look recent on ``today``: whole weeks (pay
    days stay Fridays) that bring the utility bill to the last seven days, the pay stubs to
    4-10 days ago and the statement's month to just before; the W-2 moves by whole years, to
    the year before. None keeps the dates as first written (tests and measurements)."""
    if today is None:
        return timedelta(0), 0
    shift = timedelta(weeks=(today - NEWEST).days // 7)
    return shift, (NEWEST + shift).year - NEWEST.year


def generate_samples(out_dir: Path, seed: int = 7, *, today: date | None = None) -> list[Path]:
    """Write the sample documents and their expected values; returns the documents' paths.

    With ``today`` (the demo), the documents are dated relative to it (``sample_shift``) and
    named by their new dates; the values otherwise depend only on the seed."""
    shift, years = sample_shift(today)
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by design
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ssn = f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
    ein = f"{rng.randint(10, 98)}-{rng.randint(1000000, 9999999)}"
    employee_id = f"{rng.randint(1000, 99999):06d}"

    year_2025 = payroll(rng, date(2024 + years, 12, 19), 26)
    year_2026 = payroll(rng, FIRST_PERIOD_START + shift, 2)
    december = EnergyBill(
        date(2025, 12, 30) + shift, date(2026, 1, 20) + shift, rng.randint(550, 950)
    )
    opening = Decimal(rng.randint(250000, 420000)) / 100
    transactions = january_transactions(rng, year_2026, december.amount, shift)
    february = EnergyBill(NEWEST + shift, date(2026, 2, 24) + shift, rng.randint(550, 950))
    w2 = wage_statement(year_2025, ssn=ssn, ein=ein)
    statement_end = PERIOD[1] + shift

    documents: list[tuple[str, str, bytes, dict]] = [
        (
            f"pay_stub_{year_2026[-1].pay_date.isoformat()}",
            "pdf",
            pay_stub_pdf(year_2026, employee_id=employee_id, ssn_last4=ssn[-4:]),
            pay_stub_expected(year_2026),
        ),
        (
            f"bank_statement_{statement_end:%Y-%m}",
            "pdf",
            bank_statement_pdf(opening, transactions, shift),
            bank_statement_expected(opening, transactions, shift),
        ),
        (f"w2_{w2.year}", "pdf", w2_pdf(w2), w2_expected(w2)),
        (
            f"utility_bill_{february.bill_date:%Y-%m}",
            "pdf",
            utility_bill_pdf(february),
            utility_bill_expected(february),
        ),
    ]
    first_stub = pay_stub_pdf(year_2026[:1], employee_id=employee_id, ssn_last4=ssn[-4:])
    documents.append(
        (
            f"pay_stub_{year_2026[0].pay_date.isoformat()}_scan",
            "png",
            scanned_png(first_stub, rng),
            pay_stub_expected(year_2026[:1]),
        )
    )

    paths = []
    for name, extension, content, expected in documents:
        path = out_dir / f"{name}.{extension}"
        path.write_bytes(content)
        expected_path = out_dir / f"{name}.expected.json"
        expected_path.write_text(json.dumps(expected, indent=2) + "\n")
        paths.append(path)
    return paths


def expected_path(document: Path) -> Path:
    return document.with_name(document.name.rsplit(".", 1)[0] + ".expected.json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the sample documents and their answers.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for path in generate_samples(args.out_dir, seed=args.seed):
        print(path)  # noqa: T201 - the command's output is the list of files


if __name__ == "__main__":
    main()
