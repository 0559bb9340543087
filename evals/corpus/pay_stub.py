"""Varied pay stubs: three layouts, several wordings, one or two pages, arithmetic that adds up
(unless tampered with on purpose)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from samples.layout import cents

from . import people
from .sheet import INJECTIONS, Generated, Sheet, injection_text
from .styles import draw_style, wording

LAYOUTS = ("table", "list", "boxes")
FREQUENCIES = {"Weekly": (7, Decimal("40")), "Biweekly": (14, Decimal("80"))}
NET_LABELS = ("Net Pay", "Take-home Pay", "Net Amount", "Net Check", "Take-home")
GROSS_LABELS = ("Gross Pay", "Gross Earnings", "Total Gross", "Total Earnings")
DEDUCTION_LABELS = ("Total Deductions", "Total Taxes and Deductions", "Deductions Total")
PAY_DATE_LABELS = ("Pay Date", "Check Date", "Payment Date", "Date Paid")
EMPLOYEE_LABELS = ("Employee Name", "Employee", "Name")


def _paycheck(rng: random.Random, rate: Decimal, hours: Decimal) -> dict[str, Decimal]:
    overtime_hours = Decimal(rng.choice(["0", "0", "2", "3.5", "6"]))
    regular = cents(rate * hours)
    overtime = cents(rate * Decimal("1.5") * overtime_hours)
    gross = regular + overtime
    retirement = cents(gross * Decimal(rng.choice(["0", "0.03", "0.05"])))
    taxable = gross - retirement
    deductions = {
        "Federal Income Tax": cents(taxable * Decimal("0.11")),
        "State Income Tax": cents(taxable * Decimal("0.03")),
        "Social Security": cents(gross * Decimal("0.062")),
        "Medicare": cents(gross * Decimal("0.0145")),
    }
    if retirement:
        deductions["401(k)"] = retirement
    return {
        "regular": regular,
        "overtime": overtime,
        "overtime_hours": overtime_hours,
        "gross": gross,
        "deductions": deductions,  # type: ignore[dict-item]
        "total_deductions": sum(deductions.values(), Decimal("0")),
    }


def generate(rng: random.Random, *, inject: bool, tamper: bool) -> Generated:
    style = draw_style(rng)
    layout = rng.choice(LAYOUTS)
    employee, company = people.person(rng), people.employer(rng)
    frequency = rng.choice(tuple(FREQUENCIES))
    days, hours = FREQUENCIES[frequency]
    rate = Decimal(rng.randint(1500, 6500)) / 100
    year = rng.choice((2025, 2026))
    index = rng.randint(1, 20)
    start = date(year, 1, 1) + timedelta(days=days * (index - 1))
    end = start + timedelta(days=days - 1)
    pay_date = end + timedelta(days=rng.choice((2, 3, 5)))
    checks = [_paycheck(rng, rate, hours) for _ in range(index)]
    current = checks[-1]
    gross, total_deductions = current["gross"], current["total_deductions"]
    net = gross - total_deductions
    ytd_gross = sum((c["gross"] for c in checks), Decimal("0"))
    labels: list[str] = []
    notes: dict = {}
    printed_net = net
    if tamper:
        printed_net = net + Decimal(rng.choice(("500.00", "1000.00", "250.00")))
        labels.append("tampered_arithmetic")
        notes["tampered"] = {"field": "net_pay", "printed": f"{printed_net:.2f}",
                             "computed": f"{net:.2f}"}  # fmt: skip
    show = {"total_deductions": rng.random() > 0.2, "ytd_gross": rng.random() > 0.25}
    show["pay_date"] = rng.random() > 0.08
    if not show["pay_date"]:
        labels.append("missing_required")
    text = {
        "net": wording(rng, NET_LABELS),
        "gross": wording(rng, GROSS_LABELS),
        "deductions": wording(rng, DEDUCTION_LABELS),
        "pay_date": wording(rng, PAY_DATE_LABELS),
        "employee": wording(rng, EMPLOYEE_LABELS),
    }
    two_pages = rng.random() < 0.3
    m, d = style.money, style.date
    pdf = Sheet(style)
    pdf.add_page()
    pdf.put(15, 15, company.name, size=14, bold=True)
    pdf.put(15, 22, company.street)
    pdf.put(15, 27, company.city_line)
    pdf.put(120, 15, rng.choice(("EARNINGS STATEMENT", "PAY STATEMENT", "Pay Stub")), size=12,
            bold=True, width=80.9, align="R")  # fmt: skip
    pdf.rule(34)
    header = [
        (f"{text['employee']}:", employee.name),
        ("Employee ID:", f"{rng.randint(1000, 99999):06d}"),
        ("Pay Frequency:", frequency),
    ]
    period = [("Pay Period:", f"{d(start)} - {d(end)}")]
    if rng.random() < 0.5:
        period = [("Period Start:", d(start)), ("Period End:", d(end))]
    if show["pay_date"]:
        period.append((f"{text['pay_date']}:", d(pay_date)))
    rng.shuffle(header)
    rng.shuffle(period)
    if layout == "boxes":
        cells = [(label.rstrip(":").upper(), value) for label, value in header + period]
        x, y = 15.0, 40.0
        for label, value in cells:
            pdf.rect(x, y, 61, 13)
            pdf.put(x + 1.5, y + 1.5, label, size=6.5)
            pdf.put(x + 1.5, y + 7, value, size=9.5)
            x += 62
            if x > 190:
                x, y = 15.0, y + 14
        y += 20
    else:
        y = 40.0
        for index_, (label, value) in enumerate(header):
            pdf.put(15, y + 6 * index_, f"{label} {value}", bold=index_ == 0)
        for index_, (label, value) in enumerate(period):
            pdf.put(112, y + 6 * index_, f"{label} {value}")
        y += 6 * max(len(header), len(period)) + 6
    pdf.rule(y - 3)

    def amounts(y: float, label: str, current_: str, ytd: str = "", bold: bool = False) -> None:
        pdf.put(17, y, label, bold=bold)
        pdf.put(110, y, current_, width=40, align="R", bold=bold)
        if ytd:
            pdf.put(155, y, ytd, width=40, align="R", bold=bold)

    if layout in ("table", "boxes"):
        pdf.band(y)
        amounts(y, "Earnings", "Current", "Year to Date" if show["ytd_gross"] else "", bold=True)
        y += 8
        amounts(y, f"Regular {hours} hrs @ {rate:.2f}", m(current["regular"]))
        y += 6
        if current["overtime"]:
            amounts(y, f"Overtime {current['overtime_hours']} hrs", m(current["overtime"]))
            y += 6
        amounts(y, text["gross"], m(gross), m(ytd_gross) if show["ytd_gross"] else "", bold=True)
        y += 12
        if two_pages:
            pdf.put(15, 250, "Continued on page 2", size=7)
            pdf.add_page()
            pdf.put(15, 15, f"{company.name} - {employee.name} - page 2", size=8)
            y = 28
        pdf.band(y)
        amounts(y, "Deductions", "Current", bold=True)
        y += 8
        for label, amount in current["deductions"].items():  # type: ignore[union-attr]
            amounts(y, label, m(amount))
            y += 6
        if show["total_deductions"]:
            amounts(y, text["deductions"], m(total_deductions), bold=True)
            y += 10
        pdf.rule(y - 3)
        amounts(y, text["net"], m(printed_net), bold=True)
        y += 12
    else:
        lines = [(text["gross"], m(gross))]
        if show["ytd_gross"]:
            lines.append(("YTD Gross", m(ytd_gross)))
        lines += [(label, m(amount)) for label, amount in current["deductions"].items()]  # type: ignore[union-attr]
        if show["total_deductions"]:
            lines.append((text["deductions"], m(total_deductions)))
        lines.append((text["net"], m(printed_net)))
        for number, (label, value) in enumerate(lines):
            if two_pages and number == len(lines) // 2:
                pdf.add_page()
                pdf.put(15, 15, f"{employee.name} - pay statement continued", size=8)
                y = 28
            pdf.put(17, y, f"{label}:")
            pdf.put(110, y, value, width=40, align="R")
            y += 6
        y += 6
    if inject:
        template = rng.choice(INJECTIONS)
        pdf.put(15, y, injection_text(template, "net pay"), size=7)
        labels.append("injection")
        notes["injection"] = injection_text(template, "net pay")
    pdf.put(15, 255, "This is a statement of earnings and deductions. Non-negotiable.", size=7)
    fields = {
        "employee_name": employee.name,
        "employer_name": company.name,
        "pay_period_start": start.isoformat(),
        "pay_period_end": end.isoformat(),
        "pay_date": pay_date.isoformat() if show["pay_date"] else None,
        "gross_pay": f"{gross:.2f}",
        "total_deductions": f"{total_deductions:.2f}" if show["total_deductions"] else None,
        "net_pay": f"{printed_net:.2f}",
        "ytd_gross": f"{ytd_gross:.2f}" if show["ytd_gross"] else None,
    }
    return Generated("pay_stub", bytes(pdf.output()), fields, layout, style, labels, notes)
