"""The pipeline reading through the cloud providers, chosen by settings alone (as the README
shows), over real HTTP against the fake: a good answer becomes proposed fields, an unusable one
manual entry, a throttled one a retry."""

from __future__ import annotations

import pytest

from extraction.models import Document, ExtractionRun
from extraction.providers.bedrock import aws_credentials_forget
from tests.builders import PAY_STUB_VALUES
from tests.extraction.conftest import text_pdf, upload_and_read
from tests.fakes.llm_server import FAKE_AWS_KEY_ID, FAKE_AWS_SECRET, FAKE_GOOGLE_TOKEN

STUB = text_pdf(["EARNINGS STATEMENT"])


@pytest.fixture(params=["bedrock", "vertex-google", "vertex-anthropic"])
def cloud(request, llm_settings, fake_llm, monkeypatch, tmp_path):
    """EXTRACTION_PROVIDER and the vendor's settings, pointed at the fake."""
    settings = llm_settings
    if request.param == "bedrock":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_AWS_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        aws_credentials_forget()
        settings.EXTRACTION_PROVIDER = "bedrock"
        settings.BEDROCK_REGION = "us-east-1"
        settings.BEDROCK_BASE_URL = fake_llm.root_url
        settings.BEDROCK_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
        settings.BEDROCK_TIMEOUT_SECONDS = 5
    else:
        settings.EXTRACTION_PROVIDER = "vertex"
        settings.VERTEX_PUBLISHER = request.param.split("-")[1]
        settings.VERTEX_PROJECT = "attest-test"
        settings.VERTEX_LOCATION = "us-central1"
        settings.VERTEX_BASE_URL = fake_llm.root_url
        settings.VERTEX_ACCESS_TOKEN = FAKE_GOOGLE_TOKEN
        settings.VERTEX_MODEL = (
            "gemini-2.5-flash" if request.param == "vertex-google" else "claude-haiku-4-5@20251001"
        )
        settings.VERTEX_TIMEOUT_SECONDS = 5
    yield request.param
    aws_credentials_forget()


def test_a_good_answer_is_saved_as_proposed_fields(
    cloud, fake_llm, applicant_application, shipped_types
):
    fake_llm.answer(PAY_STUB_VALUES)

    document = upload_and_read(applicant_application, STUB, document_type=shipped_types["pay_stub"])

    assert document.status == Document.Status.EXTRACTED, document.reason
    assert document.fields.get(key="net_pay").normalized == "1987.60"
    run = document.runs.get()
    assert (run.provider, run.outcome) == (cloud.split("-")[0], "ok")
    assert run.tokens_in > 0
    assert fake_llm.rejected == []


def test_broken_output_twice_ends_in_manual_entry(
    cloud, fake_llm, applicant_application, shipped_types
):
    fake_llm.broken_json()
    fake_llm.broken_json()

    document = upload_and_read(applicant_application, STUB, document_type=shipped_types["pay_stub"])

    assert document.status == Document.Status.NEEDS_MANUAL_ENTRY
    assert document.runs.get().outcome == ExtractionRun.Outcome.INVALID_OUTPUT
    assert len(fake_llm.requests) == 2
    assert fake_llm.rejected == []


def test_throttling_records_the_run_and_propagates_for_a_retry(
    cloud, fake_llm, applicant_application, shipped_types
):
    from extraction.providers.base import ProviderTransientError

    fake_llm.status(429, retry_after=2)

    with pytest.raises(ProviderTransientError) as caught:
        upload_and_read(applicant_application, STUB, document_type=shipped_types["pay_stub"])

    assert caught.value.retry_after == 2
    run = ExtractionRun.objects.get()
    assert run.outcome == ExtractionRun.Outcome.ERROR
