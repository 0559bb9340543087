"""Varied checking statements: a ledger with separate columns or one signed amount column,
one to three pages of transactions, and a summary that adds up unless tampered with."""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import people
from .sheet import INJECTIONS, Generated, Sheet, injection_text
from .styles import draw_style, wording

LAYOUTS = ("ledger", "signed")
ROWS_PER_PAGE = 22
OPENING_LABELS = ("Opening Balance", "Beginning Balance", "Previous Balance")
CLOSING_LABELS = ("Closing Balance", "Ending Balance", "New Balance")
DEPOSIT_LABELS = ("Deposits and Other Credits", "Total Deposits", "Deposits and Additions")
WITHDRAWAL_LABELS = ("Withdrawals and Other Debits", "Total Withdrawals", "Total Debits")
HOLDER_LABELS = ("Account Holder", "Account Owner", "Prepared for")
NUMBER_LABELS = ("Account Number", "Account #", "Acct No.")
PERIOD_LABELS = ("Statement Period", "For the period", "Statement Dates")
MERCHANTS = (
    ("POS PURCHASE KROGER #0512", 30, 160), ("RECURRING CARD NETFLIX.COM", 15, 16),
    ("POS PURCHASE SHELL OIL 57442", 25, 70), ("ATM WITHDRAWAL 1200 N HIGH ST", 40, 200),
    ("ACH DEBIT STATE FARM INSURANCE", 90, 180), ("POS PURCHASE TARGET T-1187", 15, 120),
    ("VENMO PAYMENT 1029384756", 10, 90), ("ACH DEBIT SPECTRUM INTERNET", 60, 90),
    ("POS PURCHASE HOME DEPOT 3802", 20, 240), ("ONLINE TRANSFER TO SAVINGS", 50, 400),
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    day: date
    description: str
    amount: Decimal  # deposits positive, withdrawals negative


def _rows(
    rng: random.Random, start: date, end: date, employer: str, count: int | None = None
) -> list[Row]:
    days = (end - start).days
    rows = [
        Row(
            start.replace(day=rng.randint(1, 5)),
            "ACH DEBIT RENT PAYMENT",
            -Decimal(rng.randint(900, 2200)),
        )  # fmt: skip
    ]
    for payday in (rng.randint(1, 14), rng.randint(15, days)):
        rows.append(Row(start.replace(day=payday), f"DIRECT DEPOSIT {employer.upper()} PAYROLL",
                        Decimal(rng.randint(120000, 390000)) / 100))  # fmt: skip
    for _ in range(rng.randint(5, 48) if count is None else max(count - len(rows), 0)):
        description, low, high = rng.choice(MERCHANTS)
        amount = -Decimal(rng.randint(low * 100, high * 100)) / 100
        rows.append(Row(start.replace(day=rng.randint(1, days + 1)), description, amount))
    return sorted(rows, key=lambda r: (r.day, r.description))


def generate(
    rng: random.Random,
    *,
    inject: bool,
    tamper: bool,
    rows: int | None = None,
    rows_per_page: int = ROWS_PER_PAGE,
) -> Generated:
    """One statement; ``rows`` and ``rows_per_page`` make a long one (the benchmarks' 50 pages
    of 1,500 rows) and leave the corpus's own draws alone when not given."""
    style = draw_style(rng)
    layout = rng.choice(LAYOUTS)
    holder, company = people.person(rng), people.employer(rng)
    bank = people.business(rng, people.BANK_NAMES)
    year, month = rng.choice((2025, 2026)), rng.randint(1, 12)
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    count = rows
    rows = _rows(rng, start, end, company.name.split()[0], count)
    opening = Decimal(rng.randint(10000, 900000)) / 100
    deposits = sum((r.amount for r in rows if r.amount > 0), Decimal("0"))
    withdrawals = -sum((r.amount for r in rows if r.amount < 0), Decimal("0"))
    closing = opening + deposits - withdrawals
    labels: list[str] = []
    notes: dict = {}
    printed_closing = closing
    if tamper:
        printed_closing = closing + Decimal(rng.choice(("1000.00", "2500.00", "400.00")))
        labels.append("tampered_arithmetic")
        notes["tampered"] = {"field": "closing_balance", "printed": f"{printed_closing:.2f}",
                             "computed": f"{closing:.2f}"}  # fmt: skip
    account = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice((10, 12))))
    grouped = " ".join(account[i : i + 4] for i in range(0, len(account), 4))
    m, d = style.money, style.date
    short_dates = rng.random() < 0.6
    show_totals = rng.random() > 0.2
    text = {
        "opening": wording(rng, OPENING_LABELS),
        "closing": wording(rng, CLOSING_LABELS),
        "deposits": wording(rng, DEPOSIT_LABELS),
        "withdrawals": wording(rng, WITHDRAWAL_LABELS),
        "holder": wording(rng, HOLDER_LABELS),
        "number": wording(rng, NUMBER_LABELS),
        "period": wording(rng, PERIOD_LABELS),
    }
    pages = [rows[i : i + rows_per_page] for i in range(0, len(rows), rows_per_page)]
    pdf = Sheet(style)
    balance = opening
    for page_number, page_rows in enumerate(pages, start=1):
        pdf.add_page()
        pdf.put(15, 15, bank.name, size=15, bold=True)
        pdf.put(15, 22, f"Member FDIC  |  {bank.street}, {bank.city_line}", size=8)
        pdf.put(120, 22, f"Page {page_number} of {len(pages)}", size=8, width=80.9, align="R")
        pdf.rule(27)
        y = 32.0
        if page_number == 1:
            for offset, line in enumerate((holder.name.upper(), holder.street, holder.city_line)):
                pdf.put(15, y + 5 * offset, line)
            header = [
                f"{text['period']}: {d(start)} - {d(end)}",
                f"{text['holder']}: {holder.name}",
                f"{text['number']}: {grouped}",
            ]
            rng.shuffle(header)
            for offset, line in enumerate(header):
                pdf.put(105, y + 5 * offset, line)
            y += 22
            pdf.band(y)
            pdf.put(17, y, "Account Summary", bold=True)
            y += 8
            summary = [(text["opening"], m(opening))]
            if show_totals:
                summary += [(text["deposits"], m(deposits)), (text["withdrawals"], m(withdrawals))]
            summary.append((text["closing"], m(printed_closing)))
            for label, amount in summary:
                pdf.put(17, y, label)
                pdf.put(110, y, amount, width=40, align="R")
                y += 6
            y += 6
        pdf.band(y)
        pdf.put(17, y, "Transactions" + (" (continued)" if page_number > 1 else ""), bold=True)
        y += 8
        pdf.put(17, y, "Date", bold=True)
        pdf.put(40, y, "Description", bold=True)
        if layout == "ledger":
            pdf.put(120, y, "Withdrawals", bold=True, width=25, align="R")
            pdf.put(148, y, "Deposits", bold=True, width=25, align="R")
        else:
            pdf.put(134, y, "Amount", bold=True, width=25, align="R")
        pdf.put(176, y, "Balance", bold=True, width=24, align="R")
        y += 6
        for row in page_rows:
            balance += row.amount
            pdf.put(17, y, f"{row.day:%m/%d}" if short_dates else f"{row.day:%m/%d/%Y}", size=8)
            pdf.put(40, y, row.description, size=8)
            if layout == "ledger":
                column = 120 if row.amount < 0 else 148
                pdf.put(column, y, f"{abs(row.amount):,.2f}", size=8, width=25, align="R")
            else:
                pdf.put(134, y, f"{row.amount:,.2f}", size=8, width=25, align="R")
            pdf.put(176, y, f"{balance:,.2f}", size=8, width=24, align="R")
            y += 5.5
        if page_number == len(pages) and inject:
            template = rng.choice(INJECTIONS)
            pdf.put(15, y + 8, injection_text(template, "closing balance"), size=7)
            labels.append("injection")
            notes["injection"] = injection_text(template, "closing balance")
    fields = {
        "account_holder": holder.name,
        "bank_name": bank.name,
        "account_number": account,
        "statement_start": start.isoformat(),
        "statement_end": end.isoformat(),
        "opening_balance": f"{opening:.2f}",
        "total_deposits": f"{deposits:.2f}" if show_totals else None,
        "total_withdrawals": f"{withdrawals:.2f}" if show_totals else None,
        "closing_balance": f"{printed_closing:.2f}",
        "transactions": [
            {"date": r.day.isoformat(), "description": r.description, "amount": f"{r.amount:.2f}"}
            for r in rows
        ],
    }
    return Generated("bank_statement", bytes(pdf.output()), fields, layout, style, labels, notes)
