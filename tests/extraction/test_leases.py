"""Readings hold a lease: one reading at a time, takeovers of dead readings, superseded writes
refused. Real threads and processes, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import itertools
import os
import signal
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from extraction.leases import LeaseLost, owner_new
from extraction.models import Document, ExtractionRun, FieldRevision
from extraction.pipeline import Outcome, document_fail, document_process, document_requeue
from extraction.recovery import broker_lost_messages, documents_to_resend
from extraction.services import document_upload
from tests.builders import PAY_STUB_VALUES, pdf_bytes, upload
from tests.extraction.conftest import text_pdf
from tests.waiting import wait_for


@pytest.fixture
def openai_settings(llm_settings, fake_llm):
    llm_settings.EXTRACTION_PROVIDER = "openai"
    # Long enough that no heartbeat renews a lease the test expires by hand.
    llm_settings.EXTRACTION_LEASE_SECONDS = 600
    fake_llm.expect(PAY_STUB_VALUES)
    return llm_settings


UPLOADS = itertools.count()


def upload_pay_stub(application, shipped_types, data: bytes | None = None) -> Document:
    # Each file distinct: one application takes a file only once.
    return document_upload(
        application=application,
        uploaded_file=upload("stub.pdf", data or pdf_bytes(title=f"stub-{next(UPLOADS)}")),
        actor=application.owner,
        document_type=shipped_types["pay_stub"],
    )


class Reading(threading.Thread):
    """document_process in a thread of its own, keeping what it returned or raised."""

    def __init__(self, document_id: int, barrier: threading.Barrier | None = None):
        super().__init__(daemon=True)
        self.document_id = document_id
        self.barrier = barrier
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connection

        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=30)
            self.outcome = document_process(document_id=self.document_id, owner=owner_new())
        except BaseException as error:  # noqa: BLE001 - kept for the test to assert on
            self.error = error
        finally:
            connection.close()


def assert_stored_once(document: Document) -> None:
    fields = list(document.fields.all())
    assert len(fields) == len(PAY_STUB_VALUES)
    assert {field.key: field.value for field in fields} == PAY_STUB_VALUES
    assert FieldRevision.objects.filter(field__document=document).count() == len(fields)
    assert document.runs.filter(outcome=ExtractionRun.Outcome.OK).count() == 1
    assert document.pages.count() == 1


def test_deliveries_at_the_same_moment_read_the_document_once(
    transactional_db, openai_settings, fake_llm, applicant_application, shipped_types
):
    document = upload_pay_stub(applicant_application, shipped_types)
    barrier = threading.Barrier(4)
    readings = [Reading(document.pk, barrier) for _ in range(4)]

    for reading in readings:
        reading.start()
    for reading in readings:
        reading.join(timeout=60)

    assert [r.error for r in readings] == [None] * 4
    assert sorted(r.outcome for r in readings) == sorted([Outcome.DONE] + [Outcome.BUSY] * 3)
    document.refresh_from_db()
    assert document.status == Document.Status.EXTRACTED
    assert (document.attempts, document.lease_owner) == (1, "")
    assert_stored_once(document)
    assert len(fake_llm.requests) == 1


def test_a_second_delivery_leaves_a_live_reading_alone(
    transactional_db, openai_settings, fake_llm, applicant_application, shipped_types
):
    fake_llm.delay(2)
    document = upload_pay_stub(applicant_application, shipped_types)
    first = Reading(document.pk)
    first.start()
    wait_for(lambda: fake_llm.requests, what="the first reading's provider call")

    assert document_process(document_id=document.pk, owner=owner_new()) == Outcome.BUSY

    first.join(timeout=60)
    assert (first.outcome, first.error) == (Outcome.DONE, None)
    document.refresh_from_db()
    assert document.status == Document.Status.EXTRACTED
    assert_stored_once(document)
    assert len(fake_llm.requests) == 1


def test_a_reading_whose_lease_ran_out_is_taken_over_and_stores_nothing_after(
    transactional_db, openai_settings, fake_llm, applicant_application, shipped_types
):
    """The slow first reading's answer comes after the takeover: its runs, fields, revisions
    and status are all refused, and the document ends as the second reading left it."""
    fake_llm.delay(3)
    document = upload_pay_stub(applicant_application, shipped_types)
    slow = Reading(document.pk)
    slow.start()
    wait_for(lambda: fake_llm.requests, what="the slow reading's provider call")
    # Its heartbeat stopped (a frozen process): the lease runs out.
    Document.objects.filter(pk=document.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert document_process(document_id=document.pk, owner=owner_new()) == Outcome.DONE
    slow.join(timeout=60)

    assert isinstance(slow.error, LeaseLost)
    document.refresh_from_db()
    assert document.status == Document.Status.EXTRACTED
    assert (document.attempts, document.lease_owner) == (2, "")
    assert_stored_once(document)
    assert len(fake_llm.requests) == 2


def test_a_superseded_reading_cannot_fail_or_requeue_the_document(
    transactional_db, openai_settings, fake_llm, applicant_application, shipped_types
):
    fake_llm.delay(2)
    document = upload_pay_stub(applicant_application, shipped_types)
    reading = Reading(document.pk)
    reading.start()
    wait_for(lambda: fake_llm.requests, what="the reading's provider call")
    stale = owner_new()

    document_fail(document_id=document.pk, reason=("internal_error", "x"), owner=stale)
    handed_back = document_requeue(document_id=document.pk, note="busy", owner=stale)

    assert handed_back is False
    reading.join(timeout=60)
    document.refresh_from_db()
    assert document.status == Document.Status.EXTRACTED
    assert_stored_once(document)


def test_a_long_file_is_read_in_slices_that_hand_the_worker_back(
    transactional_db, settings, applicant_application, shipped_types
):
    settings.EXTRACTION_SLICE_SECONDS = 0.001
    data = text_pdf(["Pay stub page one", "Page two", "Page three"])
    document = upload_pay_stub(applicant_application, shipped_types, data)
    upload_pay_stub(applicant_application, shipped_types)  # another applicant's file waits
    seen = []

    while (outcome := document_process(document_id=document.pk, owner=owner_new())) is Outcome.MORE:
        document.refresh_from_db()
        seen.append((document.status, document.lease_owner, document.pages.count()))

    assert outcome is Outcome.DONE
    # Each slice hands the worker back with more pages stored, never all of them. (How many a
    # slice stores depends on timing: a renderer kept from the last slice may have its next
    # pages ready at once.)
    assert seen and {(status, owner) for status, owner, _ in seen} == {
        (Document.Status.PROCESSING, "")
    }
    stored = [count for *_, count in seen]
    assert stored == sorted(set(stored)) and stored[0] >= 1 and stored[-1] < 3
    document.refresh_from_db()
    assert document.status in Document.FINISHED
    assert (document.attempts, document.page_count) == (1, 3)
    assert list(document.pages.values_list("number", flat=True)) == [1, 2, 3]


def test_a_file_alone_in_the_queue_reads_on_past_its_slice(
    transactional_db, settings, applicant_application, shipped_types
):
    """Handing the worker back only helps a document that waits; with none waiting, the slice
    goes on to the last page in one delivery (its renderer and calls are not cut off)."""
    settings.EXTRACTION_SLICE_SECONDS = 0.001
    data = text_pdf(["Pay stub page one", "Page two", "Page three"])
    document = upload_pay_stub(applicant_application, shipped_types, data)

    assert document_process(document_id=document.pk, owner=owner_new()) is Outcome.DONE
    document.refresh_from_db()
    assert document.status in Document.FINISHED
    assert document.pages.count() == 3


def test_the_sweep_lists_unsent_and_abandoned_documents_but_not_live_readings(
    db, applicant_application, shipped_types, settings
):
    settings.EXTRACTION_LEASE_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    later = timezone.now() + timedelta(minutes=5)

    def make(**state) -> int:
        document = upload_pay_stub(applicant_application, shipped_types)
        Document.objects.filter(pk=document.pk).update(updated_at=long_ago, **state)
        return document.pk

    unsent = make(sent_at=None)
    sent = make(sent_at=timezone.now())
    retry_later = make(sent_at=later)
    processing = {"status": Document.Status.PROCESSING, "sent_at": long_ago}
    live = make(**processing, lease_owner=owner_new(), lease_expires_at=later)
    expired = make(**processing, lease_owner=owner_new(), lease_expires_at=long_ago)
    dead = make(**processing, lease_owner=_dead_owner(), lease_expires_at=later)
    between_slices = make(status=Document.Status.PROCESSING, sent_at=None, lease_owner="")

    assert set(documents_to_resend()) == {unsent, expired, dead, between_slices}
    assert set(documents_to_resend(broker_lost=True)) == {
        unsent,
        sent,
        expired,
        dead,
        between_slices,
    }
    assert live not in documents_to_resend(broker_lost=True)
    assert retry_later not in documents_to_resend(broker_lost=True)


def _dead_owner() -> str:
    """The owner name of a process that has exited."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    host, _, start, nonce = owner_new().rsplit(":", 3)
    return f"{host}:{pid}:{start}:{nonce}"


@pytest.mark.worker
def test_the_broker_marker_tells_when_redis_lost_its_messages(redis_url, settings):
    import redis

    from extraction.recovery import BROKER_MARKER_KEY

    settings.CELERY_BROKER_URL = redis_url
    redis.Redis.from_url(redis_url).delete(BROKER_MARKER_KEY)

    assert broker_lost_messages() is True
    assert broker_lost_messages() is False


@pytest.mark.worker
def test_a_killed_workers_reading_is_taken_over_at_once(
    start_worker, openai_settings, fake_llm, applicant_application, shipped_types
):
    """No waiting for the lease to run out: the reader's process is gone on this machine."""
    fake_llm.delay(30)
    worker = start_worker(
        EXTRACTION_PROVIDER="openai",
        LLM_BASE_URL=fake_llm.base_url,
        LLM_API_KEY="sk-test",
        LLM_TIMEOUT_SECONDS="60",
        EXTRACTION_LEASE_SECONDS="600",
    )
    document = upload_pay_stub(applicant_application, shipped_types)
    wait_for(lambda: fake_llm.requests, what="the worker's provider call", worker=worker)
    document.refresh_from_db()
    assert str(worker.process.pid) in document.lease_owner

    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)

    assert document.pk in documents_to_resend()
    assert document_process(document_id=document.pk, owner=owner_new()) == Outcome.DONE
    document.refresh_from_db()
    assert document.status == Document.Status.EXTRACTED
    assert document.attempts == 2
    assert_stored_once(document)
