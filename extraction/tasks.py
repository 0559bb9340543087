"""Thin Celery tasks: ids in, one service call, retries only for transient provider errors."""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from celery import current_app, shared_task
from celery.signals import worker_process_init
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.utils import timezone

from . import sandbox
from .leases import LeaseLost, owner_new
from .pipeline import (
    Outcome,
    Reason,
    document_fail,
    document_process,
    document_requeue,
)
from .providers.base import ProviderTransientError
from .recovery import (
    broker_lost_messages,
    document_mark_sent,
    document_mark_unsent,
    documents_to_resend,
)

logger = logging.getLogger(__name__)

# Every countdown stays well below the broker's visibility timeout (one hour), or Redis would
# hand the waiting task to a second worker.
MAX_COUNTDOWN_SECONDS = 300


def retry_countdown(retries: int, retry_after: float | None) -> int:
    backoff = get_exponential_backoff_interval(
        factor=settings.EXTRACTION_RETRY_BACKOFF_SECONDS,
        retries=retries,
        maximum=MAX_COUNTDOWN_SECONDS,
        full_jitter=True,
    )
    if retry_after:
        backoff = max(backoff, int(retry_after) + 1)
    return min(max(backoff, 1), MAX_COUNTDOWN_SECONDS)


def document_send(document_id: int) -> bool:
    """Hand the document's task to the broker and record when; False when the broker is
    unreachable (the recovery sweep sends it again once it is back)."""
    try:
        process_document.delay(document_id)
    except Exception:
        logger.exception("Could not queue document %s; recovery will send it again", document_id)
        return False
    document_mark_sent(document_id=document_id)
    return True


@worker_process_init.connect
def _warm_renderer(**_kwargs) -> None:
    """Each pool process of a worker that reads documents starts its render zygote and the
    children it forks ahead, so that even its first document does not wait for them
    (``sandbox.prestart``). A worker on other queues only (``-Q webhooks``) starts none: it
    would hold some 300 MB a process for pages it never renders."""
    if settings.SANDBOX_ZYGOTES and _reads_documents():
        sandbox.prestart("render", memory_bytes=settings.RENDER_MEMORY_LIMIT_MB * 1024 * 1024)


def _reads_documents() -> bool:
    """Whether this worker consumes the queue ``process_document`` is sent to."""
    consumed = current_app.amqp.queues.consume_from or {}
    return not consumed or current_app.conf.task_default_queue in consumed


@shared_task(name="extraction.process_document", bind=True, max_retries=None)
def process_document(self, document_id: int) -> None:
    owner = owner_new()
    try:
        outcome = document_process(document_id=document_id, owner=owner)
    except LeaseLost:
        logger.warning(
            "Document %s was taken over by another reading; %s stops", document_id, owner
        )
        return
    except ProviderTransientError as error:
        if self.request.retries + 1 >= settings.EXTRACTION_MAX_ATTEMPTS:
            document_fail(document_id=document_id, reason=Reason.PROVIDER_UNAVAILABLE, owner=owner)
            return
        countdown = retry_countdown(self.request.retries, error.retry_after)
        handed_back = document_requeue(
            document_id=document_id,
            note=f"The reading service is busy ({error.message}); trying again shortly.",
            owner=owner,
            due_at=timezone.now() + timedelta(seconds=countdown),
        )
        if not handed_back:
            return
        try:
            retry = self.retry(countdown=countdown, throw=False)
        except BaseException:
            # The retry could not be sent: the sweep sends the document again instead.
            document_mark_unsent(document_id=document_id)
            raise
        raise retry from error
    except Exception:
        # A bug must not leave the document stuck in `processing`, nor loop on retries.
        logger.exception("Reading document %s failed", document_id)
        document_fail(document_id=document_id, reason=Reason.INTERNAL, owner=owner)
        return
    if outcome == Outcome.MORE:
        # The next slice queues behind the documents that waited while this one was read.
        document_send(document_id)


@shared_task(name="extraction.recover_stuck_documents")
def recover_stuck_documents() -> int:
    """Send again every document whose message is missing (``recovery.documents_to_resend``)."""
    try:
        broker_lost = broker_lost_messages()
    except redis.RedisError:
        logger.warning("The broker's Redis is not reachable; recovery waits for it")
        return 0
    document_ids = documents_to_resend(broker_lost=broker_lost)
    if broker_lost:
        logger.warning(
            "The broker lost its messages; sending %s documents again", len(document_ids)
        )
    return sum(document_send(document_id) for document_id in document_ids)
