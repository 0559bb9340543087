from django.conf import settings
from django.db import models

from applications.models import Application


class Decision(models.Model):
    """A reviewer's approve, reject or request for changes, with the note that explains it."""

    class Kind(models.TextChoices):
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"
        REQUEST_CHANGES = "request_changes", "Changes requested"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    note = models.TextField(blank=True)
    # A request for changes: the applicant's answer in words, given when they submit again.
    reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.reviewer} on {self.application.reference}"
