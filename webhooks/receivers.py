"""Turning what the lower layers record into deliveries.

Both receivers run inside the transaction that made the change: they only write the
deliveries (so a rolled-back change owes nothing) and hand them to the broker after the commit.
No receiver is ever called from inside a transaction over the network.
"""

from __future__ import annotations

from django.db import transaction

from applications.models import Application

from .events import AUDIT_EVENTS, DOCUMENT_EVENTS, audit_event_data, document_data
from .services import deliveries_create
from .tasks import deliveries_enqueue


def _after_commit(ids: list[int]) -> None:
    if ids:
        # robust: the change is committed; a failure to enqueue is left to the sweep.
        transaction.on_commit(lambda: deliveries_enqueue(ids), robust=True)


def after_audit_event(sender, instance, created, **kwargs) -> None:
    event_type = AUDIT_EVENTS.get(instance.action)
    if not created or event_type is None or instance.application_id is None:
        return
    application = Application.objects.filter(pk=instance.application_id).first()
    if application is None:
        return
    ids = deliveries_create(
        event_type=event_type,
        source=f"audit:{instance.sequence}",
        data=audit_event_data(instance, application),
        application_id=application.pk,
    )
    _after_commit(ids)


def after_document_finished(sender, document, **kwargs) -> None:
    event_type = DOCUMENT_EVENTS.get(document.status)
    if event_type is None:
        return
    ids = deliveries_create(
        event_type=event_type,
        source=f"document:{document.pk}:{document.status}:{document.updated_at.timestamp()}",
        data=document_data(document),
        application_id=document.application_id,
    )
    _after_commit(ids)
