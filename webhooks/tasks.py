"""Thin Celery tasks on their own queue (WEBHOOK_QUEUE, ``CELERY_TASK_ROUTES``), so a receiver
that is down or slow occupies only the webhook worker, never a reading."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from .services import deliveries_due, delivery_send

logger = logging.getLogger(__name__)

# Every countdown stays well below the broker's visibility timeout (one hour), or Redis would
# hand the waiting task to a second worker; a longer wait is made of several hops.
MAX_COUNTDOWN_SECONDS = 1800


def deliveries_enqueue(delivery_ids) -> None:
    """Hand each delivery to the broker; never raises (the sweep sends what failed here)."""
    for delivery_id in delivery_ids:
        try:
            deliver_webhook.apply_async((delivery_id,), retry=False)
        except Exception:
            logger.exception("Could not queue webhook delivery %s; the sweep will", delivery_id)


@shared_task(name="webhooks.deliver", bind=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> None:
    result = delivery_send(delivery_id=delivery_id)
    if result.retry_in is not None:
        # Celery's own retry carries the backoff; the delivery row is what decides whether an
        # attempt is due, so an early, late or duplicated message sends nothing twice.
        raise self.retry(countdown=min(result.retry_in, MAX_COUNTDOWN_SECONDS))


@shared_task(name="webhooks.send_due")
def send_due_webhooks() -> int:
    """Beat job: send again the deliveries whose task was lost (broker down at enqueue, a
    worker killed mid-attempt)."""
    ids = deliveries_due(grace_seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    deliveries_enqueue(ids)
    return len(ids)
