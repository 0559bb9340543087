"""A small lease as a text PDF, for previews and accuracy checks."""

from __future__ import annotations

from fpdf import FPDF


def lease_pdf(tenant="Maria Lopez", rent="1,250.00", start="01/03/2026", deposit="2,500.00"):
    pdf = FPDF(unit="pt", format=(612, 792))
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.text(72, 80, "Residential Lease agreement")
    pdf.set_font("Helvetica", size=11)
    lines = [
        f"Tenant: {tenant}",
        "Landlord: Oak Street Properties",
        f"Rent deposit: {deposit}",
        f"Monthly rent: {rent}",
        f"Start date: {start}",
    ]
    for index, line in enumerate(lines):
        pdf.text(72, 130 + index * 22, line)
    return bytes(pdf.output())
