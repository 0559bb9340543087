"""How a page image is stored for people: a scan or a photo whose pixels came as a JPEG is kept
as a JPEG (a PNG of its noise was four times the bytes and ten times the time), anything drawn
or lossless stays a PNG, and the page is served with the type it has."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from extraction.ingest import render_pages
from extraction.models import Document
from extraction.pipeline import document_process
from extraction.services import document_upload
from tests.builders import upload

JPEG_START, PNG_START = b"\xff\xd8", b"\x89PNG"


def _scan(size=(1275, 1650)) -> Image.Image:
    image = Image.new("RGB", size, (236, 234, 228))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=34)
    for row, line in enumerate(["Bluegate Freight LLC", "Gross Pay 2,450.00", "Net Pay 1,837.55"]):
        draw.text((90, 120 + row * 80), line, fill=(30, 30, 40), font=font)
    return image


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def _pdf_with_image(data: bytes, *, width_mm: float = 215.9, vector: bool = False) -> bytes:
    pdf = FPDF(unit="mm", format="Letter")
    pdf.add_page()
    if vector:  # a form drawn as lines, no text layer
        for row in range(30):
            pdf.line(20, 60 + row * 6, 190, 60 + row * 6)
    pdf.image(io.BytesIO(data), x=0, y=0, w=width_mm)
    return bytes(pdf.output())


def _stored(data: bytes, media_type: str):
    (page,) = render_pages(data=data, media_type=media_type, max_pixels=1000)
    return page


def test_a_scan_in_a_pdf_is_stored_as_the_jpeg_it_came_as():
    page = _stored(_pdf_with_image(_encoded(_scan(), "JPEG")), "application/pdf")
    assert page.image.startswith(JPEG_START)
    stored = Image.open(io.BytesIO(page.image))
    assert stored.mode == "RGB" and stored.size == (page.width, page.height)
    assert max(stored.size) == 1000


def test_a_lossless_scan_in_a_pdf_stays_a_png():
    page = _stored(_pdf_with_image(_encoded(_scan(), "PNG")), "application/pdf")
    assert page.image.startswith(PNG_START)


def test_a_small_jpeg_logo_on_a_drawn_page_keeps_the_page_a_png():
    logo = _encoded(_scan((200, 120)), "JPEG")
    page = _stored(_pdf_with_image(logo, width_mm=40, vector=True), "application/pdf")
    assert page.image.startswith(PNG_START)


@pytest.mark.parametrize(
    ("image_format", "media_type", "start"),
    [("JPEG", "image/jpeg", JPEG_START), ("PNG", "image/png", PNG_START)],
)
def test_an_uploaded_image_is_stored_in_the_kind_it_came_as(image_format, media_type, start):
    page = _stored(_encoded(_scan(), image_format), media_type)
    assert page.image.startswith(start)
    assert Image.open(io.BytesIO(page.image)).size == (page.width, page.height)


def test_a_scanned_page_is_served_as_a_jpeg(client_for, applicant_application, shipped_types):
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("scan.pdf", _pdf_with_image(_encoded(_scan(), "JPEG"))),
        actor=applicant_application.owner,
        document_type=shipped_types["pay_stub"],
    )
    document_process(document_id=document.pk)
    document = Document.objects.get(pk=document.pk)
    page = document.pages.get(number=1)
    assert page.image.name.endswith(".jpg")
    response = client_for(applicant_application.owner).get(
        reverse("page_image", args=[document.pk, 1])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(JPEG_START)
