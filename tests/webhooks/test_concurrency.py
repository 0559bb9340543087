"""The same delivery taken by two workers at once is sent once: the conditional UPDATE in
``delivery_send`` lets exactly one of them make the attempt."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.factories import ReviewerFactory, UserFactory
from webhooks.models import Delivery
from webhooks.services import delivery_send

from .helpers import decide, in_review

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_running_the_same_task_at_once_send_it_once(receiver, endpoint, staff_groups):
    receiver.delay = 0.5  # both tasks start while the first request is still in flight
    decide(in_review(UserFactory(email="a@example.com")), ReviewerFactory(email="r@example.com"))
    delivery = Delivery.objects.get(endpoint=endpoint)
    start = threading.Barrier(4)
    results = []

    def run():
        try:
            start.wait()
            results.append(delivery_send(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(result.sent for result in results) == [False, False, False, True]
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED and delivery.attempts.count() == 1
    # And once delivered, a late duplicate finds nothing to send.
    assert not delivery_send(delivery_id=delivery.pk).sent
    assert len(receiver.requests) == 1


def test_an_attempt_whose_worker_died_is_taken_over_after_its_lease(
    receiver, endpoint, staff_groups
):
    from datetime import timedelta

    from django.utils import timezone

    decide(in_review(UserFactory(email="a@example.com")), ReviewerFactory(email="r@example.com"))
    delivery = Delivery.objects.get(endpoint=endpoint)
    # A worker took it and died before answering: the lease still runs, nobody may send.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING,
        attempt_count=1,
        lease_until=timezone.now() + timedelta(seconds=60),
    )
    assert not delivery_send(delivery_id=delivery.pk).sent
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now())
    assert delivery_send(delivery_id=delivery.pk).sent
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert list(delivery.attempts.values_list("number", flat=True)) == [2]
