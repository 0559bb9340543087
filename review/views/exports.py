"""Downloads of approved applications (review/exports.py), for the staff who may view them:
the same permission and the same visibility as the reviewer's page of the application."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET

from applications.models import Application
from applications.selectors import application_get_for_user, applications_visible_to
from core.exports import csv_rows

from ..exports import application_export, applications_export_json, applications_export_rows

REVIEW = "applications.review_application"
SENSITIVE = "extraction.view_sensitive_values"


def _format(request) -> str:
    return "json" if request.GET.get("format") == "json" else "csv"


def _download(chunks, *, name: str, kind: str) -> StreamingHttpResponse:
    content_type = "application/json" if kind == "json" else "text/csv; charset=utf-8"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_GET
def application_export_view(request, application_id: int):
    """One application's verified values: ``?format=csv`` (default) or ``json``."""
    application = application_get_for_user(user=request.user, application_id=application_id)
    if application.status != Application.Status.APPROVED:
        messages.error(request, "Only an approved application can be exported.")
        return redirect("review_application", application_id=application.pk)
    reveal = request.user.has_perm(SENSITIVE)
    kind = _format(request)
    name = f"attest-{application.reference}"
    if kind == "json":
        body = json.dumps(application_export(application, reveal_sensitive=reveal), indent=2)
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    rows = applications_export_rows([application], reveal_sensitive=reveal)
    return _download(csv_rows(rows), name=name, kind="csv")


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_GET
def approved_export_view(request):
    """Every approved application this person may see, streamed: ``?format=csv`` or ``json``."""
    applications = applications_visible_to(request.user)
    reveal = request.user.has_perm(SENSITIVE)
    kind = _format(request)
    name = f"attest-approved-{timezone.now():%Y%m%d-%H%M}"
    if kind == "json":
        return _download(
            applications_export_json(applications, reveal_sensitive=reveal), name=name, kind=kind
        )
    rows = applications_export_rows(applications, reveal_sensitive=reveal)
    return _download(csv_rows(rows), name=name, kind="csv")
