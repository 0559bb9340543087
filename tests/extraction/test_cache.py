"""An identical file read the same way is read once: the second reading costs nothing."""

from __future__ import annotations

from decimal import Decimal

from extraction.models import Document, ExtractionRun
from extraction.selectors import document_cost
from tests.builders import PAY_STUB_VALUES
from tests.extraction.conftest import text_pdf, upload_and_read
from tests.factories import ApplicationFactory

STUB = text_pdf(["EARNINGS STATEMENT", "Net pay 1,987.60"])


def _another(application):
    """Another application of the same person: one application takes a file only once."""
    return ApplicationFactory(owner=application.owner, status=application.status)


def test_the_same_file_of_the_same_type_reuses_the_earlier_reading(
    llm_settings, fake_llm, applicant_application, shipped_types
):
    llm_settings.EXTRACTION_PROVIDER = "openai"
    fake_llm.expect(PAY_STUB_VALUES)
    first = upload_and_read(applicant_application, STUB, document_type=shipped_types["pay_stub"])

    second = upload_and_read(
        _another(applicant_application), STUB, document_type=shipped_types["pay_stub"]
    )

    assert len(fake_llm.requests) == 1
    assert second.status == Document.Status.EXTRACTED
    assert dict(second.fields.values_list("key", "value")) == dict(
        first.fields.values_list("key", "value")
    )
    run = second.runs.get()
    assert run.outcome == ExtractionRun.Outcome.OK
    assert run.cost == Decimal("0") and run.tokens_in == 0
    assert run.cached_from == first.runs.get()
    assert document_cost(document=second).cost == 0
    assert document_cost(document=first).cost > 0


def test_another_model_or_type_version_reads_again(
    llm_settings, fake_llm, applicant_application, shipped_types
):
    llm_settings.EXTRACTION_PROVIDER = "openai"
    pay_stub = shipped_types["pay_stub"]
    upload_and_read(applicant_application, STUB, document_type=pay_stub)

    llm_settings.LLM_MODEL = "gpt-4.1-mini"
    upload_and_read(_another(applicant_application), STUB, document_type=pay_stub)
    pay_stub.version += 1
    pay_stub.save()
    third = upload_and_read(_another(applicant_application), STUB, document_type=pay_stub)

    assert len(fake_llm.requests) == 3
    assert third.runs.get().cached_from is None


def test_a_retry_reuses_the_page_groups_already_read(
    llm_settings, fake_llm, applicant_application, shipped_types
):
    """Of two page groups, the one read before the rate limit is not paid for again."""
    import pytest

    from extraction.pipeline import document_process, document_requeue
    from extraction.providers.base import ProviderTransientError
    from extraction.services import document_upload
    from tests.builders import upload

    llm_settings.EXTRACTION_PROVIDER = "openai"
    llm_settings.EXTRACTION_PAGES_PER_CALL = 1
    llm_settings.EXTRACTION_PROVIDER_CONCURRENCY = {"openai": 1}  # one at a time: a fixed order
    fake_llm.answer(PAY_STUB_VALUES)
    fake_llm.status(429, retry_after=1)
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("stub.pdf", STUB),
        actor=applicant_application.owner,
        document_type=shipped_types["pay_stub"],
    )
    with pytest.raises(ProviderTransientError):
        document_process(document_id=document.pk)
    document_requeue(document_id=document.pk, note="retry")

    document_process(document_id=document.pk)

    document.refresh_from_db()
    assert document.status == Document.Status.EXTRACTED
    assert len(fake_llm.requests) == 3  # page 1, page 2 (429), page 2 again
    assert document.runs.filter(cached_from__isnull=False).count() == 1
