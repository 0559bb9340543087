"""One append-only record of every decision-relevant event, chained with a keyed MAC.

Each event stores the MAC of the event before it (``previous_mac``) and its own MAC over its
content and that link, keyed with ``settings.AUDIT_HMAC_KEY``, a secret that lives outside the
database. Rewriting a row and recomputing plain hashes is therefore detectable by anyone holding
the key (``audit.verification``); the database refuses UPDATE and DELETE on it
(``audit.triggers``), and its head is sealed outside the database (``audit.seal``).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.json import KeyTransform


class Action(models.TextChoices):
    # Values
    FIELD_EXTRACTED = "field.extracted", "Value read by the machine"
    FIELD_REREAD = "field.reread", "Value read again by the machine (the person's value kept)"
    FIELD_CONFIRMED = "field.confirmed", "Value confirmed"
    FIELD_CORRECTED = "field.corrected", "Value corrected"
    FIELD_ENTERED = "field.entered", "Value entered"
    FIELD_ABSENT = "field.absent", "Value marked not on the document"
    FIELD_VERIFIED = "field.verified", "Value verified by approval"
    # Flags
    FLAG_RAISED = "flag.raised", "Flag raised"
    FLAG_RESOLVED = "flag.resolved", "Flag resolved"
    FLAG_WAIVED = "flag.waived", "Flag waived"
    FLAG_REOPENED = "flag.reopened", "Flag reopened"
    # The application and its review
    APPLICATION_CREATED = "application.created", "Application created"
    APPLICATION_STATED_CHANGED = "application.stated_changed", "Stated values changed"
    APPLICATION_SUBMITTED = "application.submitted", "Application submitted"
    APPLICATION_WITHDRAWN = "application.withdrawn", "Application withdrawn"
    APPLICATION_CLAIMED = "application.claimed", "Application claimed"
    APPLICATION_RELEASED = "application.released", "Claim released"
    APPLICATION_REASSIGNED = "application.reassigned", "Application reassigned"
    APPLICATION_APPROVED = "application.approved", "Application approved"
    APPLICATION_REJECTED = "application.rejected", "Application rejected"
    APPLICATION_CHANGES_REQUESTED = "application.changes_requested", "Changes requested"
    APPLICATION_REOPENED = "application.reopened", "Application reopened"
    APPLICANT_REPLIED = "application.applicant_replied", "Applicant replied"
    # Documents
    DOCUMENT_ADDED = "document.added", "Document added"
    DOCUMENT_REMOVED = "document.removed", "Document removed"
    DOCUMENT_RETYPED = "document.retyped", "Document type chosen"
    DOCUMENT_REPLACED = "document.replaced", "Document replaced"
    # Configuration
    RULE_CREATED = "rule.created", "Rule created"
    RULE_CHANGED = "rule.changed", "Rule changed"
    RULE_ENABLED = "rule.enabled", "Rule enabled"
    RULE_DISABLED = "rule.disabled", "Rule disabled"
    DOCUMENT_TYPE_CHANGED = "document_type.changed", "Document type changed"
    DOCUMENT_TYPE_SAMPLE_ADDED = "document_type.sample_added", "Labelled sample added"
    DOCUMENT_TYPE_SAMPLE_REMOVED = "document_type.sample_removed", "Labelled sample removed"
    DOCUMENT_TYPE_ACCURACY_STARTED = "document_type.accuracy_started", "Accuracy check started"
    # API keys (api/): created and revoked by an admin, used for a decision
    API_KEY_CREATED = "api_key.created", "API key created"
    API_KEY_REVOKED = "api_key.revoked", "API key revoked"
    API_KEY_USED = "api_key.used", "API key used for a decision"
    # Webhooks: where Attest sends events, and with which secret
    WEBHOOK_ENDPOINT_CREATED = "webhook.endpoint_created", "Webhook endpoint added"
    WEBHOOK_ENDPOINT_CHANGED = "webhook.endpoint_changed", "Webhook endpoint changed"
    WEBHOOK_SECRET_SHOWN = "webhook.secret_shown", "Webhook secret shown"
    WEBHOOK_SECRET_REPLACED = "webhook.secret_replaced", "Webhook secret replaced"
    WEBHOOK_DELIVERY_RESENT = "webhook.delivery_resent", "Webhook delivery sent again"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("The audit trail is append-only.")

    def delete(self):
        raise ValidationError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """One event. ``sequence`` is gapless and increasing; the chain follows it."""

    sequence = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    action = models.CharField(max_length=40, choices=Action)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The actor's role at the time (applicant, reviewer, admin, machine, system).
    role = models.CharField(max_length=20, blank=True)
    # Referenced by id, not by foreign key: the trail outlives what it talks about and must not
    # tie the lower layers to the models of the upper ones.
    application_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.CharField(max_length=40, blank=True)
    # What changed, in the event's own words: from / to / note / reason / ids.
    data = models.JSONField(default=dict, blank=True)
    previous_mac = models.CharField(max_length=64, blank=True)
    mac = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["application_id", "sequence"]),
            models.Index(fields=["action", "sequence"]),
            models.Index(fields=["subject_type", "subject_id"]),
            # The history screen's filters by role and by field, newest first: a page is one
            # index range read backwards, not a scan of the trail (172 ms at 650,000 events,
            # growing with it). The expression index also gives the planner statistics on
            # data -> 'key', without which it guesses 0.5 % and scans the table.
            models.Index(fields=["role", "sequence"], name="audit_event_role"),
            models.Index(KeyTransform("key", "data"), "sequence", name="audit_event_field_key"),
            # The history's dates: the first and last sequence of a range of days, in one
            # index probe each (audit.selectors.audit_event_list).
            models.Index(fields=["created_at", "sequence"], name="audit_event_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("The audit trail is append-only.")


class AuditHead(models.Model):
    """The single row every writer locks: it serialises the chain and holds its tip."""

    sequence = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64, blank=True)
    # When the newest event was recorded: the next one is never dated before it, so that the
    # trail's dates rise with its sequence even when writers' clocks disagree (and a range of
    # days is a range of sequences: audit.selectors.audit_event_list).
    created_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"head #{self.sequence}"
