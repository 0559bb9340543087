"""A W-2 that adds up a year of the demo payroll."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .layout import (
    APPLICANT,
    APPLICANT_CITY,
    APPLICANT_STREET,
    EMPLOYER,
    EMPLOYER_CITY,
    EMPLOYER_STREET,
    SamplePage,
    money,
)
from .payroll import Paycheck


@dataclass(frozen=True)
class WageStatement:
    year: int
    ssn: str
    ein: str
    wages: Decimal
    federal: Decimal
    social_security_wages: Decimal
    social_security_tax: Decimal
    medicare_tax: Decimal
    retirement: Decimal
    state_tax: Decimal


def wage_statement(checks: list[Paycheck], *, ssn: str, ein: str) -> WageStatement:
    def total(attribute: str) -> Decimal:
        return sum((getattr(c, attribute) for c in checks), Decimal("0"))

    gross = total("gross")
    return WageStatement(
        year=checks[-1].pay_date.year,
        ssn=ssn,
        ein=ein,
        # 401(k) deferrals leave box 1 but stay in social security and Medicare wages.
        wages=gross - total("retirement"),
        federal=total("federal"),
        social_security_wages=gross,
        social_security_tax=total("social_security"),
        medicare_tax=total("medicare"),
        retirement=total("retirement"),
        state_tax=total("state"),
    )


def w2_pdf(w2: WageStatement) -> bytes:
    pdf = SamplePage()
    pdf.add_page()
    pdf.set_line_width(0.3)
    left, mid, right, end = 15.0, 108.0, 154.0, 200.9
    value_font = {"font": "Courier", "size": 10}

    def box(x0: float, y0: float, x1: float, y1: float, label: str, value: str = "") -> None:
        pdf.rect(x0, y0, x1 - x0, y1 - y0)
        pdf.text_at(x0 + 1, y0 + 1, label, size=6.5)
        if value:
            pdf.text_at(x0 + 2, y0 + 5.5, value, **value_font)

    pdf.text_at(left, 12, "Copy B - To Be Filed With Employee's FEDERAL Tax Return", size=7)
    box(left, 16, mid, 26, "a Employee's social security number", w2.ssn)
    box(mid, 16, end, 26, "OMB No. 1545-0008")
    box(left, 26, mid, 36, "b Employer identification number (EIN)", w2.ein)
    box(mid, 26, right, 36, "1 Wages, tips, other compensation", money(w2.wages))
    box(right, 26, end, 36, "2 Federal income tax withheld", money(w2.federal))
    pdf.rect(left, 36, mid - left, 30)
    pdf.text_at(left + 1, 37, "c Employer's name, address, and ZIP code", size=6.5)
    for index, line in enumerate((EMPLOYER, EMPLOYER_STREET, EMPLOYER_CITY)):
        pdf.text_at(left + 2, 42 + index * 5, line, **value_font)
    box(mid, 36, right, 46, "3 Social security wages", money(w2.social_security_wages))
    box(right, 36, end, 46, "4 Social security tax withheld", money(w2.social_security_tax))
    box(mid, 46, right, 56, "5 Medicare wages and tips", money(w2.social_security_wages))
    box(right, 46, end, 56, "6 Medicare tax withheld", money(w2.medicare_tax))
    box(mid, 56, right, 66, "7 Social security tips")
    box(right, 56, end, 66, "8 Allocated tips")
    box(left, 66, mid, 76, "d Control number", "A1-0442")
    box(mid, 66, right, 76, "9")
    box(right, 66, end, 76, "10 Dependent care benefits")
    pdf.rect(left, 76, mid - left, 30)
    pdf.text_at(left + 1, 77, "e/f Employee's name, address, and ZIP code", size=6.5)
    for index, line in enumerate((APPLICANT, APPLICANT_STREET, APPLICANT_CITY)):
        pdf.text_at(left + 2, 82 + index * 5, line, **value_font)
    box(mid, 76, right, 86, "11 Nonqualified plans")
    box(right, 76, end, 86, "12a See instructions for box 12", f"D  {money(w2.retirement)}")
    box(mid, 86, right, 96, "13 Statutory employee / Retirement plan", "   X")
    box(right, 86, end, 96, "12b")
    box(mid, 96, right, 106, "14 Other")
    box(right, 96, end, 106, "12c")
    box(left, 106, 60, 116, "15 State  Employer's state ID number", "OH  51-882041")
    box(60, 106, 108, 116, "16 State wages, tips, etc.", money(w2.wages))
    box(108, 106, 154, 116, "17 State income tax", money(w2.state_tax))
    box(154, 106, end, 116, "18 Local wages, tips, etc.")
    pdf.text_at(left, 120, "Form", size=8)
    pdf.text_at(left + 8, 119, "W-2", size=16, style="B")
    pdf.text_at(left + 25, 120, "Wage and Tax Statement", size=11, style="B")
    pdf.text_at(left + 75, 119, str(w2.year), size=16, style="B")
    pdf.text_at(120, 120, "Department of the Treasury - Internal Revenue Service", size=7)
    return bytes(pdf.output())


def w2_expected(w2: WageStatement) -> dict:
    return {
        "document_type": "w2",
        "fields": {
            "tax_year": str(w2.year),
            "employee_name": APPLICANT,
            "employee_ssn": w2.ssn,
            "employer_name": EMPLOYER,
            "employer_ein": w2.ein,
            "wages": f"{w2.wages:.2f}",
            "federal_tax_withheld": f"{w2.federal:.2f}",
            "social_security_wages": f"{w2.social_security_wages:.2f}",
        },
    }
