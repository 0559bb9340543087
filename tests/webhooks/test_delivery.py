"""Signed deliveries to a real receiver on 127.0.0.1: what it receives, what it refuses, and
how a delivery retries, gives up and is sent again. In-process: each attempt is one call of
``delivery_send`` (tests/webhooks/test_worker.py runs the same through a real worker)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ReviewerFactory, UserFactory
from webhooks.models import Attempt, Delivery, Event
from webhooks.services import delivery_resend, delivery_send
from webhooks.signing import signed_headers

from .helpers import decide, in_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return UserFactory(email="applicant@example.com"), ReviewerFactory(email="rev@example.com")


def test_a_decision_reaches_the_receiver_signed_and_without_personal_data(
    endpoint, receiver, people
):
    applicant, reviewer = people
    application = in_review(applicant)
    decide(application, reviewer)

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == Event.APPLICATION_DECIDED
    assert delivery_send(delivery_id=delivery.pk).sent

    [payload] = receiver.processed
    assert payload["type"] == "application.decided"
    assert payload["data"]["application"] == {
        "id": application.pk,
        "reference": application.reference,
        "status": "approved",
    }
    assert payload["data"]["decision"] == "approved"
    body = receiver.requests[0].body.decode()
    # No value, SSN (masked or not), name or e-mail address travels in a webhook.
    for private in ("123-45-6789", "6789", "Jordan Rivera", "applicant@example.com", "4,250"):
        assert private not in body
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    [attempt] = delivery.attempts.all()
    assert attempt.succeeded and attempt.status_code == 200 and '"ok"' in attempt.response_body


def test_the_receiver_rejects_a_replayed_an_old_and_a_tampered_delivery(endpoint, receiver, people):
    applicant, reviewer = people
    decide(in_review(applicant), reviewer, kind="reject", note="Unreadable stubs.")
    delivery = Delivery.objects.get(endpoint=endpoint)
    delivery_send(delivery_id=delivery.pk)
    original = receiver.requests[0]
    assert original.status == 200

    # The captured request sent again verbatim: the id was processed already.
    assert receiver.post(original.body, original.headers) == 409
    # A fresh id, correctly signed, but ten minutes old: outside the five-minute tolerance.
    old = signed_headers(
        secret=endpoint.secret,
        message_id="msg_replayed",
        body=original.body.decode(),
        at=timezone.now() - timedelta(minutes=10),
    )
    assert receiver.post(original.body, old) == 401
    # A changed body under the original signature.
    tampered = original.body.replace(b"rejected", b"approved")
    fresh = {**original.headers, "webhook-id": "msg_tampered"}
    assert receiver.post(tampered, fresh) == 401
    # Signed with another secret.
    forged = signed_headers(
        secret="whsec_" + "A" * 32,
        message_id="msg_forged",
        body=original.body.decode(),
        at=timezone.now(),
    )
    assert receiver.post(original.body, forged) == 401
    assert len(receiver.processed) == 1
    assert receiver.processed[0]["data"]["decision"] == "rejected"


def test_a_500_is_retried_after_the_backoff_and_then_delivered(endpoint, receiver, people):
    receiver.script = [500, 200]
    applicant, reviewer = people
    decide(in_review(applicant), reviewer)
    delivery = Delivery.objects.get(endpoint=endpoint)

    first = delivery_send(delivery_id=delivery.pk)
    assert first.sent and 1.0 <= first.retry_in <= 1.1  # WEBHOOK_RETRY_DELAYS[0] + jitter
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    # Too early: nothing is sent, and the caller learns how long to wait.
    early = delivery_send(delivery_id=delivery.pk)
    assert not early.sent and 0 < early.retry_in <= 1.1
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_send(delivery_id=delivery.pk).retry_in is None

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    attempts = list(delivery.attempts.values_list("number", "status_code", "succeeded"))
    assert attempts == [(1, 500, False), (2, 200, True)]
    # The receiver's long error answer is kept, but only its first 1000 characters.
    failed = Attempt.objects.get(delivery=delivery, number=1)
    assert failed.response_body.startswith('{"answer": "receiver error')
    assert len(failed.response_body) == 1000
    assert len(receiver.processed) == 1


def test_a_delivery_gives_up_after_the_last_delay_and_an_admin_can_send_it_again(
    endpoint, receiver, people
):
    receiver.script = [503, 503, 503, 200]
    applicant, reviewer = people
    decide(in_review(applicant), reviewer)
    delivery = Delivery.objects.get(endpoint=endpoint)
    for _ in range(3):  # WEBHOOK_RETRY_DELAYS has two delays: three attempts in all
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempt_count == 3
    assert not delivery_send(delivery_id=delivery.pk).sent

    admin = ReviewerFactory(email="admin@example.com")
    delivery_resend(delivery=delivery, actor=admin)
    assert delivery_send(delivery_id=delivery.pk).sent
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.resent_by == admin
    assert list(delivery.attempts.values_list("number", flat=True)) == [1, 2, 3, 4]
    # The same message id on every attempt: the receiver processed it once.
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}


def test_a_receiver_that_is_down_is_an_attempt_with_an_error(endpoint, receiver, people):
    applicant, reviewer = people
    decide(in_review(applicant), reviewer)
    delivery = Delivery.objects.get(endpoint=endpoint)
    endpoint.url = "http://127.0.0.1:9/nobody-listens"
    endpoint.save()
    result = delivery_send(delivery_id=delivery.pk)
    assert result.sent and result.retry_in is not None
    attempt = delivery.attempts.get()
    assert attempt.status_code is None and "ConnectError" in attempt.error


def test_only_subscribed_active_endpoints_get_a_delivery(receiver, people):
    from webhooks.services import endpoint_create

    submitted_only = endpoint_create(url=receiver.url, events=[Event.APPLICATION_SUBMITTED])
    switched_off = endpoint_create(url=receiver.url, events=[Event.APPLICATION_DECIDED])
    switched_off.is_active = False
    switched_off.save()
    applicant, reviewer = people
    decide(in_review(applicant), reviewer)
    assert not Delivery.objects.filter(endpoint__in=[submitted_only, switched_off]).exists()


def test_changes_requested_and_submitted_events_carry_their_facts(endpoint, people):
    from review.services import application_submit

    applicant, reviewer = people
    application = in_review(applicant)
    field = application.documents.get().fields.get(key="gross_pay")
    decide(
        application,
        reviewer,
        kind="request_changes",
        note="Check the gross pay.",
        reopen_fields=[field.pk],
    )
    request = json.loads(Delivery.objects.get(event_type=Event.APPLICATION_CHANGES_REQUESTED).body)
    assert request["data"]["reopened_fields"] == [field.pk]
    assert "Check the gross pay" not in json.dumps(request)  # notes stay in Attest

    application.refresh_from_db()
    from tests.review.conftest import confirm_as_applicant

    confirm_as_applicant([field])
    application_submit(application=application, actor=applicant, reply="Fixed.")
    submitted = json.loads(Delivery.objects.get(event_type=Event.APPLICATION_SUBMITTED).body)
    assert submitted["data"]["documents"] == 1 and submitted["data"]["values"] == 3
    assert "Fixed." not in json.dumps(submitted)


def test_a_rolled_back_decision_owes_no_delivery(endpoint, people):
    from django.db import transaction

    applicant, reviewer = people
    application = in_review(applicant)
    with pytest.raises(RuntimeError), transaction.atomic():
        decide(application, reviewer)
        raise RuntimeError("the request failed after the decision")
    assert not Delivery.objects.exists()


def test_reading_a_document_sends_document_read_or_needs_manual_entry(
    endpoint, people, shipped_types
):
    from applications.services import application_create
    from extraction.pipeline import document_process
    from extraction.services import document_upload
    from tests.builders import pdf_bytes, upload

    applicant, _ = people
    application = application_create(owner=applicant, stated_name="Jordan Rivera")
    document = document_upload(
        application=application,
        uploaded_file=upload("stub.pdf", pdf_bytes()),
        actor=applicant,
        document_type=shipped_types["pay_stub"],
    )
    document_process(document_id=document.pk)
    document.refresh_from_db()
    [delivery] = Delivery.objects.filter(endpoint=endpoint)
    expected = {
        "extracted": Event.DOCUMENT_READ,
        "needs_manual_entry": Event.DOCUMENT_NEEDS_MANUAL_ENTRY,
    }[document.status]
    assert delivery.event_type == expected
    data = json.loads(delivery.body)["data"]
    assert data["document"]["id"] == document.pk
    assert data["document"]["document_type"] == "pay_stub"
    assert data["document"]["status"] == document.status
    assert "stub.pdf" not in delivery.body


def test_the_sweep_finds_deliveries_whose_task_was_lost(endpoint, people):
    from webhooks.services import deliveries_due

    applicant, reviewer = people
    decide(in_review(applicant), reviewer)
    delivery = Delivery.objects.get(endpoint=endpoint)
    # Just due: its task is presumably on its way.
    assert deliveries_due(grace_seconds=120) == []
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert deliveries_due(grace_seconds=120) == [delivery.pk]
    # A worker died mid-attempt: found once its lease ran out.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING, lease_until=timezone.now() + timedelta(seconds=30)
    )
    assert deliveries_due(grace_seconds=120) == []
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now())
    assert deliveries_due(grace_seconds=120) == [delivery.pk]
