from django.conf import settings
from django.db import models

from core.states import move


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


# How much each open flag adds to an application's risk score.
SEVERITY_WEIGHT = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 5,
    Severity.HIGH: 20,
    Severity.CRITICAL: 50,
}


class Rule(models.Model):
    """A risk rule, identified by its key. What it says lives in its versions, which never change.

    ``current`` points at the newest version; the Flag rows keep the version that raised them.
    ``shipped_version`` is the pack version last loaded from YAML, so that a sync replaces an
    admin's edit only when a newer version ships.
    """

    key = models.SlugField(max_length=80, unique=True)
    current = models.ForeignKey(
        "RuleVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    shipped_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Scope:
    """Where a rule is evaluated: once per application, per document, per field, or per
    document of one type (any other value is a document type key)."""

    APPLICATION = "application"
    DOCUMENT = "document"
    FIELD = "field"
    GENERIC = (APPLICATION, DOCUMENT, FIELD)


class RuleVersion(models.Model):
    """One immutable version of a rule: an edit, a disable or a newer shipped pack adds one."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    expression = models.TextField()
    severity = models.CharField(max_length=10, choices=Severity)
    scope = models.CharField(max_length=50)
    message = models.TextField(
        help_text="Shown to the reviewer; {{ expression }} placeholders show values."
    )
    # For document-scoped rules: the field (by key) the flag points at when the document has it.
    link_field = models.SlugField(max_length=50, blank=True)
    enabled = models.BooleanField(default=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="unique_rule_version")
        ]

    def __str__(self) -> str:
        return f"{self.rule.key} v{self.number}"

    def save(self, *args, **kwargs):
        # Flags point at versions to explain themselves; a version that changed would lie.
        if self.pk is not None:
            raise ValueError("Rule versions are immutable; add a new version instead.")
        super().save(*args, **kwargs)


# A rule that fails at run time is an admin's problem, recorded in RuleError, never a flag on an
# applicant's application. Flags with this key prefix were raised before that; none are raised now.
RULE_ERROR_PREFIX = "rule_error:"


class RuleError(models.Model):
    """How often one rule version failed at run time, and the last failure, for admins.

    One row per version that ever failed: ``count`` failures (one per application run that
    failed), the last message and where (document or field), the last application, when first
    and last seen. Written by ``rules.services.rule_errors_record``, never shown to applicants.
    """

    version = models.OneToOneField(RuleVersion, on_delete=models.CASCADE, related_name="run_error")
    count = models.PositiveBigIntegerField(default=0)
    last_message = models.TextField(blank=True)
    last_where = models.CharField(max_length=300, blank=True)
    last_application = models.ForeignKey(
        "applications.Application",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.version}: {self.count} errors"


class Flag(models.Model):
    """A check that fired on an application, document or field, with the values behind it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        WAIVED = "waived", "Waived"

    S = Status
    TRANSITIONS = {
        S.OPEN: frozenset({S.RESOLVED, S.WAIVED}),
        S.RESOLVED: frozenset({S.OPEN}),
        S.WAIVED: frozenset({S.OPEN}),
    }

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="flags"
    )
    document = models.ForeignKey(
        "extraction.Document", on_delete=models.CASCADE, null=True, blank=True, related_name="flags"
    )
    field = models.ForeignKey(
        "extraction.Field", on_delete=models.CASCADE, null=True, blank=True, related_name="flags"
    )
    rule_key = models.CharField(max_length=80)
    rule_version = models.PositiveIntegerField(default=1)
    # The exact version that raised the flag (null for flags raised before rules were data).
    rule_revision = models.ForeignKey(
        RuleVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="flags"
    )
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=Severity)
    message = models.TextField()
    values = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-created_at"]
        indexes = [models.Index(fields=["application", "status"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.severity}, {self.status})"

    def move_to(self, target: str) -> None:
        move(self, target, self.TRANSITIONS)

    @property
    def is_rule_error(self) -> bool:
        return self.rule_key.startswith(RULE_ERROR_PREFIX)

    @property
    def weight(self) -> int:
        return SEVERITY_WEIGHT.get(self.severity, 0)
