"""Cost per call, per document and per application; caps that stop runaway spending."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from extraction.models import Document, ExtractionRun
from extraction.selectors import application_cost, document_cost
from tests.builders import PAY_STUB_VALUES
from tests.extraction.conftest import text_pdf, upload_and_read


def test_costs_add_up_per_document_and_per_application_in_one_query_each(
    llm_settings, fake_llm, applicant_application, shipped_types
):
    llm_settings.EXTRACTION_PROVIDER = "openai"
    llm_settings.LLM_PRICES = {"gpt-4o-mini": {"input": "0.15", "output": "0.60"}}
    llm_settings.EXTRACTION_PAGES_PER_CALL = 1
    fake_llm.expect(PAY_STUB_VALUES)
    two_pages = upload_and_read(
        applicant_application,
        text_pdf(["Net pay 1,987.60", "page two"]),
        document_type=shipped_types["pay_stub"],
    )
    one_page = upload_and_read(
        applicant_application, text_pdf(["another stub"]), document_type=shipped_types["pay_stub"]
    )

    with CaptureQueriesContext(connection) as queries:
        cost = document_cost(document=two_pages)
        total = application_cost(application=applicant_application)

    per_call = (1200 * Decimal("0.15") + 80 * Decimal("0.60")) / 1_000_000
    assert len(queries) == 2
    assert (cost.calls, cost.tokens_in, cost.tokens_out) == (2, 2400, 160)
    assert cost.cost == 2 * per_call.quantize(Decimal("0.000001"))
    assert total.calls == 3
    assert total.cost == cost.cost + document_cost(document=one_page).cost


def test_a_document_over_the_page_cap_waits_for_manual_entry_without_any_call(
    llm_settings, fake_llm, applicant_application, shipped_types
):
    llm_settings.EXTRACTION_PROVIDER = "openai"
    llm_settings.EXTRACTION_MAX_PAGES_PER_DOCUMENT = 2

    document = upload_and_read(
        applicant_application, text_pdf(["a", "b", "c"]), document_type=shipped_types["pay_stub"]
    )

    assert document.status == Document.Status.NEEDS_MANUAL_ENTRY
    assert document.reason_code == "spending_cap"
    assert "limit of pages" in document.reason and "(2 pages)" in document.reason
    assert fake_llm.requests == []
    assert document.runs.get().outcome == ExtractionRun.Outcome.CAPPED
    assert document.fields.count() == len(shipped_types["pay_stub"].fields)


def test_an_application_over_the_call_cap_stops_before_calling(
    llm_settings, fake_llm, applicant_application, shipped_types
):
    llm_settings.EXTRACTION_PROVIDER = "openai"
    llm_settings.EXTRACTION_MAX_CALLS_PER_APPLICATION = 1
    upload_and_read(applicant_application, text_pdf(["one"]), document_type=shipped_types["w2"])

    second = upload_and_read(
        applicant_application, text_pdf(["two"]), document_type=shipped_types["w2"]
    )

    assert len(fake_llm.requests) == 1
    assert second.reason_code == "spending_cap"
    assert "application reached the limit of reading requests" in second.reason


def test_the_free_local_provider_is_never_capped(
    llm_settings, applicant_application, shipped_types
):
    llm_settings.EXTRACTION_PROVIDER = "local"
    llm_settings.EXTRACTION_MAX_PAGES_PER_DOCUMENT = 1

    document = upload_and_read(
        applicant_application,
        text_pdf(["Net pay: 1.00", "b"]),
        document_type=shipped_types["pay_stub"],
    )

    assert document.reason_code != "spending_cap"
