"""Finding documents whose task message is missing, so that the sweep can send them again.

A message goes missing when the send failed (the broker was down at upload), when the broker
lost what it held (Redis restarted empty or was flushed), or when a reading died and nobody
redelivered its task (the whole worker was killed: Redis hands the unacknowledged message out
again only after its visibility timeout, an hour). Sending a message twice is harmless: the
claim holds a row lock and a delivery that finds the document taken or finished does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import leases
from .models import Document

logger = logging.getLogger(__name__)

# Kept in the broker's own Redis: when it is missing, that Redis lost every message it held.
BROKER_MARKER_KEY = "attest:broker-marker"


def broker_lost_messages() -> bool:
    """True when the broker's Redis no longer holds the marker this sweep left there (it was
    restarted empty or flushed), so every message it held is gone; the marker is set again.

    False for a broker that is not Redis. Raises ``redis.RedisError`` when Redis is down.
    """
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return False
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    try:
        return bool(client.set(BROKER_MARKER_KEY, timezone.now().isoformat(), nx=True))
    finally:
        client.close()


def documents_to_resend(*, broker_lost: bool = False) -> list[int]:
    """Ids of documents whose task should be sent (again), oldest first.

    - waiting (queued, or processing between two slices) and never sent, or its send failed,
      for longer than EXTRACTION_RESEND_GRACE_SECONDS;
    - waiting and sent before the broker lost its messages (``broker_lost``);
    - waiting and sent longer ago than EXTRACTION_STUCK_AFTER_SECONDS (the last resort);
    - held by a reading whose lease ran out or whose process is gone, and not sent again since
      that reading began or within one lease length.
    """
    now = timezone.now()
    grace = now - timedelta(seconds=settings.EXTRACTION_RESEND_GRACE_SECONDS)
    last_resort = now - timedelta(seconds=settings.EXTRACTION_STUCK_AFTER_SECONDS)
    waiting = Q(status=Document.Status.QUEUED) | Q(
        status=Document.Status.PROCESSING, lease_owner=""
    )
    due = Q(sent_at__isnull=True, updated_at__lt=grace) | Q(sent_at__lt=last_resort)
    if broker_lost:
        due = Q(sent_at__isnull=True) | Q(sent_at__lte=now) | due
    found = list(
        Document.objects.filter(waiting & due).order_by("updated_at").values_list("pk", flat=True)
    )
    recently = now - timedelta(seconds=leases.lease_seconds())
    held = (
        Document.objects.filter(status=Document.Status.PROCESSING)
        .exclude(lease_owner="")
        # Not sent again since the reading began, or not within one lease length.
        .filter(
            Q(sent_at__isnull=True)
            | Q(sent_at__lte=F("processing_started_at"))
            | Q(sent_at__lt=recently)
        )
        .order_by("processing_started_at")
        .values_list("pk", "lease_owner", "lease_expires_at")
    )
    for document_id, owner, expires_at in held:
        if expires_at is None or expires_at <= now or leases.owner_is_gone(owner):
            found.append(document_id)
    return found


def document_mark_sent(*, document_id: int) -> None:
    """Record that the document's task was handed to the broker just now."""
    Document.objects.filter(pk=document_id).update(sent_at=timezone.now())


def document_mark_unsent(*, document_id: int) -> None:
    """Record that a send failed, so that the next sweep sends the document again."""
    Document.objects.filter(pk=document_id).update(sent_at=None)
