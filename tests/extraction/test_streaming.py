"""The streaming pipeline: provider calls start while later pages are still rendered.

Every test reads a real PDF through ``document_process`` (the sandboxed renderer, storage, the
database) against the fake OpenAI-compatible server over real HTTP; the only spies wrap the
pipeline's own functions to note when pages were stored, and call through.
"""

from __future__ import annotations

import base64
import io
import time

import pytest
from PIL import Image

from extraction import pipeline, renderers
from extraction.models import Document, ExtractionRun
from extraction.pipeline import Outcome, document_process
from extraction.services import document_upload
from tests.builders import upload
from tests.extraction.conftest import text_pdf
from tests.fakes import FakeLLMServer

PAGES = 8


def statement_answer(spec_keys):
    def answer(record):
        values = dict.fromkeys(spec_keys)
        values["account_holder"] = "Jordan A. Rivera"
        values["transactions"] = [
            {"date": f"01/{n:02d}", "description": f"PURCHASE ON PAGE {n}", "amount": "-1.00"}
            for n in record.page_numbers()
        ]
        return values

    return answer


@pytest.fixture
def llm(settings, shipped_types):
    with FakeLLMServer(latency=0.5) as server:
        settings.EXTRACTION_PROVIDER = "openai"
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_TIMEOUT_SECONDS = 10
        settings.EXTRACTION_SECOND_PROVIDER = ""
        settings.EXTRACTION_PAGES_PER_CALL = 2
        settings.EXTRACTION_PROVIDER_CONCURRENCY = {"openai": 8}
        statement = shipped_types["bank_statement"]
        server.answer_by(statement_answer([f["key"] for f in statement.fields]))
        yield server
    renderers.close_all()


@pytest.fixture
def stored_at(monkeypatch):
    """(time.monotonic(), last page number) each time the pipeline stores pages."""
    seen: list[tuple[float, int]] = []
    store = pipeline._store

    def spy(lease, document, rendered, stream):
        stored = store(lease, document, rendered, stream)
        seen.append((time.monotonic(), rendered[-1].number))
        return stored

    monkeypatch.setattr(pipeline, "_store", spy)
    return seen


def _statement(application, shipped_types, pages=PAGES):
    data = text_pdf(
        [f"Everyday Checking\nPage {n} of {pages}\nTransactions" for n in range(1, 1 + pages)]
    )
    return document_upload(
        application=application,
        uploaded_file=upload("statement.pdf", data),
        actor=application.owner,
        document_type=shipped_types["bank_statement"],
    )


def _read(document) -> tuple[Document, int]:
    slices = 1
    while document_process(document_id=document.pk) is Outcome.MORE:
        slices += 1
    return Document.objects.get(pk=document.pk), slices


def test_the_first_call_starts_before_the_last_page_is_stored(
    settings, llm, stored_at, applicant_application, shipped_types
):
    # One renderer: two render these 8 pages in about 0.3 s, within the first call's own
    # start-up on a loaded machine, which would make the order a race rather than a guarantee.
    settings.EXTRACTION_RENDER_PROCESSES = 1
    document, _ = _read(_statement(applicant_application, shipped_types))

    assert document.status == Document.Status.EXTRACTED, document.reason
    first_call = min(request.received_at for request in llm.requests)
    last_page_stored = max(at for at, number in stored_at if number == PAGES)
    assert first_call < last_page_stored
    # Pages are stored a group at a time, each group's call right behind it.
    assert [number for _, number in stored_at] == [2, 4, 6, 8]
    assert sorted(n for r in llm.requests for n in r.page_numbers()) == list(range(1, 1 + PAGES))


def test_each_call_is_recorded_once_and_the_rows_come_back_in_page_order(
    llm, applicant_application, shipped_types
):
    document, _ = _read(_statement(applicant_application, shipped_types))

    runs = list(document.runs.order_by("page_first"))
    assert [(r.page_first, r.page_last) for r in runs] == [(1, 2), (3, 4), (5, 6), (7, 8)]
    assert all(r.cached_from_id is None and r.outcome == ExtractionRun.Outcome.OK for r in runs)
    assert len(llm.requests) == 4
    rows = document.fields.get(key="transactions").value
    assert [f"PAGE {n}" in rows for n in range(1, 1 + PAGES)] == [True] * PAGES
    assert "streamed_runs" not in document.metadata


def test_no_more_pages_wait_in_memory_than_the_setting_allows(
    settings, llm, monkeypatch, applicant_application, shipped_types
):
    """One page a call and room for two pages: never more than two calls hold pages at once,
    however many the provider would take."""
    settings.EXTRACTION_PAGES_PER_CALL = 1
    settings.EXTRACTION_STREAM_MAX_PAGES = 2
    held = []
    hold = pipeline._Stream.hold

    def spy(stream, page):
        hold(stream, page)
        held.append(len(stream.images))

    monkeypatch.setattr(pipeline._Stream, "hold", spy)

    document, _ = _read(_statement(applicant_application, shipped_types, pages=6))

    assert document.status == Document.Status.EXTRACTED, document.reason
    assert len(llm.requests) == 6
    assert max(held) <= 2
    assert llm.max_overlap() <= 2


def test_slices_hand_the_worker_back_and_reuse_one_renderer_and_every_call(
    settings, llm, render_calls, applicant_application, shipped_types
):
    """Slices of a millisecond: each slice stores a page or two and hands the document back;
    the sandboxed renderer is parked between slices rather than started again, and the calls
    started in earlier slices are neither paid for again nor recorded twice."""
    settings.EXTRACTION_SLICE_SECONDS = 0.001
    document = _statement(applicant_application, shipped_types)
    _statement(applicant_application, shipped_types, pages=1)  # waits: slices hand back
    document, slices = _read(document)

    assert document.status == Document.Status.EXTRACTED, document.reason
    assert slices > 2
    assert [call["first"] for call in render_calls] == [1]  # one child for the whole document
    assert renderers.parked_count() == 0
    assert len(llm.requests) == 4
    runs = document.runs.all()
    assert sorted((r.page_first, r.cached_from_id) for r in runs) == [
        (1, None),
        (3, None),
        (5, None),
        (7, None),
    ]


def test_a_parked_renderer_not_taken_back_is_closed(
    settings, llm, applicant_application, shipped_types
):
    settings.EXTRACTION_SLICE_SECONDS = 0.001
    settings.EXTRACTION_RENDERER_PARK_SECONDS = 0.2
    document = _statement(applicant_application, shipped_types)
    _statement(applicant_application, shipped_types, pages=1)  # waits: slices hand back

    assert document_process(document_id=document.pk) is Outcome.MORE
    assert renderers.parked_count() == 1
    time.sleep(0.6)
    assert renderers.parked_count() == 0
    # The next slice starts a fresh renderer from the first page not stored.
    document, _ = _read(document)
    assert document.status == Document.Status.EXTRACTED, document.reason
    assert list(document.pages.values_list("number", flat=True)) == list(range(1, 1 + PAGES))


def test_a_text_page_is_sent_as_a_small_palette_png(llm, applicant_application, shipped_types):
    _read(_statement(applicant_application, shipped_types, pages=2))

    url = llm.requests[0].image_urls()[0]
    assert url.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert image.mode == "P" and max(image.size) == 1024
