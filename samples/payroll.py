"""The demo applicant's payroll and pay stubs: every amount computed, so the stub adds up."""

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
    EMPLOYER,
    EMPLOYER_CITY,
    EMPLOYER_STREET,
    SamplePage,
    cents,
    money,
    us_date,
)

# Biweekly payroll: the first period of 2026 starts on New Year's Day, paid two days after it ends.
FIRST_PERIOD_START = date(2026, 1, 1)
HOURLY_RATE = Decimal("28.50")
# Time and a half; with this rate the overtime rate is whole cents, so the stub adds up.
OVERTIME_RATE = HOURLY_RATE * Decimal("1.5")
REGULAR_HOURS = Decimal("80.00")


@dataclass(frozen=True)
class Paycheck:
    start: date
    end: date
    pay_date: date
    overtime_hours: Decimal
    regular: Decimal
    overtime: Decimal
    federal: Decimal
    state: Decimal
    social_security: Decimal
    medicare: Decimal
    retirement: Decimal

    @property
    def gross(self) -> Decimal:
        return self.regular + self.overtime

    @property
    def deductions(self) -> tuple[tuple[str, Decimal], ...]:
        return (
            ("Federal Income Tax", self.federal),
            ("OH State Income Tax", self.state),
            ("Social Security", self.social_security),
            ("Medicare", self.medicare),
            ("401(k) Pre-Tax", self.retirement),
        )

    @property
    def total_deductions(self) -> Decimal:
        return sum((amount for _, amount in self.deductions), Decimal("0"))

    @property
    def net(self) -> Decimal:
        return self.gross - self.total_deductions


def paycheck(rng: random.Random, start: date) -> Paycheck:
    overtime_hours = Decimal(rng.choice(["0.00", "2.00", "3.50", "4.00", "5.50", "6.00"]))
    regular = cents(HOURLY_RATE * REGULAR_HOURS)
    overtime = cents(OVERTIME_RATE * overtime_hours)
    gross = regular + overtime
    retirement = cents(gross * Decimal("0.05"))
    taxable = gross - retirement
    return Paycheck(
        start=start,
        end=start + timedelta(days=13),
        pay_date=start + timedelta(days=15),
        overtime_hours=overtime_hours,
        regular=regular,
        overtime=overtime,
        federal=cents(taxable * Decimal("0.108")),
        state=cents(taxable * Decimal("0.0275")),
        social_security=cents(gross * Decimal("0.062")),
        medicare=cents(gross * Decimal("0.0145")),
        retirement=retirement,
    )


def payroll(rng: random.Random, first_start: date, count: int) -> list[Paycheck]:
    return [paycheck(rng, first_start + timedelta(days=14 * i)) for i in range(count)]


def pay_stub_pdf(checks: list[Paycheck], *, employee_id: str, ssn_last4: str) -> bytes:
    """The last check of ``checks`` as an earnings statement; the earlier ones make up YTD."""
    current = checks[-1]
    ytd = [c for c in checks if c.pay_date.year == current.pay_date.year]

    def ytd_sum(attribute: str) -> Decimal:
        return sum((getattr(c, attribute) for c in ytd), Decimal("0"))

    pdf = SamplePage()
    pdf.add_page()
    pdf.text_at(15, 15, EMPLOYER, size=15, style="B")
    pdf.text_at(15, 23, EMPLOYER_STREET)
    pdf.text_at(15, 28, EMPLOYER_CITY)
    pdf.text_at(15, 33, "Payroll questions: (614) 555-0148")
    pdf.text_at(120, 15, "EARNINGS STATEMENT", size=13, style="B", width=80.9, align="R")
    pdf.text_at(
        120, 23, f"Advice No. {100000 + current.pay_date.toordinal() % 9000}", width=80.9, align="R"
    )
    pdf.rule(40)

    pdf.text_at(15, 45, f"Employee: {APPLICANT}", size=10, style="B")
    pdf.text_at(15, 51, f"Employee ID: {employee_id}")
    pdf.text_at(15, 56, f"SSN: XXX-XX-{ssn_last4}")
    pdf.text_at(15, 61, APPLICANT_STREET)
    pdf.text_at(15, 66, APPLICANT_CITY)
    pdf.text_at(115, 45, f"Pay period: {us_date(current.start)} - {us_date(current.end)}", size=10)
    pdf.text_at(115, 51, f"Pay date: {us_date(current.pay_date)}")
    pdf.text_at(115, 56, "Pay frequency: Biweekly")
    pdf.text_at(115, 61, "Department: Warehouse Operations")
    pdf.rule(73)

    columns = {"rate": 95, "hours": 120, "current": 150, "ytd": 180}

    def row(y: float, label: str, values: dict[str, str], style: str = "") -> None:
        pdf.text_at(17, y, label, style=style)
        for column, text in values.items():
            pdf.text_at(columns[column] - 20, y, text, width=20.9, align="R", style=style)

    y = 78
    pdf.set_fill_color(230, 230, 230)
    pdf.rect(15, y - 1.5, 185.9, 7, style="F")
    row(
        y,
        "Earnings",
        {"rate": "Rate", "hours": "Hours", "current": "Current", "ytd": "Year to Date"},
        style="B",
    )
    y += 8
    row(
        y,
        "Regular",
        {
            "rate": money(HOURLY_RATE),
            "hours": money(REGULAR_HOURS),
            "current": money(current.regular),
            "ytd": money(ytd_sum("regular")),
        },
    )
    y += 6
    row(
        y,
        "Overtime",
        {
            "rate": money(OVERTIME_RATE),
            "hours": money(current.overtime_hours),
            "current": money(current.overtime),
            "ytd": money(ytd_sum("overtime")),
        },
    )
    y += 7
    pdf.rule(y - 1.5, x0=100, width=0.2)
    row(
        y, "Gross Pay", {"current": money(current.gross), "ytd": money(ytd_sum("gross"))}, style="B"
    )

    y += 12
    pdf.rect(15, y - 1.5, 185.9, 7, style="F")
    row(y, "Deductions", {"current": "Current", "ytd": "Year to Date"}, style="B")
    y += 8
    for index, (label, amount) in enumerate(current.deductions):
        total = sum((c.deductions[index][1] for c in ytd), Decimal("0"))
        row(y, label, {"current": money(amount), "ytd": money(total)})
        y += 6
    y += 1
    pdf.rule(y - 1.5, x0=100, width=0.2)
    row(
        y,
        "Total Deductions",
        {"current": money(current.total_deductions), "ytd": money(ytd_sum("total_deductions"))},
        style="B",
    )

    y += 12
    pdf.rule(y - 3)
    row(y, "Net Pay", {"current": money(current.net), "ytd": money(ytd_sum("net"))}, style="B")
    pdf.rule(y + 6)

    y += 14
    pdf.text_at(15, y, "Direct deposit distribution", style="B")
    pdf.text_at(15, y + 6, f"{BANK} - Checking ending 2281")
    pdf.text_at(150 - 20, y + 6, money(current.net), width=20.9, align="R")
    pdf.text_at(15, 250, "This is a statement of earnings and deductions. Non-negotiable.", size=7)
    return bytes(pdf.output())


def pay_stub_expected(checks: list[Paycheck]) -> dict:
    current = checks[-1]
    ytd_gross = sum(
        (c.gross for c in checks if c.pay_date.year == current.pay_date.year), Decimal("0")
    )
    return {
        "document_type": "pay_stub",
        "fields": {
            "employee_name": APPLICANT,
            "employer_name": EMPLOYER,
            "pay_period_start": current.start.isoformat(),
            "pay_period_end": current.end.isoformat(),
            "pay_date": current.pay_date.isoformat(),
            "gross_pay": f"{current.gross:.2f}",
            "total_deductions": f"{current.total_deductions:.2f}",
            "net_pay": f"{current.net:.2f}",
            "ytd_gross": f"{ytd_gross:.2f}",
        },
    }
