"""Appending to the audit trail. Call inside the transaction that makes the change."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import AuditEvent, AuditHead


def _key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


def event_payload(event: AuditEvent) -> bytes:
    """The canonical bytes an event's MAC covers (everything but the MAC itself)."""
    return json.dumps(
        {
            "sequence": event.sequence,
            "created_at": event.created_at.isoformat(),
            "action": event.action,
            "actor": event.actor_id,
            "role": event.role,
            "application": event.application_id,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "data": event.data,
            "previous": event.previous_mac,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def event_mac(event: AuditEvent) -> str:
    return hmac.new(_key(), event_payload(event), hashlib.sha256).hexdigest()


def audit_record(
    *,
    action: str,
    actor=None,
    role: str = "",
    application=None,
    subject=None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain and return it.

    ``application`` is an Application or its id; ``subject`` any model instance the event is
    about (its type and id are stored). The head row is locked for the rest of the caller's
    transaction, so events are numbered without gaps in commit order.
    """
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            sequence=head.sequence + 1,
            created_at=timezone.now(),
            action=action,
            actor=actor if getattr(actor, "pk", None) else None,
            role=role,
            application_id=getattr(application, "pk", application),
            subject_type=subject._meta.model_name if subject is not None else "",
            subject_id=str(subject.pk) if subject is not None else "",
            data=json.loads(json.dumps(data or {}, default=str)),
            previous_mac=head.mac,
        )
        event.mac = event_mac(event)
        event.save()
        AuditHead.objects.filter(pk=1).update(sequence=event.sequence, mac=event.mac)
    return event
