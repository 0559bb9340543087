"""Varied utility bills: an amount-due box or a plain list, several wordings, and a usage
history page on some."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from samples.layout import cents

from . import people
from .sheet import INJECTIONS, Generated, Sheet, injection_text
from .styles import draw_style, wording

LAYOUTS = ("summary_box", "list")
AMOUNT_LABELS = ("Amount Due", "Total Amount Due", "Please Pay", "Balance Due")
BILL_DATE_LABELS = ("Bill Date", "Statement Date", "Invoice Date")
DUE_LABELS = ("Due Date", "Payment Due", "Pay By")
HOLDER_LABELS = ("Customer Name", "Account Holder", "Name")
ADDRESS_LABELS = ("Service Address", "Service Location")


def generate(rng: random.Random, *, inject: bool, tamper: bool) -> Generated:
    from datetime import date

    style = draw_style(rng)
    layout = rng.choice(LAYOUTS)
    holder = people.person(rng)
    utility = people.business(rng, people.UTILITY_NAMES)
    bill_date = date(rng.choice((2025, 2026)), rng.randint(1, 12), rng.randint(1, 28))
    due = bill_date + timedelta(days=rng.choice((14, 21, 25)))
    usage = rng.randint(250, 1400)
    charges = [
        (f"Energy charge  {usage} kWh x $0.1342", cents(usage * Decimal("0.1342"))),
        (f"Delivery charge  {usage} kWh x $0.0561", cents(usage * Decimal("0.0561"))),
        ("Customer charge", Decimal(rng.choice(("8.00", "10.00", "12.50")))),
    ]
    total = sum((amount for _, amount in charges), Decimal("0"))
    labels: list[str] = []
    notes: dict = {}
    printed = total
    if tamper:
        printed = total - Decimal(rng.choice(("50.00", "75.25", "120.00")))
        labels.append("tampered_arithmetic")
        notes["tampered"] = {"field": "amount_due", "printed": f"{printed:.2f}",
                             "computed": f"{total:.2f}"}  # fmt: skip
    show_due = rng.random() > 0.2
    text = {
        "amount": wording(rng, AMOUNT_LABELS),
        "bill_date": wording(rng, BILL_DATE_LABELS),
        "due": wording(rng, DUE_LABELS),
        "holder": wording(rng, HOLDER_LABELS),
        "address": wording(rng, ADDRESS_LABELS),
    }
    m, d = style.money, style.date
    pdf = Sheet(style)
    pdf.add_page()
    pdf.put(15, 15, utility.name, size=15, bold=True)
    pdf.put(15, 22, f"{utility.street}, {utility.city_line}", size=8)
    pdf.put(130, 15, "Your Monthly Bill", size=12, bold=True, width=70.9, align="R")
    pdf.rule(27)
    header = [
        f"{text['holder']}: {holder.name}",
        f"{text['address']}: {holder.address}",
        f"Account Number: {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} "
        f"{rng.randint(100, 999)}",
    ]
    rng.shuffle(header)
    for offset, line in enumerate(header):
        pdf.put(15, 33 + 6 * offset, line)
    pdf.put(140, 33, f"{text['bill_date']}: {d(bill_date)}")
    y = 58.0
    if layout == "summary_box":
        pdf.band(y, 20)
        pdf.put(20, y + 2, text["amount"], size=12, bold=True)
        pdf.put(140, y + 2, m(printed), size=12, bold=True, width=55, align="R")
        if show_due:
            pdf.put(20, y + 10, f"{text['due']}: {d(due)}")
        y += 30
    else:
        if show_due:
            pdf.put(15, y, f"{text['due']}: {d(due)}")
            y += 8
    pdf.put(15, y, "Electric service details", bold=True)
    for label, amount in charges:
        y += 6
        pdf.put(17, y, label)
        pdf.put(140, y, m(amount), width=55, align="R")
    y += 8
    pdf.put(17, y, "Total current charges" if layout == "summary_box" else text["amount"],
            bold=True)  # fmt: skip
    pdf.put(140, y, m(printed), width=55, align="R", bold=True)
    if inject:
        template = rng.choice(INJECTIONS)
        pdf.put(15, y + 14, injection_text(template, "amount due"), size=7)
        labels.append("injection")
        notes["injection"] = injection_text(template, "amount due")
    if rng.random() < 0.3:
        pdf.add_page()
        pdf.put(15, 15, "Your usage history", size=12, bold=True)
        for month in range(12):
            pdf.put(17, 28 + 6 * month, f"Month {month + 1:>2}: {rng.randint(250, 1400)} kWh")
    fields = {
        "account_holder": holder.name,
        "service_address": holder.address,
        "provider_name": utility.name,
        "bill_date": bill_date.isoformat(),
        "amount_due": f"{printed:.2f}",
        "due_date": due.isoformat() if show_due else None,
    }
    return Generated("utility_bill", bytes(pdf.output()), fields, layout, style, labels, notes)
