"""Sample documents, generated once per test session, and the shipped document types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extraction import pipeline
from extraction.catalog import shipped_document_types
from extraction.classify import catalog_of
from extraction.ingest import RenderedPage, render_pages
from extraction.schemas import DocumentTypeSpec
from samples.generate import expected_path, generate_samples

MEDIA_TYPES = {".pdf": "application/pdf", ".png": "image/png"}


@pytest.fixture(scope="session")
def sample_paths(tmp_path_factory) -> dict[str, Path]:
    """The generated sample documents by file name."""
    out_dir = tmp_path_factory.mktemp("samples")
    return {path.name: path for path in generate_samples(out_dir)}


@pytest.fixture(scope="session")
def rendered_samples(sample_paths) -> dict[str, list[RenderedPage]]:
    """Every sample's pages, rendered once: OCR of the scan takes seconds."""
    return {
        name: list(
            render_pages(
                data=path.read_bytes(), media_type=MEDIA_TYPES[path.suffix], max_pixels=1600
            )
        )
        for name, path in sample_paths.items()
    }


@pytest.fixture(scope="session")
def expected(sample_paths) -> dict[str, dict]:
    return {
        name: json.loads(expected_path(path).read_text()) for name, path in sample_paths.items()
    }


@pytest.fixture(scope="session")
def document_types() -> dict[str, DocumentTypeSpec]:
    """The shipped document types, read from their YAML files without a database."""
    return {data["key"]: DocumentTypeSpec.from_dict(data) for data in shipped_document_types()}


@pytest.fixture(scope="session")
def catalog(document_types):
    """The shipped types' classification keywords."""
    return catalog_of(document_types.values())


@pytest.fixture
def applicant_application(db, django_user_model, shipped_types):
    """An application of a fresh applicant, with the shipped document types in the database."""
    from applications.services import application_create

    owner = django_user_model.objects.create_user(email="rivera@example.com", password="x")
    return application_create(owner=owner, stated_name="Jordan A. Rivera")


@pytest.fixture
def llm_settings(settings, fake_llm):
    """Every LLM provider pointed at the fake server, with small, fast limits."""
    settings.LLM_BASE_URL = fake_llm.base_url
    settings.LLM_API_KEY = "sk-test"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.LLM_TIMEOUT_SECONDS = 5
    settings.ANTHROPIC_BASE_URL = fake_llm.base_url
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_MODEL = "claude-haiku-4-5"
    settings.ANTHROPIC_TIMEOUT_SECONDS = 5
    settings.EXTRACTION_SECOND_PROVIDER = ""
    # Test prices, so that costs never depend on the shipped table (config/provider_prices.py).
    settings.LLM_PRICES = {"gpt-4o-mini": {"input": "0.15", "output": "0.60"}}
    settings.ANTHROPIC_PRICES = {"claude-haiku-4-5": {"input": "1.00", "output": "5.00"}}
    return settings


def upload_and_read(application, data: bytes, *, name="file.pdf", document_type=None):
    """Upload a file and read it in this process (no worker): the pipeline's own code path."""
    from extraction.models import Document
    from extraction.pipeline import document_process
    from extraction.services import document_upload
    from tests.builders import upload

    document = document_upload(
        application=application,
        uploaded_file=upload(name, data),
        actor=application.owner,
        document_type=document_type,
    )
    document_process(document_id=document.pk)
    return Document.objects.get(pk=document.pk)


def text_pdf(pages: list[str]) -> bytes:
    """A PDF with a real text layer, one string per page (lines split on newlines).

    Each page ends with a footer, so that even a one-word page has enough text to count as a
    text layer and is never sent to OCR (which would only make the test slow).
    """
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        for line in [*text.splitlines(), "", "Printed for testing"]:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.fixture
def render_calls(monkeypatch) -> list[dict]:
    """The options of each ``render_pages`` call the pipeline makes, in order: a spy that
    calls through to the real renderer."""
    calls: list[dict] = []
    real = pipeline.render_pages

    def noted(**options):
        calls.append(options)
        return real(**options)

    monkeypatch.setattr(pipeline, "render_pages", noted)
    return calls
