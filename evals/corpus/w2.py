"""Varied W-2s: the IRS box grid in two arrangements, typed values in any core font, and a
second page (Copy C) on some."""

from __future__ import annotations

import random
from decimal import Decimal

from . import people
from .sheet import INJECTIONS, Generated, Sheet, injection_text
from .styles import draw_style

LAYOUTS = ("standard", "wide")
WAGES_LABELS = ("1 Wages, tips, other compensation", "1 Wages, tips, other comp.")


def _copy(pdf: Sheet, title: str, layout: str, values: dict, wages_label: str) -> None:
    pdf.add_page()
    left, end = 15.0, 200.9
    mid, right = (108.0, 154.0) if layout == "standard" else (100.0, 150.0)

    def box(x0: float, y0: float, x1: float, y1: float, label: str, value: str = "") -> None:
        pdf.rect(x0, y0, x1 - x0, y1 - y0)
        pdf.put(x0 + 1, y0 + 1, label, size=6.5)
        if value:
            pdf.put(x0 + 2, y0 + 5.5, value, size=10)

    pdf.put(left, 12, title, size=7)
    box(left, 16, mid, 26, "a Employee's social security number", values["ssn"])
    box(mid, 16, end, 26, "OMB No. 1545-0008")
    box(left, 26, mid, 36, "b Employer identification number (EIN)", values["ein"])
    box(mid, 26, right, 36, wages_label, values["wages"])
    box(right, 26, end, 36, "2 Federal income tax withheld", values["federal"])
    pdf.rect(left, 36, mid - left, 30)
    pdf.put(left + 1, 37, "c Employer's name, address, and ZIP code", size=6.5)
    for index, line in enumerate(values["employer"]):
        pdf.put(left + 2, 42 + index * 5, line, size=10)
    box(mid, 36, right, 46, "3 Social security wages", values["ss_wages"])
    box(right, 36, end, 46, "4 Social security tax withheld", values["ss_tax"])
    box(mid, 46, right, 56, "5 Medicare wages and tips", values["ss_wages"])
    box(right, 46, end, 56, "6 Medicare tax withheld", values["medicare"])
    box(left, 66, mid, 76, "d Control number", values["control"])
    pdf.rect(left, 76, mid - left, 30)
    pdf.put(left + 1, 77, "e/f Employee's name, address, and ZIP code", size=6.5)
    for index, line in enumerate(values["employee"]):
        pdf.put(left + 2, 82 + index * 5, line, size=10)
    box(mid, 76, end, 86, "12a See instructions for box 12", values["box12"])
    box(left, 106, 60, 116, "15 State  Employer's state ID number", values["state_id"])
    box(60, 106, 108, 116, "16 State wages, tips, etc.", values["wages"])
    box(108, 106, 154, 116, "17 State income tax", values["state_tax"])
    pdf.put(left, 120, "Form", size=8)
    pdf.put(left + 8, 119, "W-2", size=16, bold=True)
    pdf.put(left + 25, 120, "Wage and Tax Statement", size=11, bold=True)
    pdf.put(left + 80, 119, values["year"], size=16, bold=True)
    pdf.put(120, 121, "Department of the Treasury - Internal Revenue Service", size=7)


def generate(rng: random.Random, *, inject: bool, tamper: bool) -> Generated:
    style = draw_style(rng)
    layout = rng.choice(LAYOUTS)
    employee, company = people.person(rng), people.employer(rng)
    ssn, ein = people.ssn(rng), people.ein(rng)
    year = rng.choice((2023, 2024, 2025))
    gross = Decimal(rng.randint(2500000, 16000000)) / 100
    retirement = (gross * Decimal(rng.choice(("0", "0.03", "0.06")))).quantize(Decimal("0.01"))
    wages = gross - retirement
    federal = (wages * Decimal("0.12")).quantize(Decimal("0.01"))
    labels: list[str] = []
    notes: dict = {}
    ss_wages = gross
    if tamper:
        # Social security wages below box 1 with no deferral to explain it.
        ss_wages = wages - Decimal(rng.choice(("5000.00", "12000.00")))
        labels.append("tampered_arithmetic")
        notes["tampered"] = {"field": "social_security_wages", "printed": f"{ss_wages:.2f}",
                             "computed": f"{gross:.2f}"}  # fmt: skip
    # Box amounts on real W-2s are plain numbers; the money format only picks the separator.
    grouping = "" if style.money_format == "no_grouping" else ","

    def amount(value: Decimal) -> str:
        return f"{value:{grouping}.2f}"

    values = {
        "ssn": ssn,
        "ein": ein,
        "wages": amount(wages),
        "federal": amount(federal),
        "ss_wages": amount(ss_wages),
        "ss_tax": amount((ss_wages * Decimal("0.062")).quantize(Decimal("0.01"))),
        "medicare": amount((ss_wages * Decimal("0.0145")).quantize(Decimal("0.01"))),
        "employer": (company.name, company.street, company.city_line),
        "employee": (employee.name, employee.street, employee.city_line),
        "control": f"A{rng.randint(1, 9)}-{rng.randint(1000, 9999)}",
        "box12": f"D  {amount(retirement)}" if retirement else "",
        "state_id": f"{company.state}  {rng.randint(10, 99)}-{rng.randint(100000, 999999)}",
        "state_tax": amount((wages * Decimal("0.03")).quantize(Decimal("0.01"))),
        "year": str(year),
    }
    wages_label = rng.choice(WAGES_LABELS)
    pdf = Sheet(style)
    _copy(pdf, "Copy B - To Be Filed With Employee's FEDERAL Tax Return", layout, values,
          wages_label)  # fmt: skip
    if inject:
        template = rng.choice(INJECTIONS)
        pdf.put(15, 135, injection_text(template, "wages"), size=7)
        labels.append("injection")
        notes["injection"] = injection_text(template, "wages")
    if rng.random() < 0.3:
        _copy(pdf, "Copy C - For EMPLOYEE'S RECORDS", layout, values, wages_label)
    fields = {
        "tax_year": str(year),
        "employee_name": employee.name,
        "employee_ssn": ssn,
        "employer_name": company.name,
        "employer_ein": ein,
        "wages": f"{wages:.2f}",
        "federal_tax_withheld": f"{federal:.2f}",
        "social_security_wages": f"{ss_wages:.2f}",
    }
    return Generated("w2", bytes(pdf.output()), fields, layout, style, labels, notes)
