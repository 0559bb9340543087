"""How many sandboxed children render a document: EXTRACTION_TEXT_RENDER_PROCESSES (one) for a
born-digital PDF, whose text pages render in milliseconds, and EXTRACTION_RENDER_PROCESSES for
pages that need OCR (a scan, a photo), which two children read in half the time. The upload
check records which a PDF is (``uploads.TEXT_LAYER_KEY``, from its first page); the pipeline
reads it (``_renderers``)."""

from __future__ import annotations

import random

import pytest

from evals.corpus import pay_stub
from evals.corpus.variants import images_as_pdf, pages_as_images, scanned
from extraction import pipeline
from extraction.services import document_upload
from extraction.uploads import TEXT_LAYER_KEY, inspect_upload
from tests.builders import pdf_bytes, png_bytes, upload
from tests.extraction.conftest import text_pdf


def _scan_pdf() -> bytes:
    """Two flatbed scans of a pay stub's page in an image-only PDF."""
    rng = random.Random(3)  # noqa: S311 - a fixture's noise, not a secret
    page = pages_as_images(pay_stub.generate(rng, inject=False, tamper=False).pdf)[0]
    return images_as_pdf([scanned(page, rng), scanned(page, rng)])


def test_the_upload_check_records_whether_a_pdfs_first_page_has_a_text_layer():
    assert inspect_upload(text_pdf(["Net pay 1,837.55"])).metadata[TEXT_LAYER_KEY] is True
    assert inspect_upload(_scan_pdf()).metadata[TEXT_LAYER_KEY] is False
    assert inspect_upload(pdf_bytes(2)).metadata[TEXT_LAYER_KEY] is False  # blank pages


def test_a_photo_carries_no_text_layer_fact():
    assert TEXT_LAYER_KEY not in inspect_upload(png_bytes()).metadata


@pytest.mark.parametrize(
    ("data", "name", "renderers"),
    [
        (text_pdf(["Page one 1.00", "Page two 2.00", "Page three 3.00"]), "statement.pdf", 1),
        (_scan_pdf(), "scan.pdf", 2),
        (png_bytes((800, 1000)), "photo.png", 1),  # one page: one child whatever the setting
    ],
    ids=["text PDF", "scanned PDF", "photo"],
)
def test_a_document_gets_one_renderer_for_text_and_the_setting_for_ocr(
    settings, applicant_application, data, name, renderers
):
    settings.EXTRACTION_RENDER_PROCESSES = 2
    settings.EXTRACTION_TEXT_RENDER_PROCESSES = 1
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload(name, data),
        actor=applicant_application.owner,
    )

    assert pipeline._renderers(document, 1) == renderers


def test_a_file_uploaded_before_the_fact_was_recorded_gets_the_setting(
    settings, applicant_application
):
    settings.EXTRACTION_RENDER_PROCESSES = 2
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("old.pdf", text_pdf(["One 1.00", "Two 2.00"])),
        actor=applicant_application.owner,
    )
    document.metadata = {k: v for k, v in document.metadata.items() if k != TEXT_LAYER_KEY}

    assert pipeline._renderers(document, 1) == 2
    assert pipeline._renderers(document, 2) == 1  # the last page alone


def test_the_pipeline_renders_a_text_pdf_in_one_child(
    settings, applicant_application, render_calls
):
    """The real pipeline, through the sandbox: the renderer is asked for one child."""
    settings.EXTRACTION_RENDER_PROCESSES = 2
    settings.EXTRACTION_TEXT_RENDER_PROCESSES = 1
    settings.EXTRACTION_PROVIDER = "local"
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("statement.pdf", text_pdf(["One 1.00", "Two 2.00", "Three 3.00"])),
        actor=applicant_application.owner,
    )
    while pipeline.document_process(document_id=document.pk) is pipeline.Outcome.MORE:
        pass

    document.refresh_from_db()
    assert [call["processes"] for call in render_calls] == [1]
    assert document.pages.count() == 3


def test_text_pdfs_can_be_given_more_renderers(settings, applicant_application):
    settings.EXTRACTION_TEXT_RENDER_PROCESSES = 3
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("long.pdf", text_pdf([f"Page {n} {n}.00" for n in range(1, 6)])),
        actor=applicant_application.owner,
    )

    assert pipeline._renderers(document, 1) == 3
    assert pipeline._renderers(document, 4) == 2
