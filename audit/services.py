"""Appending to the audit trail. Call inside the transaction that makes the change."""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .canonical import COMPACT, iso_utc, json_scalar
from .models import AuditEvent, AuditHead
from .seal import seal_append


def audit_key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


# The columns an event's MAC covers, in the order ``payload_mac`` takes them.
MAC_COLUMNS = (
    "sequence",
    "created_at",
    "action",
    "actor_id",
    "role",
    "application_id",
    "subject_type",
    "subject_id",
    "data",
    "previous_mac",
)


def payload_bytes(
    sequence,
    created_at,
    action,
    actor_id,
    role,
    application_id,
    subject_type,
    subject_id,
    data,
    previous_mac,
) -> bytes:
    """The canonical bytes an event's MAC covers (everything but the MAC itself): exactly
    ``json.dumps({"sequence": ..., "created_at": <isoformat>, "action": ..., "actor": ...,
    "role": ..., "application": ..., "subject_type": ..., "subject_id": ..., "data": ...,
    "previous": ...}, sort_keys=True, separators=(",", ":"), default=str)``, assembled by hand
    because verification computes it for every event (tests/audit/test_canonical.py holds the
    two equal). ``created_at`` is a datetime, or the database's text for one (``iso_utc``)."""
    return (
        '{"action":'
        + json_scalar(action)
        + ',"actor":'
        + json_scalar(actor_id)
        + ',"application":'
        + json_scalar(application_id)
        + ',"created_at":'
        + json_scalar(iso_utc(created_at))
        + ',"data":'
        + COMPACT.encode(data)
        + ',"previous":'
        + json_scalar(previous_mac)
        + ',"role":'
        + json_scalar(role)
        + ',"sequence":'
        + json_scalar(sequence)
        + ',"subject_id":'
        + json_scalar(subject_id)
        + ',"subject_type":'
        + json_scalar(subject_type)
        + "}"
    ).encode()


def payload_mac(*columns, key: bytes | None = None) -> str:
    """The MAC of an event given its ``MAC_COLUMNS`` values (as ``values_list`` returns them)."""
    return hmac.new(key or audit_key(), payload_bytes(*columns), hashlib.sha256).hexdigest()


def event_payload(event: AuditEvent) -> bytes:
    return payload_bytes(*(getattr(event, column) for column in MAC_COLUMNS))


def event_mac(event: AuditEvent) -> str:
    return hmac.new(audit_key(), event_payload(event), hashlib.sha256).hexdigest()


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
    transaction, so events are numbered without gaps in commit order. Once the transaction
    commits, the new head is sealed outside the database (``audit.seal``).

    Lock order: take the locks on the rows being changed first and record the event last
    (``extraction.history.revision_append`` locks the field, then the head). A service that
    recorded an event first and then locked a field could deadlock with one that did the
    reverse.
    """
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        now = timezone.now()
        if head.created_at is not None and now < head.created_at:
            # The event before was recorded by a process whose clock runs ahead of ours.
            now = head.created_at
        event = AuditEvent(
            sequence=head.sequence + 1,
            created_at=now,
            action=action,
            actor=actor if getattr(actor, "pk", None) else None,
            role=role,
            application_id=getattr(application, "pk", application),
            subject_type=subject._meta.model_name if subject is not None else "",
            subject_id=str(subject.pk) if subject is not None else "",
            # As the database will give it back: other values as text, and floats as their
            # spelling, since PostgreSQL's jsonb would respell 1e+16 as 10000000000000000.
            data=json.loads(json.dumps(data or {}, default=str), parse_float=str),
            previous_mac=head.mac,
        )
        event.mac = event_mac(event)
        event.save()
        AuditHead.objects.filter(pk=1).update(
            sequence=event.sequence, mac=event.mac, created_at=event.created_at
        )
        # robust: a full disk must not turn a committed write into an error for the person;
        # the beat job (``audit.seal_head``) seals the head again within a minute.
        transaction.on_commit(
            partial(seal_append, sequence=event.sequence, mac=event.mac), robust=True
        )
    return event


def seal_head() -> int | None:
    """Seal the newest event of the trail as it stands; its sequence, or None when empty."""
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "mac").first()
    if last is None:
        return None
    seal_append(sequence=last[0], mac=last[1])
    return last[0]
