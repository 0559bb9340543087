"""A two-page checking statement in which the pay stubs' net pay arrives."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .layout import (
    APPLICANT,
    APPLICANT_CITY,
    APPLICANT_STREET,
    BANK,
    SamplePage,
    long_date,
    money,
    us_date,
)
from .payroll import Paycheck

ZERO = timedelta(0)


@dataclass(frozen=True)
class Transaction:
    day: date
    description: str
    amount: Decimal  # positive for deposits, negative for withdrawals


# The statement's month as first written; ``shift`` moves every date by whole weeks.
PERIOD = (date(2026, 1, 1), date(2026, 1, 31))


def january_transactions(
    rng: random.Random, checks: list[Paycheck], power_bill: Decimal, shift: timedelta = ZERO
):
    def spend(low: int, high: int) -> Decimal:
        return -Decimal(rng.randint(low * 100, high * 100)) / 100

    items = [
        Transaction(
            date(2026, 1, 2) + shift, "ACH DEBIT COLUMBUS PROPERTY MGMT RENT", Decimal("-1450.00")
        ),
        Transaction(
            date(2026, 1, 3) + shift, "POS PURCHASE KROGER #0512 COLUMBUS OH", spend(60, 140)
        ),
        Transaction(date(2026, 1, 5) + shift, "RECURRING CARD NETFLIX.COM", Decimal("-15.49")),
        Transaction(
            date(2026, 1, 6) + shift, "POS PURCHASE SHELL OIL 57442 COLUMBUS OH", spend(30, 55)
        ),
        Transaction(date(2026, 1, 8) + shift, "ACH DEBIT EVERGREEN POWER & LIGHT", -power_bill),
        Transaction(
            date(2026, 1, 9) + shift, "POS PURCHASE TARGET T-1187 COLUMBUS OH", spend(25, 90)
        ),
        Transaction(date(2026, 1, 10) + shift, "ATM WITHDRAWAL 1200 N HIGH ST", Decimal("-60.00")),
        Transaction(
            date(2026, 1, 12) + shift, "POS PURCHASE KROGER #0512 COLUMBUS OH", spend(60, 140)
        ),
        Transaction(
            date(2026, 1, 13) + shift, "ONLINE TRANSFER TO SAVINGS XXXX7730", Decimal("-200.00")
        ),
        Transaction(
            date(2026, 1, 14) + shift, "ACH DEBIT STATE FARM INSURANCE", Decimal("-128.40")
        ),
        Transaction(
            date(2026, 1, 15) + shift, "POS PURCHASE CHIPOTLE 2231 COLUMBUS OH", spend(10, 25)
        ),
    ]
    items += [
        Transaction(c.pay_date, "DIRECT DEPOSIT NORTHWIND LOGISTICS PAYROLL", c.net) for c in checks
    ]
    items += [
        Transaction(
            date(2026, 1, 19) + shift, "POS PURCHASE SHELL OIL 57442 COLUMBUS OH", spend(30, 55)
        ),
        Transaction(date(2026, 1, 20) + shift, "ACH DEBIT SPECTRUM INTERNET", Decimal("-79.99")),
        Transaction(
            date(2026, 1, 21) + shift, "POS PURCHASE KROGER #0512 COLUMBUS OH", spend(60, 140)
        ),
        Transaction(date(2026, 1, 22) + shift, "VENMO PAYMENT 1029384756", spend(20, 80)),
        Transaction(
            date(2026, 1, 24) + shift, "POS PURCHASE HOME DEPOT 3802 COLUMBUS OH", spend(20, 120)
        ),
        Transaction(date(2026, 1, 26) + shift, "ACH DEBIT AT&T WIRELESS", Decimal("-65.00")),
        Transaction(
            date(2026, 1, 27) + shift, "POS PURCHASE KROGER #0512 COLUMBUS OH", spend(60, 140)
        ),
        Transaction(date(2026, 1, 28) + shift, "ZELLE FROM M RIVERA", Decimal("150.00")),
        Transaction(
            date(2026, 1, 29) + shift, "POS PURCHASE PANERA BREAD 601 COLUMBUS OH", spend(10, 25)
        ),
        Transaction(date(2026, 1, 31) + shift, "INTEREST PAYMENT", Decimal("0.42")),
    ]
    return sorted(items, key=lambda t: t.day)


def bank_statement_pdf(
    opening: Decimal, transactions: list[Transaction], shift: timedelta = ZERO
) -> bytes:
    start, end = PERIOD[0] + shift, PERIOD[1] + shift
    deposits = sum((t.amount for t in transactions if t.amount > 0), Decimal("0"))
    withdrawals = -sum((t.amount for t in transactions if t.amount < 0), Decimal("0"))
    closing = opening + deposits - withdrawals
    pdf = SamplePage()
    pages = [transactions[:16], transactions[16:]]

    for page_number, rows in enumerate(pages, start=1):
        pdf.add_page()
        pdf.text_at(15, 15, BANK, size=16, style="B")
        pdf.text_at(
            15, 22, "Member FDIC  |  PO Box 4410, Cleveland, OH 44101  |  1-800-555-0199", size=8
        )
        pdf.text_at(120, 15, "Everyday Checking", size=11, style="B", width=80.9, align="R")
        pdf.text_at(120, 22, f"Page {page_number} of {len(pages)}", size=8, width=80.9, align="R")
        pdf.rule(27)
        y = 32
        if page_number == 1:
            pdf.text_at(15, y, APPLICANT.upper())
            pdf.text_at(15, y + 5, APPLICANT_STREET.upper())
            pdf.text_at(15, y + 10, APPLICANT_CITY.upper())
            pdf.text_at(
                105,
                y,
                f"Statement period: {long_date(start)} through {long_date(end)}",
            )
            pdf.text_at(105, y + 5, f"Account holder: {APPLICANT}")
            pdf.text_at(105, y + 10, "Account number: 4417 0093 2281")
            y += 22
            pdf.set_fill_color(230, 230, 230)
            pdf.rect(15, y - 1.5, 185.9, 7, style="F")
            pdf.text_at(17, y, "Account summary", style="B")
            y += 8
            summary = [
                (f"Opening balance on {long_date(start)}", f"${money(opening)}"),
                ("Deposits and other credits", money(deposits)),
                ("Withdrawals and other debits", money(withdrawals)),
                (f"Closing balance on {long_date(end)}", f"${money(closing)}"),
            ]
            for label, amount in summary:
                pdf.text_at(17, y, label)
                pdf.text_at(120, y, amount, width=30, align="R")
                y += 6
            y += 6
        else:
            pdf.text_at(
                15,
                y,
                f"{APPLICANT}  |  Account ending in 2281  |  {us_date(start)} - {us_date(end)}",
                size=8,
            )
            y += 8

        pdf.set_fill_color(230, 230, 230)
        pdf.rect(15, y - 1.5, 185.9, 7, style="F")
        pdf.text_at(17, y, "Transactions" + (" (continued)" if page_number > 1 else ""), style="B")
        y += 8
        pdf.text_at(17, y, "Date", style="B")
        pdf.text_at(35, y, "Description", style="B")
        pdf.text_at(120, y, "Withdrawals", style="B", width=25, align="R")
        pdf.text_at(148, y, "Deposits", style="B", width=25, align="R")
        pdf.text_at(176, y, "Balance", style="B", width=24, align="R")
        y += 6
        balance = opening + sum(
            (t.amount for t in transactions[: transactions.index(rows[0])]), Decimal("0")
        )
        if page_number == 1:
            pdf.text_at(17, y, f"{start:%m/%d}")
            pdf.text_at(35, y, "Beginning balance")
            pdf.text_at(176, y, money(balance), width=24, align="R")
            y += 6
        for transaction in rows:
            balance += transaction.amount
            pdf.text_at(17, y, f"{transaction.day:%m/%d}")
            pdf.text_at(35, y, transaction.description)
            column = 120 if transaction.amount < 0 else 148
            pdf.text_at(column, y, money(abs(transaction.amount)), width=25, align="R")
            pdf.text_at(176, y, money(balance), width=24, align="R")
            y += 6
        if page_number == len(pages):
            pdf.rule(y - 1)
            pdf.text_at(35, y + 1, "Ending balance", style="B")
            pdf.text_at(176, y + 1, money(closing), width=24, align="R", style="B")
            pdf.text_at(15, y + 14, "Questions about your account? Call 1-800-555-0199.", size=8)
    return bytes(pdf.output())


def bank_statement_expected(
    opening: Decimal, transactions: list[Transaction], shift: timedelta = ZERO
) -> dict:
    deposits = sum((t.amount for t in transactions if t.amount > 0), Decimal("0"))
    withdrawals = -sum((t.amount for t in transactions if t.amount < 0), Decimal("0"))
    return {
        "document_type": "bank_statement",
        "fields": {
            "account_holder": APPLICANT,
            "bank_name": BANK,
            "account_number": "441700932281",
            "statement_start": (PERIOD[0] + shift).isoformat(),
            "statement_end": (PERIOD[1] + shift).isoformat(),
            "opening_balance": f"{opening:.2f}",
            "total_deposits": f"{deposits:.2f}",
            "total_withdrawals": f"{withdrawals:.2f}",
            "closing_balance": f"{opening + deposits - withdrawals:.2f}",
            # Normalized rows: ISO dates, signed amounts (withdrawals negative).
            "transactions": [
                {
                    "date": t.day.isoformat(),
                    "description": t.description,
                    "amount": f"{t.amount:.2f}",
                }
                for t in transactions
            ],
        },
    }
