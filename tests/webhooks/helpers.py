"""Applications at the moments that make webhooks, built through the services."""

from __future__ import annotations

from django.utils import timezone

from applications.models import Application
from review.services import application_decide
from review.versions import application_version
from tests.review.conftest import build_document, confirm_as_applicant


def in_review(owner) -> Application:
    """An application whose values the applicant confirmed, submitted and in review."""
    application = Application.objects.create(owner=owner, stated_name="Jordan Rivera")
    _, _, fields = build_document(application)
    confirm_as_applicant(fields)
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.IN_REVIEW, submitted_at=timezone.now()
    )
    application.refresh_from_db()
    return application


def decide(application, reviewer, kind: str = "approve", **extra):
    return application_decide(
        application=application,
        version=application_version(application=application),
        reviewer=reviewer,
        kind=kind,
        **extra,
    )
