"""Screens. Each view parses a form, calls a selector or a service, and renders."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from accounts.models import Role

from .applicant import (
    application_detail,
    application_documents,
    application_list,
    document_detail,
    field_update,
)
from .exports import application_export_view, approved_export_view
from .history import (
    field_timeline,
    history_verify_start,
    revision_history_export,
    revision_history_view,
)
from .reports import accuracy_view, throughput_view
from .staff import review_application, review_queue_view


@login_required
def home(request):
    """Send each person to the screen where their work starts."""
    if request.user.role == Role.APPLICANT:
        return redirect("application_list")
    return redirect("review_queue")


__all__ = [
    "application_export_view",
    "approved_export_view",
    "accuracy_view",
    "field_timeline",
    "history_verify_start",
    "revision_history_export",
    "throughput_view",
    "application_detail",
    "application_documents",
    "application_list",
    "document_detail",
    "field_update",
    "home",
    "review_application",
    "review_queue_view",
    "revision_history_view",
]
