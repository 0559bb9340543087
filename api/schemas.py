"""The shapes the API reads and answers, and how rows become answers.

Money is a decimal string ("4250.00"), never a float; times are ISO 8601 in UTC; ids are
integers. Text fields drop NUL characters (PostgreSQL stores none).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.urls import reverse
from ninja import Schema
from pydantic import AfterValidator, Field

from extraction.normalize import mask
from review.models import Decision

from .models import Scope


def _no_nul(value: str) -> str:
    return value.replace("\x00", "")


def Text(max_length: int, **kwargs):  # noqa: N802 - reads as a type in signatures
    """A string of at most ``max_length`` characters, NUL characters removed."""
    return Annotated[str, Field(max_length=max_length, **kwargs), AfterValidator(_no_nul)]


MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


class Error(Schema):
    """Every error: ``code`` is stable (for programs), ``message`` plain words (for people)."""

    code: str
    message: str


class ApplicationIn(Schema):
    applicant_email: Text(254, pattern=r"^[^@\s]+@[^@\s]+$") | None = Field(
        None,
        description="The applicant's e-mail. With an API key: required; the applicant is "
        "invited to check and confirm in the app. Signed in: omit it (or give your own).",
    )
    applicant_name: Text(200) = ""
    stated_name: Text(200, min_length=1, pattern=r"\S")
    stated_employer: Text(200) = ""
    stated_monthly_income: str | None = Field(
        None, pattern=MONEY_PATTERN, description='Monthly income before tax, e.g. "4250.00".'
    )
    title: Text(200) = ""


class DecisionIn(Schema):
    kind: Literal["approve", "reject", "request_changes"]
    version: Text(4000) = Field(
        description="`review_version` of the application as you read it: a decision on an "
        "older version is refused (409 stale_version) with what changed."
    )
    note: Text(5000) = ""
    confirm_open_flags: bool = False
    reopen_fields: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=500
    )
    allow_uploads: bool = False


class Person(Schema):
    id: int
    email: str
    name: str
    role: str = ""


class PageOut(Schema):
    number: int
    width: int
    height: int
    text_source: str
    image_url: str


class FieldOut(Schema):
    id: int
    key: str
    label: str
    kind: str
    required: bool
    sensitive: bool
    value: str = Field(
        description="The current value (masked when sensitive, except for the applicant)."
    )
    normalized: str
    machine_value: str
    page: int | None = Field(description="The page number the value was found on.")
    box: list = Field(description="[x0, y0, x1, y1] as fractions of the page's width and height.")
    grounded: bool = Field(description="Whether the value was found in the page's own text.")
    agreement: str = Field(description="agree, differ or blank: a second reading's verdict.")
    second_value: str
    status: Literal["proposed", "confirmed", "corrected", "verified"]
    confirmed_by: Person | None
    confirmed_at: datetime | None


class DocumentOut(Schema):
    id: int
    name: str
    media_type: str
    size: int
    sha256: str
    page_count: int
    document_type: str | None
    status: str
    reason: str
    created_at: datetime
    pages: list[PageOut]
    fields: list[FieldOut]


class FlagOut(Schema):
    id: int
    rule_key: str
    title: str
    severity: str
    message: str
    status: str
    document_id: int | None
    field_id: int | None
    note: str
    resolved_by: Person | None
    created_at: datetime


class DecisionOut(Schema):
    id: int
    kind: str
    note: str
    reviewer: Person | None
    created_at: datetime


class ApplicationSummary(Schema):
    id: int
    reference: str
    status: str
    applicant: Person
    stated_name: str
    stated_employer: str
    stated_monthly_income: str | None
    title: str
    risk_score: int
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    url: str


class ApplicationOut(ApplicationSummary):
    documents: list[DocumentOut]
    flags: list[FlagOut]
    decision: DecisionOut | None = Field(description="The latest decision, if any.")
    decisions: list[DecisionOut]
    review_version: str | None = Field(
        description="For reviewers: the version to send with a decision."
    )


class ApplicationPage(Schema):
    items: list[ApplicationSummary]
    next_cursor: str | None


class EventOut(Schema):
    sequence: int
    created_at: datetime
    action: str
    actor: Person | None
    role: str
    subject_type: str
    subject_id: str
    data: dict


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class UploadOut(Schema):
    id: int
    application_id: int
    name: str
    media_type: str
    size: int
    sha256: str
    page_count: int
    status: str
    url: str


class ScopeList(Schema):
    scopes: list[Scope]


# --- Rows to answers ------------------------------------------------------------------------


def person(user, role: str = "") -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "name": user.full_name, "role": role}


def application_summary(application) -> dict:
    income = application.stated_monthly_income
    return {
        "id": application.pk,
        "reference": application.reference,
        "status": application.status,
        "applicant": person(application.owner, "applicant"),
        "stated_name": application.stated_name,
        "stated_employer": application.stated_employer,
        "stated_monthly_income": None if income is None else f"{income:.2f}",
        "title": application.title,
        "risk_score": application.risk_score,
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
        "decided_at": application.decided_at,
        "url": reverse("api:application", args=[application.pk]),
    }


def _field(field, *, unmasked: bool) -> dict:
    latest = field.by_people[0] if field.by_people else None
    shown = (
        (lambda v: v)
        if unmasked or not field.sensitive
        else (lambda v: mask(field.kind, v) if v else v)
    )
    return {
        "id": field.pk,
        "key": field.key,
        "label": field.label,
        "kind": field.kind,
        "required": field.required,
        "sensitive": field.sensitive,
        "value": shown(field.value),
        "normalized": shown(field.normalized),
        "machine_value": shown(field.machine_value),
        "page": field.page.number if field.page_id else None,
        "box": field.box or [],
        "grounded": field.grounded,
        "agreement": field.agreement,
        "second_value": shown(field.second_value),
        "status": field.status,
        "confirmed_by": person(latest.actor, latest.role) if latest else None,
        "confirmed_at": latest.created_at if latest else None,
    }


def page_out(page) -> dict:
    return {
        "number": page.number,
        "width": page.width,
        "height": page.height,
        "text_source": page.text_source,
        "image_url": reverse("api:page_image", args=[page.document_id, page.number]),
    }


def document_out(document, *, unmasked: bool) -> dict:
    return {
        "id": document.pk,
        "name": document.original_name,
        "media_type": document.media_type,
        "size": document.size,
        "sha256": document.sha256,
        "page_count": document.page_count,
        "document_type": document.document_type.key if document.document_type_id else None,
        "status": document.status,
        "reason": document.reason,
        "created_at": document.created_at,
        "pages": [page_out(page) for page in document.pages.all()],
        "fields": [_field(field, unmasked=unmasked) for field in document.fields.all()],
    }


def _flag(flag, *, staff: bool) -> dict:
    return {
        "id": flag.pk,
        "rule_key": flag.rule_key,
        "title": flag.title,
        "severity": flag.severity,
        "message": flag.message,
        "status": flag.status,
        "document_id": flag.document_id,
        "field_id": flag.field_id,
        # A waiver's note is a staff note.
        "note": flag.note if staff else "",
        "resolved_by": person(flag.resolved_by) if staff else None,
        "created_at": flag.created_at,
    }


def decision_out(decision, *, staff: bool) -> dict:
    # The applicant reads a request for changes' note (it tells them what to do); other notes
    # and the reviewer's name are for staff.
    shows_note = staff or decision.kind == Decision.Kind.REQUEST_CHANGES
    return {
        "id": decision.pk,
        "kind": decision.kind,
        "note": decision.note if shows_note else "",
        "reviewer": person(decision.reviewer, "reviewer") if staff else None,
        "created_at": decision.created_at,
    }


def application_out(application, detail: dict, *, staff: bool, unmasked: bool, version) -> dict:
    decisions = [decision_out(d, staff=staff) for d in detail["decisions"]]
    return {
        **application_summary(application),
        "documents": [document_out(d, unmasked=unmasked) for d in detail["documents"]],
        "flags": [_flag(f, staff=staff) for f in detail["flags"]] if staff else [],
        "decision": decisions[0] if decisions else None,
        "decisions": decisions,
        "review_version": version,
    }


def upload_out(document) -> dict:
    return {
        "id": document.pk,
        "application_id": document.application_id,
        "name": document.original_name,
        "media_type": document.media_type,
        "size": document.size,
        "sha256": document.sha256,
        "page_count": document.page_count,
        "status": document.status,
        "url": reverse("api:application", args=[document.application_id]),
    }


def event_out(event) -> dict:
    return {
        "sequence": event.sequence,
        "created_at": event.created_at,
        "action": event.action,
        "actor": person(event.actor, event.role),
        "role": event.role,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "data": event.data,
    }
