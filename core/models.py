"""Background jobs that a person starts and watches: a row the screens poll for progress."""

from django.conf import settings
from django.db import models

from .states import move


class Job(models.Model):
    """One long piece of work run by a Celery worker (a back-test, a re-evaluation, a full
    verification of the audit trail). ``done`` of ``total`` units so far; ``result`` is the
    job's own JSON summary once it has succeeded; ``message`` a plain sentence for people."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    S = Status
    TRANSITIONS = {
        S.QUEUED: frozenset({S.RUNNING, S.SUCCEEDED, S.FAILED}),
        S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED}),
        S.SUCCEEDED: frozenset(),
        S.FAILED: frozenset(),
    }
    FINISHED = frozenset({S.SUCCEEDED, S.FAILED})

    kind = models.CharField(max_length=50)
    label = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status, default=Status.QUEUED)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    # What the job works on and its outcome, in the job kind's own shape.
    arguments = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display().lower()})"

    def move_to(self, target: str) -> None:
        move(self, target, self.TRANSITIONS)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
