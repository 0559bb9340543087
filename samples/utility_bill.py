"""An electricity bill at the demo applicant's address: proof of address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .layout import (
    APPLICANT,
    APPLICANT_CITY,
    APPLICANT_STREET,
    UTILITY,
    SamplePage,
    cents,
    long_date,
    money,
    us_date,
)


@dataclass(frozen=True)
class EnergyBill:
    bill_date: date
    due: date
    usage_kwh: int

    @property
    def charges(self) -> tuple[tuple[str, Decimal], ...]:
        return (
            (
                f"Energy charge  {self.usage_kwh} kWh x $0.1342",
                cents(self.usage_kwh * Decimal("0.1342")),
            ),
            (
                f"Delivery charge  {self.usage_kwh} kWh x $0.0561",
                cents(self.usage_kwh * Decimal("0.0561")),
            ),
            ("Customer charge", Decimal("10.00")),
        )

    @property
    def amount(self) -> Decimal:
        return sum((amount for _, amount in self.charges), Decimal("0"))


def utility_bill_pdf(bill: EnergyBill) -> bytes:
    service_address = f"{APPLICANT_STREET}, {APPLICANT_CITY}"
    pdf = SamplePage()
    pdf.add_page()
    pdf.text_at(15, 15, UTILITY, size=16, style="B")
    pdf.text_at(15, 22, "PO Box 2090, Columbus, OH 43216  |  evergreenpower.example", size=8)
    pdf.text_at(130, 15, "Your Energy Bill", size=12, style="B", width=70.9, align="R")
    pdf.rule(27)
    pdf.text_at(15, 33, f"Customer name: {APPLICANT}")
    pdf.text_at(15, 39, f"Service address: {service_address}")
    pdf.text_at(15, 45, "Account number: 3300 5521 907")
    pdf.text_at(125, 33, f"Bill date: {us_date(bill.bill_date)}")
    pdf.text_at(
        125,
        39,
        f"Billing period: {us_date(bill.bill_date - timedelta(days=31))} - "
        f"{us_date(bill.bill_date - timedelta(days=1))}",
    )
    pdf.set_fill_color(230, 230, 230)
    pdf.rect(15, 55, 185.9, 20, style="F")
    pdf.text_at(20, 59, "Amount due", size=12, style="B")
    pdf.text_at(150, 59, f"${money(bill.amount)}", size=12, style="B", width=45, align="R")
    pdf.text_at(20, 67, f"Due date: {long_date(bill.due)}")
    y = 85
    pdf.text_at(15, y, "Electric service details", style="B")
    for label, value in bill.charges:
        y += 6
        pdf.text_at(17, y, label)
        pdf.text_at(150, y, money(value), width=45, align="R")
    pdf.rule(y + 5, x0=130)
    pdf.text_at(17, y + 7, "Total current charges", style="B")
    pdf.text_at(150, y + 7, money(bill.amount), width=45, align="R", style="B")
    return bytes(pdf.output())


def utility_bill_expected(bill: EnergyBill) -> dict:
    return {
        "document_type": "utility_bill",
        "fields": {
            "account_holder": APPLICANT,
            "service_address": f"{APPLICANT_STREET}, {APPLICANT_CITY}",
            "provider_name": UTILITY,
            "bill_date": bill.bill_date.isoformat(),
            "amount_due": f"{bill.amount:.2f}",
            "due_date": bill.due.isoformat(),
        },
    }
