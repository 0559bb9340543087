"""The reading pipeline on a real Celery worker and Redis, with providers over real HTTP."""

from __future__ import annotations

import pytest

from applications.models import Application
from applications.services import application_create
from extraction.models import Document, ExtractionRun
from extraction.services import document_upload
from extraction.tasks import process_document
from tests.builders import PAY_STUB_VALUES, pdf_bytes, upload
from tests.waiting import document_finished

pytestmark = pytest.mark.worker


@pytest.fixture
def application(django_user_model, shipped_types):
    owner = django_user_model.objects.create_user(email="jordan@example.com", password="x")
    return application_create(owner=owner, stated_name="Jordan A. Rivera")


def upload_pay_stub(application, shipped_types) -> Document:
    return document_upload(
        application=application,
        uploaded_file=upload("stub.pdf", pdf_bytes()),
        actor=application.owner,
        document_type=shipped_types["pay_stub"],
    )


def openai_worker(start_worker, fake_llm, **extra):
    return start_worker(
        EXTRACTION_PROVIDER="openai",
        LLM_BASE_URL=fake_llm.base_url,
        LLM_API_KEY="sk-test",
        LLM_MODEL="gpt-5.4-mini",  # priced in the shipped table
        LLM_TIMEOUT_SECONDS="5",
        **extra,
    )


def test_a_rate_limited_provider_is_retried_and_the_document_is_read(
    start_worker, fake_llm, application, shipped_types
):
    worker = openai_worker(start_worker, fake_llm)
    fake_llm.status(429, retry_after=1)
    fake_llm.answer(PAY_STUB_VALUES)
    document = upload_pay_stub(application, shipped_types)

    document_finished(document, worker=worker)

    assert document.status == Document.Status.EXTRACTED, list(
        document.runs.values("outcome", "error")
    )
    assert document.attempts == 2
    fields = {field.key: field for field in document.fields.all()}
    assert fields["net_pay"].value == "1,987.60"
    assert fields["net_pay"].normalized == "1987.60"
    first = fields["net_pay"].revisions.get()
    assert (first.number, first.role, first.actor) == (1, "machine", None)
    outcomes = sorted(document.runs.values_list("outcome", flat=True))
    assert outcomes == [ExtractionRun.Outcome.ERROR, ExtractionRun.Outcome.OK]
    ok_run = document.runs.get(outcome=ExtractionRun.Outcome.OK)
    assert ok_run.tokens_in > 0 and ok_run.cost > 0
    assert fake_llm.rejected == []
    application.refresh_from_db()
    assert application.status == Application.Status.AWAITING_APPLICANT


def test_a_provider_that_keeps_failing_ends_in_failed_with_a_reason(
    start_worker, fake_llm, application, shipped_types
):
    worker = openai_worker(start_worker, fake_llm, EXTRACTION_MAX_ATTEMPTS="2")
    for _ in range(4):
        fake_llm.status(503)
    document = upload_pay_stub(application, shipped_types)

    document_finished(document, worker=worker)

    assert document.status == Document.Status.FAILED
    assert document.reason_code == "provider_unavailable"
    assert "Retry" in document.reason
    assert document.runs.count() == 2
    application.refresh_from_db()
    assert application.status == Application.Status.AWAITING_APPLICANT


def test_unusable_answers_send_the_document_to_manual_entry_with_empty_fields(
    start_worker, fake_llm, application, shipped_types
):
    worker = openai_worker(start_worker, fake_llm)
    fake_llm.broken_json()
    fake_llm.broken_json()
    document = upload_pay_stub(application, shipped_types)

    document_finished(document, worker=worker)

    assert document.status == Document.Status.NEEDS_MANUAL_ENTRY
    assert document.reason_code == "unreadable"
    assert document.fields.count() == len(PAY_STUB_VALUES)
    assert set(document.fields.values_list("value", flat=True)) == {""}
    assert document.runs.get().outcome == ExtractionRun.Outcome.INVALID_OUTPUT


def test_a_worker_error_never_leaves_a_document_processing(
    start_worker, application, shipped_types
):
    document = upload_pay_stub(application, shipped_types)
    # The stored original vanishes before any worker reads it.
    document.original.storage.delete(document.original.name)
    worker = start_worker()
    process_document.delay(document.pk)

    document_finished(document, worker=worker)

    assert document.status == Document.Status.FAILED
    assert document.reason_code == "render_failed"
