"""Deliveries through a real Celery worker on Redis, listening to the webhook queue: a decision
is enqueued after its commit, retried after a 500, delivered once however often its task runs."""

from __future__ import annotations

import time

import pytest

from tests.factories import ReviewerFactory, UserFactory
from tests.waiting import wait_for
from webhooks.models import Delivery
from webhooks.tasks import deliver_webhook

from .helpers import decide, in_review

pytestmark = pytest.mark.worker


def test_a_500_then_200_is_retried_by_the_worker_and_a_redelivered_task_sends_nothing(
    start_worker, receiver, endpoint, staff_groups
):
    worker = start_worker()
    receiver.script = [500, 200]
    # Slow, but within the timeout: the decision must not wait for it.
    receiver.delay = 1.0
    application = in_review(UserFactory(email="applicant@example.com"))
    reviewer = ReviewerFactory(email="rev@example.com")

    started = time.monotonic()
    decide(application, reviewer)
    decided_in = time.monotonic() - started
    assert decided_in < 1.0, f"the decision waited {decided_in:.2f}s for the receiver"

    delivery = Delivery.objects.get(endpoint=endpoint)

    def delivered():
        delivery.refresh_from_db()
        return delivery.status == Delivery.Status.SUCCEEDED

    wait_for(delivered, timeout=60, what="the webhook to be delivered", worker=worker)
    attempts = list(delivery.attempts.values_list("number", "status_code"))
    assert attempts == [(1, 500), (2, 200)]
    gap = delivery.attempts.get(number=2).started_at - delivery.attempts.get(number=1).started_at
    assert gap.total_seconds() >= 1.0  # WEBHOOK_RETRY_DELAYS[0] in the tests' settings

    # The broker hands the task out again (a worker lost, a visibility timeout): twice.
    deliver_webhook.delay(delivery.pk)
    deliver_webhook.delay(delivery.pk)
    wait_for(
        lambda: worker.output().count("succeeded in") >= 3,
        timeout=30,
        what="the redelivered tasks to run",
        worker=worker,
    )
    assert len(receiver.processed) == 1
    assert len([r for r in receiver.requests if r.status == 200]) == 1
    assert delivery.attempts.count() == 2
