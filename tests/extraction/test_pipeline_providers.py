"""The pipeline with LLM providers over real HTTP: final states for every answer, type overrides."""

from __future__ import annotations

import pytest

from extraction.models import Document, ExtractionRun
from extraction.pipeline import document_process
from tests.builders import PAY_STUB_VALUES
from tests.extraction.conftest import text_pdf, upload_and_read
from tests.waiting import document_finished

# A text layer, so that no test here waits for OCR.
STUB = text_pdf(["EARNINGS STATEMENT"])


@pytest.fixture(params=["openai", "anthropic"])
def provider(request, llm_settings):
    llm_settings.EXTRACTION_PROVIDER = request.param
    return request.param


def test_a_good_answer_is_saved_as_proposed_fields(
    provider, fake_llm, applicant_application, shipped_types
):
    fake_llm.answer(PAY_STUB_VALUES)

    document = upload_and_read(applicant_application, STUB, document_type=shipped_types["pay_stub"])

    assert document.status == Document.Status.EXTRACTED
    assert document.fields.get(key="net_pay").normalized == "1987.60"
    run = document.runs.get()
    assert (run.provider, run.outcome, run.page_first, run.page_last) == (provider, "ok", 1, 1)
    assert run.values["net_pay"] == "1,987.60"
    assert fake_llm.rejected == []


@pytest.mark.parametrize(
    ("script", "requests"),
    [
        (["broken_json", "broken_json"], 2),
        (["schema_invalid", "schema_invalid"], 2),
        (["refusal"], 1),
        (["empty"], 1),
        (["truncated"], 1),
    ],
    ids=["broken-twice", "schema-invalid-twice", "refusal", "empty", "cut-off"],
)
def test_an_unusable_answer_ends_in_manual_entry_with_empty_fields(
    provider, fake_llm, applicant_application, shipped_types, script, requests
):
    for behaviour in script:
        getattr(fake_llm, behaviour)()

    document = upload_and_read(applicant_application, STUB, document_type=shipped_types["pay_stub"])

    assert document.status == Document.Status.NEEDS_MANUAL_ENTRY
    assert document.reason_code == "unreadable"
    assert set(document.fields.values_list("value", flat=True)) == {""}
    assert document.runs.get().outcome == ExtractionRun.Outcome.INVALID_OUTPUT
    assert len(fake_llm.requests) == requests
    assert fake_llm.rejected == []


@pytest.mark.parametrize(
    "behaviour", ["status-429", "status-529", "status-503", "reset", "timeout"]
)
def test_a_transient_failure_records_the_run_and_propagates_for_a_retry(
    provider, fake_llm, applicant_application, shipped_types, behaviour, llm_settings
):
    from extraction.providers.base import ProviderTransientError

    llm_settings.LLM_TIMEOUT_SECONDS = llm_settings.ANTHROPIC_TIMEOUT_SECONDS = 0.5
    if behaviour.startswith("status-"):
        fake_llm.status(int(behaviour.split("-")[1]), retry_after=2)
    elif behaviour == "reset":
        fake_llm.reset()
    else:
        fake_llm.delay(2)
    from extraction.services import document_upload
    from tests.builders import upload

    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("stub.pdf", STUB),
        actor=applicant_application.owner,
        document_type=shipped_types["pay_stub"],
    )

    with pytest.raises(ProviderTransientError):
        document_process(document_id=document.pk)

    assert document.runs.get().outcome == ExtractionRun.Outcome.ERROR
    assert len(fake_llm.requests) == 1


def test_a_document_type_can_name_its_own_provider(
    llm_settings, fake_llm, applicant_application, shipped_types
):
    """The default stays local; pay stubs alone go to Anthropic."""
    llm_settings.EXTRACTION_PROVIDER = "local"
    pay_stub = shipped_types["pay_stub"]
    pay_stub.provider = "anthropic"
    pay_stub.save()
    fake_llm.answer(PAY_STUB_VALUES)

    document = upload_and_read(applicant_application, STUB, document_type=pay_stub)

    assert document.status == Document.Status.EXTRACTED
    assert [r.path for r in fake_llm.requests] == ["/v1/messages"]
    assert document.runs.get().provider == "anthropic"


@pytest.mark.worker
@pytest.mark.parametrize("code", [429, 529])
def test_anthropic_busy_is_retried_by_the_worker_and_then_read(
    start_worker, fake_llm, applicant_application, shipped_types, code
):
    from extraction.services import document_upload
    from tests.builders import upload

    worker = start_worker(
        EXTRACTION_PROVIDER="anthropic",
        LLM_BASE_URL=fake_llm.base_url,
        LLM_API_KEY="sk-ant-test",
        LLM_MODEL="claude-haiku-4-5",
        LLM_TIMEOUT_SECONDS="5",
    )
    fake_llm.status(code, retry_after=1)
    fake_llm.answer(PAY_STUB_VALUES)
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("stub.pdf", STUB),
        actor=applicant_application.owner,
        document_type=shipped_types["pay_stub"],
    )

    document_finished(document, worker=worker)

    assert document.status == Document.Status.EXTRACTED, document.reason
    assert document.attempts == 2
    assert sorted(document.runs.values_list("outcome", flat=True)) == ["error", "ok"]
    assert [r.path for r in fake_llm.requests] == ["/v1/messages", "/v1/messages"]
    assert fake_llm.rejected == []
