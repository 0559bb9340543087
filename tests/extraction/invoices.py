"""Made-up invoices in five languages and three layouts, as text PDFs, with their answers.

Each language prints its own labels, number format (1,234.50 / 1 234,50 / 1.234,50) and date
format; each layout puts the header values in a different place: right of their labels, in a
box under them, or in a table row under a row of labels. Below the header, a customer block
(with a company name of its own, which must not be taken for the seller), item lines, the
subtotal and tax (which must not be taken for the total) and the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fpdf import FPDF

LANGUAGES = ("en", "fr", "de", "nl", "es")
LAYOUTS = ("right", "below", "table")

LABELS = {
    "en": {
        "title": "INVOICE",
        "number": "Invoice number",
        "date": "Invoice date",
        "due": "Due date",
        "bill_to": "Bill to",
        "subtotal": "Subtotal",
        "vat": "VAT 20%",
        "total": "Total due",
        "item": "Consulting services",
    },
    "fr": {
        "title": "FACTURE",
        "number": "N° de facture",
        "date": "Date de facture",
        "due": "Date d'échéance",
        "bill_to": "Facturé à",
        "subtotal": "Total HT",
        "vat": "TVA 20 %",
        "total": "Total TTC",
        "item": "Prestations de conseil",
    },
    "de": {
        "title": "RECHNUNG",
        "number": "Rechnungsnummer",
        "date": "Rechnungsdatum",
        "due": "Fälligkeitsdatum",
        "bill_to": "Rechnungsempfänger",
        "subtotal": "Zwischensumme",
        "vat": "MwSt. 19 %",
        "total": "Gesamtbetrag",
        "item": "Beratungsleistungen",
    },
    "nl": {
        "title": "FACTUUR",
        "number": "Factuurnummer",
        "date": "Factuurdatum",
        "due": "Vervaldatum",
        "bill_to": "Factuur aan",
        "subtotal": "Subtotaal",
        "vat": "BTW 21%",
        "total": "Totaal te betalen",
        "item": "Adviesdiensten",
    },
    "es": {
        "title": "FACTURA",
        "number": "Nº de factura",
        "date": "Fecha de factura",
        "due": "Fecha de vencimiento",
        "bill_to": "Facturar a",
        "subtotal": "Base imponible",
        "vat": "IVA 21%",
        "total": "Total a pagar",
        "item": "Servicios de consultoría",
    },
}
SELLERS = {
    "en": ("Brightwater Consulting Ltd", "14 Quay Street, Bristol BS1 4DJ"),
    "fr": ("Atelier Lumière SARL", "8 rue des Tanneurs, 69002 Lyon"),
    "de": ("Müller & Söhne GmbH", "Hauptstraße 12, 10115 Berlin"),
    "nl": ("De Vries Techniek B.V.", "Keizersgracht 221, 1016 DV Amsterdam"),
    "es": ("Soluciones Iberia S.L.", "Calle Mayor 45, 28013 Madrid"),
}
# The customer is a company too: a reader that takes the first legal form it sees is wrong.
CUSTOMER = ("Harbor Freight Partners AG", "Seestrasse 5, 8002 Zürich")
VAT = {"en": Decimal("0.20"), "fr": Decimal("0.20"), "de": Decimal("0.19"), "nl": Decimal("0.21")}
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août"]


@dataclass(frozen=True)
class Invoice:
    language: str
    layout: str
    number: str
    issued: date
    net: Decimal

    @property
    def vat(self) -> Decimal:
        return (self.net * VAT.get(self.language, Decimal("0.21"))).quantize(Decimal("0.01"))

    @property
    def total(self) -> Decimal:
        return self.net + self.vat

    def expected(self) -> dict[str, str]:
        return {
            "invoice_number": self.number,
            "issue_date": self.issued.isoformat(),
            "total_amount": f"{self.total:.2f}",
            "seller_name": SELLERS[self.language][0],
            "currency": "GBP" if self.language == "en" else "EUR",
        }


def amount(value: Decimal, language: str) -> str:
    """As each language prints money: £1,234.50 / 1 234,50 € / 1.234,50 € / € 1.234,50."""
    whole, cents = f"{value:,.2f}".split(".")
    if language == "en":
        return f"£{whole}.{cents}"
    if language == "fr":
        return f"{whole.replace(',', ' ')},{cents} €"
    if language == "nl":
        return f"€ {whole.replace(',', '.')},{cents}"
    return f"{whole.replace(',', '.')},{cents} €"


def printed_date(value: date, language: str) -> str:
    if language == "en":
        return f"{value.day} {value:%B %Y}"
    if language == "fr":
        return f"{value.day} {MONTHS_FR[value.month - 1]} {value.year}"
    if language == "de":
        return f"{value:%d.%m.%Y}"
    if language == "nl":
        return f"{value:%d-%m-%Y}"
    return f"{value:%d/%m/%Y}"


def invoice_pdf(invoice: Invoice) -> bytes:
    labels = LABELS[invoice.language]
    seller, seller_address = SELLERS[invoice.language]
    pdf = FPDF(unit="mm", format="A4")
    pdf.core_fonts_encoding = "windows-1252"  # the euro sign
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()

    def text(x: float, y: float, value: str, size: float = 10, style: str = "") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.set_xy(x, y)
        pdf.cell(0, size * 0.45, value)

    text(15, 15, seller, 14, "B")
    text(15, 22, seller_address)
    text(150, 15, labels["title"], 16, "B")
    header = [
        (labels["number"], invoice.number),
        (labels["date"], printed_date(invoice.issued, invoice.language)),
        (labels["due"], printed_date(invoice.issued.replace(day=28), invoice.language)),
    ]
    if invoice.layout == "right":
        for row, (label, value) in enumerate(header):
            text(15, 40 + row * 6, f"{label}:")
            text(70, 40 + row * 6, value)
    elif invoice.layout == "below":
        for column, (label, value) in enumerate(header):
            text(15 + column * 62, 40, label, 8)
            text(15 + column * 62, 45, value, 10, "B")
    else:
        for column, (label, value) in enumerate(header):
            text(15 + column * 62, 40, label, 9, "B")
            text(15 + column * 62, 46, value)
    text(15, 62, labels["bill_to"], 9, "B")
    text(15, 67, CUSTOMER[0])
    text(15, 72, CUSTOMER[1])
    text(15, 90, labels["item"])
    text(160, 90, amount(invoice.net, invoice.language))
    text(110, 110, labels["subtotal"])
    text(160, 110, amount(invoice.net, invoice.language))
    text(110, 116, labels["vat"])
    text(160, 116, amount(invoice.vat, invoice.language))
    text(110, 124, labels["total"], 11, "B")
    text(160, 124, amount(invoice.total, invoice.language), 11, "B")
    return bytes(pdf.output())


def invoices() -> list[Invoice]:
    """One invoice per language and layout, with numbers of each country's usual shapes."""
    numbers = {
        "en": "INV-2026-0042",
        "fr": "F2026/0117",
        "de": "RE-10482",
        "nl": "2026.0093",
        "es": "A-2026-311",
    }
    made = []
    for index, language in enumerate(LANGUAGES):
        for offset, layout in enumerate(LAYOUTS):
            made.append(
                Invoice(
                    language=language,
                    layout=layout,
                    number=numbers[language],
                    issued=date(2026, 3 + offset, 3 + index),
                    net=Decimal("1234.50") + Decimal(index * 100 + offset),
                )
            )
    return made
