"""The application aggregate: an applicant's case and its status machine.

It sits below extraction, rules and review so that every layer can refer to it; the screens and
the review workflow that act on it live in ``review``.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F

from core.states import move


def new_reference() -> str:
    """A short, unguessable case reference that applicants can quote on the phone."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "A-" + "".join(secrets.choice(alphabet) for _ in range(8))


class Application(models.Model):
    """An applicant's case: what they stated and the paperwork that backs it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROCESSING = "processing", "Reading documents"
        AWAITING_APPLICANT = "awaiting_applicant", "Waiting for you to check"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        # The applicant took the application back before a decision; final.
        WITHDRAWN = "withdrawn", "Withdrawn"

    S = Status
    TRANSITIONS = {
        S.DRAFT: frozenset({S.PROCESSING, S.AWAITING_APPLICANT, S.WITHDRAWN}),
        S.PROCESSING: frozenset({S.AWAITING_APPLICANT, S.WITHDRAWN}),
        S.AWAITING_APPLICANT: frozenset({S.PROCESSING, S.SUBMITTED, S.WITHDRAWN}),
        S.SUBMITTED: frozenset({S.IN_REVIEW}),
        S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CHANGES_REQUESTED}),
        S.CHANGES_REQUESTED: frozenset({S.AWAITING_APPLICANT, S.WITHDRAWN}),
        S.WITHDRAWN: frozenset(),
        # A final decision is undone only by an admin's recorded reopening.
        S.APPROVED: frozenset({S.IN_REVIEW}),
        S.REJECTED: frozenset({S.IN_REVIEW}),
    }
    # Statuses in which the applicant may still upload, correct and confirm.
    APPLICANT_EDITABLE = frozenset(
        {S.DRAFT, S.PROCESSING, S.AWAITING_APPLICANT, S.CHANGES_REQUESTED}
    )
    REVIEWABLE = frozenset({S.SUBMITTED, S.IN_REVIEW})
    DECIDED = frozenset({S.APPROVED, S.REJECTED})

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    title = models.CharField(max_length=200, blank=True)
    stated_name = models.CharField("your full name", max_length=200)
    stated_employer = models.CharField("employer", max_length=200, blank=True)
    stated_monthly_income = models.DecimalField(
        "monthly income before tax", max_digits=12, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(max_length=24, choices=Status, default=Status.DRAFT)
    risk_score = models.PositiveIntegerField(default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_applications",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # While a reviewer's request for changes is open: what the applicant may change, as
    # {"fields": [field ids], "uploads": bool}. Null when the applicant may change anything
    # (before the first submission). Set by a request for changes, cleared by submitting.
    changes_scope = models.JSONField(null=True, blank=True)
    # When the applicant was e-mailed that their documents are ready to check: once per
    # application, not once per upload batch.
    ready_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table keeps the name it had when the model lived in ``review``.
        db_table = "review_application"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # The reviewer queue: highest risk first, then oldest submission, as one ascending
            # key (-risk_score, submitted_at, id) so that a page after a cursor is one range of
            # the index (review.selectors.review_queue_page): with 300,000 waiting, any page
            # reads about 26 index entries and the queue's time does not grow with the table.
            # This one serves a single status chosen in the filters...
            models.Index(
                "status",
                F("risk_score") * -1,
                "submitted_at",
                "id",
                name="application_queue_by_status",
            ),
            # ...and this one the default queue (every status waiting for a reviewer). The
            # condition must stay Application.REVIEWABLE and the expressions the queue's
            # QUEUE_ORDER (a test checks both).
            models.Index(
                F("risk_score") * -1,
                "submitted_at",
                "id",
                condition=models.Q(status__in=["in_review", "submitted"]),
                name="application_waiting_queue",
            ),
            # ...and this one a search with no status chosen (every status ever submitted), in
            # the queue's order: a search that matches many applications reads this index
            # until a page of them turn up, one that matches few reads its trigram indexes
            # (migration 0007, PostgreSQL only) and sorts what they find.
            models.Index(
                F("risk_score") * -1,
                "submitted_at",
                "id",
                condition=models.Q(submitted_at__isnull=False),
                name="application_submitted_queue",
            ),
        ]
        permissions = [
            ("review_application", "Can review and decide applications"),
            ("audit_history", "Can audit the correction history"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.stated_name})"

    def move_to(self, target: str) -> None:
        move(self, target, self.TRANSITIONS)

    @property
    def applicant_can_edit(self) -> bool:
        return self.status in self.APPLICANT_EDITABLE

    @property
    def applicant_can_change_documents(self) -> bool:
        return self.applicant_can_edit and (
            self.changes_scope is None or bool(self.changes_scope.get("uploads"))
        )

    def applicant_can_change_field(self, field_id: int) -> bool:
        return self.applicant_can_edit and (
            self.changes_scope is None or field_id in self.changes_scope.get("fields", [])
        )
