"""Driver's licenses and state IDs: a card-sized page with labelled values in two layouts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from fpdf import FPDF

from . import people
from .sheet import INJECTIONS, Generated, injection_text
from .styles import draw_style

LAYOUTS = ("labels_left", "labels_above")
CARD_TITLES = ("DRIVER LICENSE", "Driver's License", "IDENTIFICATION CARD")


def generate(rng: random.Random, *, inject: bool, tamper: bool) -> Generated:
    style = draw_style(rng)
    layout = rng.choice(LAYOUTS)
    holder = people.person(rng)
    state_name = people.STATE_NAMES[holder.state]
    birth = date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
    issued = date(rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28))
    expires = issued.replace(year=issued.year + rng.choice((4, 5, 8)))
    number = f"{rng.choice('ABDKLMRST')}{rng.randint(1000000, 99999999)}"
    labels: list[str] = []
    notes: dict = {}
    if tamper:
        # An expiry before the issue date: the card cannot be what it claims.
        expires = issued.replace(year=issued.year - 1)
        labels.append("tampered_arithmetic")
        notes["tampered"] = {"field": "expiration_date", "printed": expires.isoformat()}
    pdf = FPDF(orientation="L", unit="mm", format=(54, 85.6))
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    font = style.font

    def put(x: float, y: float, text: str, size: float = 6.0, bold: bool = False) -> None:
        pdf.set_font(font, "B" if bold else "", size * (0.85 if font == "Courier" else 1))
        pdf.set_xy(x, y)
        pdf.cell(0, size * 0.45, text)

    put(4, 3, f"{state_name.upper()}  {rng.choice(CARD_TITLES)}", size=7.5, bold=True)
    pdf.rect(4, 10, 22, 28)
    put(7, 22, "PHOTO", size=5)
    d = style.date
    entries = [
        ("DL No.", number),
        ("DOB", d(birth)),
        ("ISS", d(issued)),
        ("EXP", d(expires)),
    ]
    rng.shuffle(entries)
    if layout == "labels_left":
        y = 10.0
        for label, value in entries:
            put(29, y, f"{label} {value}", size=6.5, bold=label == "DL No.")
            y += 4.2
        put(29, y, f"Name: {holder.name}", size=6.5)
        put(29, y + 4.2, f"Address: {holder.street}", size=6)
        put(29, y + 8, holder.city_line, size=6)
    else:
        y = 10.0
        for index, (label, value) in enumerate(entries):
            x = 29 + (index % 2) * 27
            put(x, y + (index // 2) * 8, label, size=4.5)
            put(x, y + (index // 2) * 8 + 2.6, value, size=6.5)
        y += 17
        put(29, y, "Full name", size=4.5)
        put(29, y + 2.6, holder.name, size=6.5)
        put(29, y + 7, "Address", size=4.5)
        put(29, y + 9.6, f"{holder.street}, {holder.city_line}", size=5.5)
    if inject:
        template = rng.choice(INJECTIONS)
        put(4, 46, injection_text(template, "expiration date"), size=3.5)
        labels.append("injection")
        notes["injection"] = injection_text(template, "expiration date")
    fields = {
        "full_name": holder.name,
        "id_number": number,
        "date_of_birth": birth.isoformat(),
        "issue_date": issued.isoformat(),
        "expiration_date": expires.isoformat(),
        "address": holder.address,
        "issuing_state": state_name,
    }
    return Generated("drivers_license", bytes(pdf.output()), fields, layout, style, labels, notes)
