"""What every sample shares: the demo applicant and the businesses, print styles, the page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from fpdf import FPDF

APPLICANT = "Jordan A. Rivera"
APPLICANT_STREET = "1847 Maple Ridge Drive"
APPLICANT_CITY = "Columbus, OH 43214"
EMPLOYER = "Northwind Logistics LLC"
EMPLOYER_STREET = "2400 Harbor Way, Suite 300"
EMPLOYER_CITY = "Columbus, OH 43215"
BANK = "First Harbor Bank"
UTILITY = "Evergreen Power & Light"
CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """US print style: 1,234.50."""
    return f"{value:,.2f}"


def us_date(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def long_date(value: date) -> str:
    return f"{value:%B} {value.day}, {value.year}"


class SamplePage(FPDF):
    """A Letter page in millimetres with a few placement helpers."""

    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.set_auto_page_break(auto=False)
        # A fixed creation date keeps the bytes identical across runs.
        self.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
        self.set_margins(15, 15, 15)

    def text_at(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 9,
        style: str = "",
        font: str = "Helvetica",
        width: float = 0,
        align: str = "L",
    ) -> None:
        self.set_font(font, style, size)
        self.set_xy(x, y)
        self.cell(width, size * 0.45, text, align=align)

    def rule(self, y: float, x0: float = 15, x1: float = 200.9, width: float = 0.3) -> None:
        self.set_line_width(width)
        self.line(x0, y, x1, y)
