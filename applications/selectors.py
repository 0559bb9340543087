"""Reads of applications on a user's behalf. "Absent" and "not yours" answer 404 alike."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Application

REVIEW_PERMISSION = "applications.review_application"
AUDIT_PERMISSION = "applications.audit_history"


def applications_visible_to(user) -> QuerySet[Application]:
    """The applications this user may see: their own, and for staff every submitted one."""
    if not user.is_authenticated:
        return Application.objects.none()
    if user.has_perm(REVIEW_PERMISSION):
        # Staff see an application once the applicant has submitted it, and ever after.
        return Application.objects.filter(Q(submitted_at__isnull=False) | Q(owner=user))
    return Application.objects.filter(owner=user)


def application_get_for_user(*, user, application_id: int) -> Application:
    application = (
        applications_visible_to(user)
        .filter(pk=application_id)
        .select_related("owner", "assigned_to")
        .first()
    )
    if application is None:
        raise Http404("No such application.")
    return application
