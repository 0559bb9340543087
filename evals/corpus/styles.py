"""How a generated document prints its values: font, money and date formats, label wordings.

Each document draws one ``Style``; the expected values are always the canonical forms
(``extraction.normalize``), so the same answer is printed many ways.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# fpdf2's core fonts: no font files to ship, and three clearly different shapes for OCR.
FONTS = ("Helvetica", "Times", "Courier")

MONEY_FORMATS = ("plain", "dollar", "dollar_space", "usd", "no_grouping")
DATE_FORMATS = ("us", "us_dash", "long", "short_month", "iso", "day_month")


@dataclass(frozen=True)
class Style:
    font: str
    money_format: str
    date_format: str

    def money(self, value: Decimal) -> str:
        negative, value = value < 0, abs(value)
        text = {
            "plain": f"{value:,.2f}",
            "dollar": f"${value:,.2f}",
            "dollar_space": f"$ {value:,.2f}",
            "usd": f"USD {value:,.2f}",
            "no_grouping": f"{value:.2f}",
        }[self.money_format]
        return f"-{text}" if negative else text

    def date(self, value: date) -> str:
        if self.date_format == "us":
            return value.strftime("%m/%d/%Y")
        if self.date_format == "us_dash":
            return value.strftime("%m-%d-%Y")
        if self.date_format == "long":
            return f"{value:%B} {value.day}, {value.year}"
        if self.date_format == "short_month":
            return f"{value:%b} {value.day}, {value.year}"
        if self.date_format == "iso":
            return value.isoformat()
        return f"{value.day:02d} {value:%b} {value.year}"


def draw_style(rng: random.Random) -> Style:
    return Style(
        font=rng.choice(FONTS),
        money_format=rng.choice(MONEY_FORMATS),
        date_format=rng.choice(DATE_FORMATS),
    )


def wording(rng: random.Random, choices: tuple[str, ...]) -> str:
    """One of several labels that mean the same thing ("Net Pay", "Take-home", "Net Amount")."""
    return rng.choice(choices)
