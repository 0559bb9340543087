"""API keys, the applications a key's integration brought in, and idempotency records.

A key is stored as its public prefix (for lookup) and the SHA-256 of the whole secret: the
secret is shown once, at creation, and cannot be read back from the database. A random
256-bit secret needs no slow hash (nothing to guess from a dictionary).
"""

from django.conf import settings
from django.db import models


class Scope(models.TextChoices):
    READ = "read", "Read applications, documents, values and the trail"
    WRITE = "write", "Create applications and upload documents"
    DECIDE = "decide", "Record decisions"


class ApiKey(models.Model):
    """A key an admin created. It acts as ``user`` (their permissions bound what it may do),
    narrowed to ``scopes``; revoked keys stay, so that the trail can name them."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiIntake(models.Model):
    """An application created through the API on an applicant's behalf. Keys of the same
    acting user may read it and upload to it while the applicant may still change it."""

    application = models.OneToOneField(
        "applications.Application", on_delete=models.CASCADE, related_name="api_intake"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="intakes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "application"])]

    def __str__(self) -> str:
        return f"{self.application_id} via {self.key_id}"


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one caller: claimed (pending) by the first request, then the
    answer it gave (done), replayed to every retry with the same key and the same request."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"

    caller = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_once_per_caller")
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key} ({self.state})"
