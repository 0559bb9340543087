"""Endpoints and deliveries: registering receivers, writing the deliveries an event owes them
(in the event's own transaction, an outbox), and sending one attempt of a delivery.

A delivery is sent by at most one worker at a time: ``delivery_send`` takes it with one
conditional UPDATE (pending and due, or sending with an expired lease), so a redelivered or
duplicated task finds nothing to take. The HTTP request runs outside any transaction.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from applications.claims import actor_role
from audit.models import Action
from audit.services import audit_record

from .models import Attempt, Delivery, Endpoint, Event
from .safety import url_check
from .signing import secret_new, signed_headers

logger = logging.getLogger(__name__)

USER_AGENT = "Attest-Webhooks/1"


def _clean_events(events) -> list[str]:
    chosen = [event for event in Event.values if event in set(events or ())]
    if not chosen:
        raise ValidationError("Choose at least one event.", code="no_events")
    return chosen


def endpoint_create(*, url: str, events, description: str = "", actor=None) -> Endpoint:
    """Register a receiver with a fresh secret. Raises ValidationError for a refused URL
    (``webhooks.safety``) or no events."""
    url = url.strip()
    url_check(url)
    with transaction.atomic():
        endpoint = Endpoint.objects.create(
            url=url,
            events=_clean_events(events),
            description=description.strip(),
            secret=secret_new(),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        _audit(Action.WEBHOOK_ENDPOINT_CREATED, endpoint, actor, url=url, events=endpoint.events)
    return endpoint


def _audit(action: str, subject, actor, **data) -> None:
    """An admin's change to where events go, in the trail (never the secret itself)."""
    audit_record(action=action, actor=actor, role=actor_role(actor), subject=subject, data=data)


def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str,
    events,
    description: str = "",
    is_active: bool = True,
    actor=None,
) -> Endpoint:
    """Change where and what an endpoint receives; the secret stays. Each changed setting is
    in the trail with its old and new value; saving the same settings records nothing."""
    new = {
        "url": url.strip(),
        "events": _clean_events(events),
        "description": description.strip(),
        "is_active": is_active,
    }
    url_check(new["url"])
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        changes = {
            name: {"from": getattr(endpoint, name), "to": value}
            for name, value in new.items()
            if getattr(endpoint, name) != value
        }
        if changes:
            for name, value in new.items():
                setattr(endpoint, name, value)
            endpoint.save()
            _audit(Action.WEBHOOK_ENDPOINT_CHANGED, endpoint, actor, changes=changes)
    return endpoint


def endpoint_rotate_secret(*, endpoint: Endpoint, actor=None) -> Endpoint:
    """A new secret from now on; attempts already signed keep the old one."""
    with transaction.atomic():
        endpoint.secret = secret_new()
        endpoint.save(update_fields=["secret", "updated_at"])
        _audit(Action.WEBHOOK_SECRET_REPLACED, endpoint, actor, url=endpoint.url)
    return endpoint


def endpoint_secret_shown(*, endpoint: Endpoint, actor) -> None:
    """Record that an admin asked to see the secret again (who could have copied it)."""
    _audit(Action.WEBHOOK_SECRET_SHOWN, endpoint, actor, url=endpoint.url)


def message_body(*, event_type: str, data: dict, at=None) -> str:
    """The exact JSON text sent: ``{"type", "timestamp", "data"}``."""
    at = at or timezone.now()
    return json.dumps(
        {"type": event_type, "timestamp": at.isoformat(), "data": data},
        separators=(",", ":"),
        default=str,
    )


def deliveries_create(
    *, event_type: str, source: str, data: dict, application_id: int | None = None
) -> list[int]:
    """Write one pending delivery per active endpoint subscribed to ``event_type``; their ids.

    Call inside the transaction that made the event, so the deliveries exist exactly when the
    event does. ``source`` names the cause; a cause already delivered to an endpoint is not
    written again (``one_delivery_per_cause``).
    """
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.filter(is_active=True)
        if event_type in endpoint.events
    ]
    if not endpoints:
        return []
    body = message_body(event_type=event_type, data=data)
    now = timezone.now()
    ids = []
    for endpoint in endpoints:
        delivery, created = Delivery.objects.get_or_create(
            endpoint=endpoint,
            source=source,
            defaults={
                "event_type": event_type,
                "message_id": f"msg_{uuid.uuid4().hex}",
                "body": body,
                "application_id": application_id,
                "next_attempt_at": now,
            },
        )
        if created:
            ids.append(delivery.pk)
    return ids


def retry_delays() -> list[float]:
    """Seconds to wait after each failed attempt; one more attempt than delays is made."""
    return [float(delay) for delay in settings.WEBHOOK_RETRY_DELAYS]


def _delay_after(number: int) -> float:
    delay = retry_delays()[number - 1]
    # Up to 10% jitter, so that a receiver coming back is not hit by every retry at once.
    return delay * (1 + random.random() / 10)  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True)
class SendResult:
    """What became of one call of ``delivery_send``. ``retry_in``: seconds until the delivery
    is due again (None: nothing more to do here: delivered, given up, or another worker has
    it)."""

    sent: bool
    retry_in: float | None = None


def _lease_seconds() -> float:
    return settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 30


def _take(delivery_id: int) -> bool:
    now = timezone.now()
    return bool(
        Delivery.objects.filter(pk=delivery_id)
        .filter(
            Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Delivery.Status.SENDING, lease_until__lt=now)
        )
        .update(
            status=Delivery.Status.SENDING,
            lease_until=now + timedelta(seconds=_lease_seconds()),
            attempt_count=F("attempt_count") + 1,
        )
    )


def _post(endpoint: Endpoint, delivery: Delivery) -> tuple[int | None, str, str]:
    """One signed POST: (status code or None, the start of the answer, error)."""
    try:
        url_check(endpoint.url)
    except ValidationError as error:
        return None, "", " ".join(error.messages)
    headers = {
        **signed_headers(
            secret=endpoint.secret,
            message_id=delivery.message_id,
            body=delivery.body,
            at=timezone.now(),
        ),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    keep = settings.WEBHOOK_RESPONSE_KEEP_CHARS
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)), follow_redirects=False
            ) as client,
            client.stream(
                "POST", endpoint.url, content=delivery.body.encode(), headers=headers
            ) as response,
        ):
            received = b""
            for chunk in response.iter_bytes():
                received += chunk
                # Keep a bounded slice, and never let a receiver that drips its answer hold
                # the worker past the timeout.
                if len(received) >= keep * 4 or time.monotonic() > deadline:
                    break
            text = received.decode(errors="replace")[:keep]
            return response.status_code, text, ""
    except httpx.HTTPError as error:
        return None, "", f"{type(error).__name__}: {error}"[:300]


def delivery_send(*, delivery_id: int) -> SendResult:
    """Make one attempt of a delivery, if it is due and nobody else is making one.

    Records an ``Attempt`` (status code, the first WEBHOOK_RESPONSE_KEEP_CHARS characters of
    the answer, duration in ms, error). A 2xx answer delivers it; anything else (another code,
    a refused address, a timeout, a refused connection) schedules the next attempt after
    WEBHOOK_RETRY_DELAYS (with up to 10% jitter) or, after the last, gives up.
    """
    if not _take(delivery_id):
        current = Delivery.objects.filter(pk=delivery_id).values("status", "next_attempt_at")
        current = current.first()
        if current and current["status"] == Delivery.Status.PENDING:
            wait = (current["next_attempt_at"] - timezone.now()).total_seconds()
            return SendResult(sent=False, retry_in=max(wait, 0.5))
        return SendResult(sent=False)
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint, number = delivery.endpoint, delivery.attempt_count
    in_round = number - delivery.round_start
    started = timezone.now()
    clock = time.monotonic()
    if endpoint.is_active:
        code, text, error = _post(endpoint, delivery)
    else:
        code, text, error = None, "", "The endpoint is switched off."
    duration_ms = int((time.monotonic() - clock) * 1000)
    succeeded = code is not None and 200 <= code < 300
    last = in_round > len(retry_delays()) or not endpoint.is_active
    retry_in = None if succeeded or last else _delay_after(in_round)
    now = timezone.now()
    if succeeded:
        change = {"status": Delivery.Status.SUCCEEDED, "delivered_at": now}
    elif last:
        change = {"status": Delivery.Status.FAILED}
    else:
        change = {
            "status": Delivery.Status.PENDING,
            "next_attempt_at": now + timedelta(seconds=retry_in),
        }
    with transaction.atomic():
        Attempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started,
            duration_ms=duration_ms,
            succeeded=succeeded,
            status_code=code,
            response_body=text,
            error=error,
        )
        # Only while this attempt still holds it (a lease taken over changes nothing here).
        Delivery.objects.filter(
            pk=delivery_id, status=Delivery.Status.SENDING, attempt_count=number
        ).update(lease_until=None, last_status_code=code, **change)
    if not succeeded:
        logger.info(
            "Webhook %s attempt %s to %s failed: %s",
            delivery.message_id,
            number,
            endpoint.url,
            error or code,
        )
    return SendResult(sent=True, retry_in=retry_in)


def delivery_resend(*, delivery: Delivery, actor) -> Delivery:
    """An admin sends a delivery again now, whatever became of it (same message id and body,
    so a receiver that already processed it can tell). Refused while an attempt is running."""
    with transaction.atomic():
        updated = (
            Delivery.objects.filter(pk=delivery.pk)
            .exclude(status=Delivery.Status.SENDING, lease_until__gte=timezone.now())
            .update(
                status=Delivery.Status.PENDING,
                next_attempt_at=timezone.now(),
                # A fresh round of retries after resending one that gave up.
                round_start=F("attempt_count")
                if delivery.status == Delivery.Status.FAILED
                else F("round_start"),
                resent_by=actor,
                resent_at=timezone.now(),
            )
        )
        if updated:
            _audit(
                Action.WEBHOOK_DELIVERY_RESENT,
                delivery,
                actor,
                message_id=delivery.message_id,
                endpoint=delivery.endpoint_id,
                previous_status=delivery.status,
            )
    if not updated:
        raise ValidationError(
            "An attempt is being made right now; look again in a few seconds.", code="sending"
        )
    delivery.refresh_from_db()
    return delivery


def deliveries_due(*, grace_seconds: float, limit: int = 500) -> list[int]:
    """Deliveries whose task seems lost: pending and due for longer than ``grace_seconds``, or
    sending with an expired lease (the worker died). The sweep sends them again."""
    now = timezone.now()
    return list(
        Delivery.objects.filter(
            Q(
                status=Delivery.Status.PENDING,
                next_attempt_at__lte=now - timedelta(seconds=grace_seconds),
            )
            | Q(status=Delivery.Status.SENDING, lease_until__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
