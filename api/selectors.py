"""Reads on a caller's behalf. The screens' rule decides what a person sees
(``applications_visible_to``); a key sees what its user sees, plus the applications its
integration created (``ApiIntake``). "Absent" and "not yours" answer 404 alike."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from applications.models import Application
from applications.selectors import AUDIT_PERMISSION, REVIEW_PERMISSION, applications_visible_to
from audit.models import AuditEvent
from extraction.models import Document, Field, FieldRevision, Page
from review.models import Decision
from rules.models import RULE_ERROR_PREFIX, Flag

from .errors import ApiError
from .models import ApiIntake
from .services import Caller

NOT_FOUND = "No such application, or it is not yours to see."


def applications_for(caller: Caller) -> QuerySet[Application]:
    visible = applications_visible_to(caller.user)
    if caller.key is None:
        return visible
    intake = ApiIntake.objects.filter(user=caller.user).values("application_id")
    return Application.objects.filter(Q(pk__in=visible.values("pk")) | Q(pk__in=intake))


def application_for(caller: Caller, application_id: int) -> Application:
    application = (
        applications_for(caller)
        .filter(pk=application_id)
        .select_related("owner", "assigned_to")
        .first()
    )
    if application is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return application


def is_intake_of(caller: Caller, application: Application) -> bool:
    """Whether ``caller`` is a key of the integration that created ``application``."""
    return (
        caller.key is not None
        and ApiIntake.objects.filter(application=application, user=caller.user).exists()
    )


def is_staff_view(caller: Caller, application: Application) -> bool:
    """Staff notes and flags are for staff; the applicant sees their own values unmasked."""
    return caller.user.has_perm(REVIEW_PERMISSION) and application.owner_id != caller.user.pk


def may_read_trail(caller: Caller) -> bool:
    return caller.user.has_perm(AUDIT_PERMISSION)


def _encode(value: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{value}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, value = text.partition(":")
        if version != "v1":
            raise ValueError(version)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ApiError(
            422,
            "invalid_cursor",
            "This cursor is not one the API gave out. Start from the first page.",
        ) from error


def application_page(
    caller: Caller,
    *,
    status: str = "",
    owner_email: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    cursor: str = "",
    limit: int = 20,
) -> tuple[list[Application], str | None]:
    """One page of the caller's applications, newest first (by id, which is creation order),
    and the cursor of the next page (None on the last). Keyset pagination: each page is one
    indexed range read however deep, and stays stable while applications are added."""
    rows = applications_for(caller).select_related("owner")
    if status:
        rows = rows.filter(status=status)
    if owner_email:
        rows = rows.filter(owner__email__iexact=owner_email.strip())
    if created_after:
        rows = rows.filter(created_at__gte=created_after)
    if created_before:
        rows = rows.filter(created_at__lt=created_before)
    if cursor:
        rows = rows.filter(pk__lt=_decode(cursor))
    page = list(rows.order_by("-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (_encode(page[-1].pk) if more and page else None)


def application_detail(application: Application) -> dict:
    """What one application's answer holds: documents with pages and fields (each field with
    its latest person's revision), flags and decisions, in display order."""
    person_revisions = FieldRevision.objects.exclude(role="machine").select_related("actor")
    fields = Field.objects.select_related("page").prefetch_related(
        Prefetch("revisions", queryset=person_revisions.order_by("-number"), to_attr="by_people")
    )
    documents = list(
        Document.objects.filter(application=application)
        .select_related("document_type")
        .prefetch_related(
            Prefetch("fields", queryset=fields.order_by("position", "pk")),
            Prefetch("pages", queryset=Page.objects.order_by("number")),
        )
        .order_by("created_at", "pk")
    )
    flags = list(
        Flag.objects.filter(application=application)
        .exclude(rule_key__startswith=RULE_ERROR_PREFIX)
        .select_related("resolved_by")
        .order_by("created_at", "pk")
    )
    decisions = list(Decision.objects.filter(application=application).select_related("reviewer"))
    return {"documents": documents, "flags": flags, "decisions": decisions}


def document_for(caller: Caller, document_id: int) -> Document:
    document = (
        Document.objects.filter(pk=document_id, application__in=applications_for(caller))
        .select_related("application")
        .first()
    )
    if document is None:
        raise ApiError(404, "not_found", "No such document, or it is not yours to see.")
    return document


def page_for(caller: Caller, document_id: int, number: int) -> Page:
    page = Page.objects.filter(document=document_for(caller, document_id), number=number).first()
    if page is None:
        raise ApiError(404, "not_found", "No such page.")
    return page


def event_page(
    application: Application, *, cursor: str = "", limit: int = 50
) -> tuple[list[AuditEvent], str | None]:
    """The application's trail, oldest first, by sequence; cursor as ``application_page``."""
    events = AuditEvent.objects.filter(application_id=application.pk).select_related("actor")
    if cursor:
        events = events.filter(sequence__gt=_decode(cursor))
    page = list(events.order_by("sequence")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (_encode(page[-1].sequence) if more and page else None)
