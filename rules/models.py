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
        "review.Application", on_delete=models.CASCADE, related_name="flags"
    )
    document = models.ForeignKey(
        "extraction.Document", on_delete=models.CASCADE, null=True, blank=True, related_name="flags"
    )
    field = models.ForeignKey(
        "extraction.Field", on_delete=models.CASCADE, null=True, blank=True, related_name="flags"
    )
    rule_key = models.CharField(max_length=80)
    rule_version = models.PositiveIntegerField(default=1)
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
    def weight(self) -> int:
        return SEVERITY_WEIGHT.get(self.severity, 0)
