"""Two worker machines: two `celery worker` processes, each with a local folder of its own,
against one database, one Redis and one S3-compatible bucket (moto's server on 127.0.0.1).

Every document is read exactly once (one provider call, one run), by whichever worker took it,
and every original and page image is in the bucket, none in either folder. MULTI_WORKER_DOCUMENTS
sets how many documents (6 here; bench/multi_worker.py reads 100 and measures throughput).
"""

from __future__ import annotations

import os

import pytest

from applications.services import application_create
from extraction.models import Document, ExtractionRun
from extraction.services import document_upload
from tests.builders import PAY_STUB_VALUES, pay_stub_pdf, upload
from tests.waiting import wait_for

pytestmark = pytest.mark.worker

DOCUMENTS = int(os.environ.get("MULTI_WORKER_DOCUMENTS", "6"))


def files_under(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_two_workers_with_separate_folders_read_every_document_once_from_one_bucket(
    s3_bucket, s3_server, start_worker, fake_llm, shipped_types, django_user_model, tmp_path
):
    # Each answer takes a moment, as a real model's does, so that both workers get a share.
    fake_llm.latency = 0.5
    fake_llm.expect(PAY_STUB_VALUES)
    folders = [tmp_path / "machine-a", tmp_path / "machine-b"]
    workers = []
    for folder in folders:
        folder.mkdir()
        workers.append(
            start_worker(
                **s3_server.env(s3_bucket),
                PRIVATE_STORAGE_ROOT=str(folder),
                AUDIT_SEAL_PATH=str(tmp_path / f"{folder.name}-seal.log"),
                EXTRACTION_PROVIDER="openai",
                LLM_BASE_URL=fake_llm.base_url,
                LLM_API_KEY="sk-test",
                LLM_MODEL="gpt-4o-mini",
                LLM_TIMEOUT_SECONDS="30",
            )
        )
    documents = []
    for number in range(DOCUMENTS):
        owner = django_user_model.objects.create_user(email=f"a{number}@example.com", password="x")
        application = application_create(owner=owner, stated_name="Jordan A. Rivera")
        documents.append(
            document_upload(
                application=application,
                uploaded_file=upload(f"stub-{number}.pdf", pay_stub_pdf(f"MW-{number}")),
                actor=owner,
                document_type=shipped_types["pay_stub"],
            )
        )

    def all_finished() -> bool:
        finished = Document.objects.filter(
            pk__in=[d.pk for d in documents], status__in=Document.FINISHED
        )
        return finished.count() == len(documents)

    wait_for(all_finished, timeout=60 + 10 * DOCUMENTS, what="every document", worker=workers[0])

    for document in documents:
        document.refresh_from_db()
        assert document.status == Document.Status.EXTRACTED, document.reason
        assert {f.key: f.value for f in document.fields.all()} == PAY_STUB_VALUES
        assert list(document.runs.values_list("outcome", flat=True)) == [ExtractionRun.Outcome.OK]
    assert len(fake_llm.requests) == DOCUMENTS  # one provider call per document, none twice
    expected_keys = [d.original.name for d in documents] + [
        page.image.name for d in documents for page in d.pages.all()
    ]
    assert len(expected_keys) == 2 * DOCUMENTS
    assert s3_server.keys(s3_bucket) == sorted(expected_keys)
    readings = [worker.output().count(" succeeded in ") for worker in workers]
    assert sum(readings) == DOCUMENTS and all(readings), readings
    assert [files_under(folder) for folder in folders] == [[], []]
