"""Small builders for test files: real PDFs and images made on the fly."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter

# A pay stub's values as a model would read them (printed forms, not normalized).
PAY_STUB_VALUES = {
    "employee_name": "Jordan A. Rivera",
    "employer_name": "Northwind Logistics LLC",
    "pay_period_start": "2026-10-01",
    "pay_period_end": "2026-10-15",
    "pay_date": "2026-10-20",
    "gross_pay": "2,600.00",
    "total_deductions": "612.40",
    "net_pay": "1,987.60",
    "ytd_gross": "52,000.00",
}


def pdf_bytes(pages: int = 1, *, password: str = "", title: str = "") -> bytes:
    """Blank pages; a ``title`` makes the file (and its sha256) differ from the others, for
    several uploads to one application, which takes each file only once."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    if title:
        writer.add_metadata({"/Title": title})
    if password:
        writer.encrypt(user_password=password, owner_password=password + "-owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (200, 100), color: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def document_with_fields(application, document_type, values: dict[str, str], *, status="extracted"):
    """A read document with the machine's values as revision 1, built without a worker."""
    from django.core.files.base import ContentFile

    from accounts.models import Role
    from extraction.history import RevisionAction, revision_append
    from extraction.models import Document, Field
    from extraction.normalize import normalize

    data = pdf_bytes()
    document = Document(
        application=application,
        uploaded_by=application.owner,
        document_type=document_type,
        original_name=f"{document_type.key}.pdf",
        media_type="application/pdf",
        size=len(data),
        sha256="0" * 64,
        page_count=1,
        status=status,
    )
    document.original.save("test.pdf", ContentFile(data), save=False)
    document.save()
    for position, spec in enumerate(document_type.fields):
        value = values.get(spec["key"], "")
        field = Field.objects.create(
            document=document,
            key=spec["key"],
            label=spec["label"],
            kind=spec.get("kind", "text"),
            required=spec.get("required", False),
            sensitive=spec.get("sensitive", False),
            position=position,
            machine_value=value,
            value=value,
            normalized=normalize(spec.get("kind", "text"), value) if value else "",
            grounded=bool(value),
        )
        revision_append(
            field=field, value=value, actor=None, role=Role.MACHINE, action=RevisionAction.EXTRACTED
        )
    return document


def pay_stub_pdf(reference: str) -> bytes:
    """A one-page pay stub with a text layer holding PAY_STUB_VALUES (so no OCR is needed and
    every value is found on the page), plus ``reference``, which makes each file unique (so no
    reading is reused from the cache of another)."""
    pdf = FPDF(format="letter")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for key, value in PAY_STUB_VALUES.items():
        pdf.cell(0, 6, f"{key.replace('_', ' ').title()}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Reference {reference}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
