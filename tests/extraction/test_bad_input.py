"""Bad input ends with fields unread or ungrounded, never with invented values shown as read."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from extraction.models import Document
from tests.builders import pdf_bytes
from tests.extraction.conftest import text_pdf, upload_and_read

SCAN = "pay_stub_2026-01-16_scan.png"
MONEY = ["gross_pay", "total_deductions", "net_pay", "ytd_gross"]


def turned(path, degrees: int) -> bytes:
    buffer = io.BytesIO()
    Image.open(path).rotate(degrees, expand=True).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("degrees", [180, 90], ids=["upside-down", "sideways"])
def test_a_turned_scan_is_set_upright_before_ocr_and_read(
    degrees, settings, applicant_application, shipped_types, sample_paths, expected
):
    settings.EXTRACTION_SECOND_PROVIDER = ""

    document = upload_and_read(
        applicant_application,
        turned(sample_paths[SCAN], degrees),
        name="scan.png",
        document_type=shipped_types["pay_stub"],
    )

    assert document.status == Document.Status.EXTRACTED, document.reason
    page = document.pages.get()
    assert page.height > page.width  # portrait again
    fields = {f.key: f for f in document.fields.all()}
    assert {k: fields[k].normalized for k in MONEY} == {
        k: expected[SCAN]["fields"][k] for k in MONEY
    }
    assert all(fields[k].grounded for k in MONEY)


def test_a_blank_page_leaves_every_field_unread(settings, applicant_application, shipped_types):
    settings.EXTRACTION_SECOND_PROVIDER = ""

    document = upload_and_read(
        applicant_application, pdf_bytes(), document_type=shipped_types["pay_stub"]
    )

    assert document.status == Document.Status.NEEDS_MANUAL_ENTRY
    assert document.reason_code == "unreadable"
    assert set(document.fields.values_list("value", "grounded")) == {("", False)}


def test_a_page_in_another_language_yields_nothing_invented(
    settings, applicant_application, shipped_types
):
    settings.EXTRACTION_SECOND_PROVIDER = ""
    german = text_pdf(
        [
            "Lohnabrechnung Januar 2026\nArbeitnehmer: Jordan Rivera\n"
            "Bruttoverdienst 2.280,00 EUR\nNettoverdienst 1.698,08 EUR\nAuszahlung am 30.01.2026"
        ]
    )

    document = upload_and_read(
        applicant_application, german, document_type=shipped_types["pay_stub"]
    )

    fields = list(document.fields.all())
    assert document.status == Document.Status.NEEDS_MANUAL_ENTRY
    # Whatever was read stands on the page; nothing is filled in from elsewhere.
    assert all(f.grounded for f in fields if f.value)
    assert not any(f.value for f in fields if f.required and f.key != "employee_name")


def test_a_value_the_llm_invents_is_kept_but_marked_ungrounded(
    llm_settings, fake_llm, applicant_application, shipped_types
):
    llm_settings.EXTRACTION_PROVIDER = "openai"
    fake_llm.answer(
        {**dict.fromkeys(f["key"] for f in shipped_types["pay_stub"].fields), "net_pay": "9,999.99"}
    )

    document = upload_and_read(
        applicant_application,
        text_pdf(["EARNINGS STATEMENT", "Net pay 1,987.60"]),
        document_type=shipped_types["pay_stub"],
    )

    net = document.fields.get(key="net_pay")
    assert net.value == "9,999.99"
    assert not net.grounded and net.page is None and net.box == []
