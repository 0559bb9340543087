"""Thin Celery tasks: ids in, one service call, retries only for transient provider errors."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from .pipeline import (
    Reason,
    document_fail,
    document_process,
    document_requeue,
    documents_recover_stuck,
)
from .providers.base import ProviderTransientError

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


@shared_task(name="extraction.process_document", bind=True, max_retries=None)
def process_document(self, document_id: int) -> None:
    try:
        document_process(document_id=document_id)
    except ProviderTransientError as error:
        if self.request.retries + 1 >= settings.EXTRACTION_MAX_ATTEMPTS:
            document_fail(document_id=document_id, reason=Reason.PROVIDER_UNAVAILABLE)
            return
        document_requeue(
            document_id=document_id,
            note=f"The reading service is busy ({error.message}); trying again shortly.",
        )
        raise self.retry(
            countdown=retry_countdown(self.request.retries, error.retry_after)
        ) from error
    except Exception:
        # A bug must not leave the document stuck in `processing`, nor loop on retries.
        logger.exception("Reading document %s failed", document_id)
        document_fail(document_id=document_id, reason=Reason.INTERNAL)


@shared_task(name="extraction.recover_stuck_documents")
def recover_stuck_documents() -> int:
    document_ids = documents_recover_stuck()
    for document_id in document_ids:
        process_document.delay(document_id)
    return len(document_ids)
