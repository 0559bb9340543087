"""What people are told about how a document's text was had: OCR missing, a lying text layer."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFont

from extraction import ocr
from extraction.models import Document
from tests.extraction.conftest import upload_and_read
from tests.extraction.hostile_corpus import _one_page, _pdf
from tests.extraction.test_real_world_kinds import DEJAVU, lying_digits_pdf
from tests.factories import AdminFactory, UserFactory


def _scan_png() -> bytes:
    image = Image.new("L", (1275, 1650), 255)
    draw = ImageDraw.Draw(image)
    draw.text((90, 120), "Net Pay   1,712.98", fill=0, font=ImageFont.load_default(size=30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("typed", [True, False], ids=["type-chosen", "type-unknown"])
def test_without_ocr_a_scan_asks_for_typing_in_says_why_and_offers_no_retry(
    typed, settings, applicant_application, shipped_types, client_for
):
    settings.EXTRACTION_OCR_ENGINE = "none"
    settings.EXTRACTION_SECOND_PROVIDER = ""

    document = upload_and_read(
        applicant_application,
        _scan_png(),
        name="scan.png",
        document_type=shipped_types["pay_stub"] if typed else None,
    )

    assert document.status == Document.Status.NEEDS_MANUAL_ENTRY
    assert document.reason_code == "ocr_unavailable"
    assert "not available on this server" in document.reason
    assert document.metadata["reading_notes"] == {"ocr_unavailable": [1]}
    page = client_for(applicant_application.owner).get(
        reverse("application_detail", args=[applicant_application.pk])
    )
    html = page.content.decode()
    assert "Text recognition (OCR) is not available on this server" in html
    assert "Retry reading" not in html


def test_the_ocr_health_view_tells_an_admin_whether_scans_can_be_read(
    settings, staff_groups, client_for
):
    admin = AdminFactory()
    settings.EXTRACTION_OCR_ENGINE = "none"
    down = client_for(admin).get(reverse("ocr_health"))
    assert down.status_code == 503
    assert down.json()["ocr"] == "unavailable"
    assert down.json()["effect"] == ocr.UNAVAILABLE_MESSAGE

    settings.EXTRACTION_OCR_ENGINE = "rapidocr"
    up = client_for(admin).get(reverse("ocr_health"))
    assert up.status_code == 200, up.json()
    assert up.json() == {
        "ocr": "ok",
        "engine": "rapidocr",
        "detail": "RapidOCR (PP-OCRv4 on onnxruntime)",
    }


def test_the_ocr_health_view_is_for_staff_only(db, client_for):
    response = client_for(UserFactory()).get(reverse("ocr_health"))
    assert response.status_code == 302
    assert "/login" in response["Location"] or "admin" in response["Location"]


@pytest.mark.skipif(not DEJAVU.exists(), reason="needs a TrueType font with a ToUnicode map")
def test_a_lying_text_layer_is_noted_where_the_applicant_and_reviewer_see_it(
    settings, applicant_application, shipped_types, client_for
):
    """Values come from what the page shows; the note names the disagreement; no value the
    layer claimed is marked as found on the page."""
    settings.EXTRACTION_SECOND_PROVIDER = ""
    if not ocr.availability()[0]:
        pytest.skip("no OCR engine can run here")

    document = upload_and_read(
        applicant_application,
        lying_digits_pdf(),
        name="stub.pdf",
        document_type=shipped_types["pay_stub"],
    )

    notes = document.metadata["reading_notes"]["text_layer_disagrees"]
    assert {"page": 1, "layer": "7,905.55", "seen": "2,450.00"} in notes
    fields = {f.key: f for f in document.fields.all()}
    assert fields["gross_pay"].normalized == "2450.00"
    assert fields["gross_pay"].grounded
    client = client_for(applicant_application.owner)
    for url in (
        reverse("application_detail", args=[applicant_application.pk]),
        reverse("document_detail", args=[document.pk]),
    ):
        html = client.get(url).content.decode()
        assert "disagreed with what the page shows" in html, url
        assert "where the page shows" in html, url


def test_text_the_page_does_not_show_is_noted_where_the_applicant_and_reviewer_see_it(
    settings, applicant_application, shipped_types, client_for
):
    settings.EXTRACTION_SECOND_PROVIDER = ""
    content = (
        b"BT /F1 12 Tf 1 0 0 1 72 700 Tm (EARNINGS STATEMENT Net pay 1,987.60) Tj ET\n"
        b"1 g BT /F1 12 Tf 1 0 0 1 72 650 Tm (Net pay 9,850.00) Tj ET\n"
    )
    document = upload_and_read(
        applicant_application,
        _pdf(_one_page(content)),
        name="stub.pdf",
        document_type=shipped_types["pay_stub"],
    )

    assert document.metadata["reading_notes"]["hidden_text"] == [
        {"page": 1, "text": "Net pay 9,850.00"}
    ]
    client = client_for(applicant_application.owner)
    html = client.get(reverse("document_detail", args=[document.pk])).content.decode()
    assert "This file holds text that its page does not show" in html
    assert "“Net pay 9,850.00” on page 1" in html
