"""Scheduled work on the audit trail."""

from celery import shared_task

from .services import seal_head


@shared_task(name="audit.seal_head")
def seal_head_task() -> int | None:
    """Seal the head of the chain (beat, every minute): covers a process that died between
    its commit and its own seal. Idempotent: a repeated line changes nothing."""
    return seal_head()
