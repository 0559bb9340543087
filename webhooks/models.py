"""Webhook endpoints, the deliveries owed to them (an outbox), and every attempt at one."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Event(models.TextChoices):
    """What an endpoint may subscribe to. The value is the payload's ``type``."""

    DOCUMENT_READ = "document.read", "Document read"
    DOCUMENT_NEEDS_MANUAL_ENTRY = "document.needs_manual_entry", "Document needs manual entry"
    APPLICATION_SUBMITTED = "application.submitted", "Application submitted"
    APPLICATION_CHANGES_REQUESTED = "application.changes_requested", "Changes requested"
    APPLICATION_DECIDED = "application.decided", "Decision made (approved or rejected)"


class Endpoint(models.Model):
    """A receiver an admin registered: where to send which events, and the signing secret.

    ``secret`` is ``whsec_`` + base64 of 24 random bytes (Standard Webhooks). It is kept in
    plain text because signing needs it; only admins can see it (``webhooks.views``).
    """

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.url

    @property
    def event_labels(self) -> list[str]:
        labels = dict(Event.choices)
        return [labels.get(event, event) for event in self.events]


class Delivery(models.Model):
    """One message owed to one endpoint. ``body`` is the exact JSON sent on every attempt;
    ``message_id`` (the ``webhook-id`` header) stays the same across attempts and resends, so a
    receiver that remembers ids processes each event once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=Event)
    # What caused it ("audit:<sequence>", "document:<id>:<status>:<time>"): one delivery per
    # endpoint and cause, whatever re-sends the signal.
    source = models.CharField(max_length=100)
    message_id = models.CharField(max_length=40, unique=True)
    body = models.TextField()
    application_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # Attempts made before the current round of retries (an admin's resend of a delivery that
    # gave up starts a new round; attempt numbers keep counting).
    round_start = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    # While ``sending``: the attempt holding it; another worker may take over after this.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The last admin who sent it again by hand, and when.
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "source"], name="one_delivery_per_cause")
        ]
        indexes = [models.Index(fields=["endpoint", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP request of a delivery, as it went."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    # The first characters of the receiver's answer (WEBHOOK_RESPONSE_KEEP_CHARS).
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="unique_attempt_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
