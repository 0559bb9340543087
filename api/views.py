"""The REST API under /api/v1/ (django-ninja): parse, check the caller, call a selector or a
service, answer. Domain rules live in the screens' services; docs/api.md describes the API."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.core.validators import validate_email
from django.db import transaction
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.views.decorators.http import require_GET
from ninja import Header, NinjaAPI, Path, Query, Status
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from applications.claims import ApplicationClosed, ClaimHeldByOther, NotAStaffMember
from applications.models import Application
from applications.selectors import REVIEW_PERMISSION
from applications.services import ApplicationLocked, DocumentsLocked
from core.exports import csv_rows
from extraction.models import DocumentType
from extraction.services import UploadRejected, document_upload
from extraction.upload_limits import upload_refusals
from review.exports import applications_export_json, applications_export_rows
from review.services import StaleVersion, application_decide
from review.versions import application_version

from . import schemas
from .auth import ApiKeyAuth, CallerRateThrottle, SessionCookieAuth
from .errors import ApiError
from .models import Scope
from .schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    DecisionIn,
    DecisionOut,
    Error,
    EventPage,
    PageOut,
    Text,
    UploadOut,
)
from .selectors import (
    application_detail,
    application_for,
    application_page,
    applications_for,
    document_for,
    event_page,
    is_intake_of,
    is_staff_view,
    may_read_trail,
    page_for,
)
from .services import (
    api_key_used_for_decision,
    application_create_for_applicant,
    fingerprint,
    idempotent,
)

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Attest API",
    version="1",
    description=(
        "Create applications, upload documents, read the verified values with their evidence, "
        "and record decisions. Authenticate with `Authorization: Bearer <API key>` (keys are "
        "created by admins at /api-keys/) or, signed in to Attest, with the session cookie and "
        'the CSRF token. Every error is `{"code": ..., "message": ...}`. See docs/api.md.'
    ),
    auth=[ApiKeyAuth(), SessionCookieAuth()],
    throttle=[CallerRateThrottle()],
    urls_namespace="api",
    # The description and its docs page are public and read-only.
    docs_decorator=require_GET,
)

Id = Annotated[int, Path(ge=1, le=2**62)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        None,
        alias="Idempotency-Key",
        max_length=200,
        description="Any unique string (a UUID): retries with the same key and request create "
        "nothing twice and get the first answer.",
    ),
]
ERRORS = {code: Error for code in (400, 401, 403, 404, 409, 413, 422, 429)}


# --- Errors: one shape everywhere -----------------------------------------------------------


def _error(request, status: int, code: str, message: str, headers: dict | None = None):
    response = api.create_response(request, {"code": code, "message": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.code, exc.message, exc.headers)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    parts = []
    for error in exc.errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "payload"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", ""))
    message = "; ".join(parts) or "The request is not valid."
    return _error(request, 422, "invalid", message)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(
        request,
        401,
        "not_authenticated",
        "Send an API key as 'Authorization: Bearer <key>', or sign in to Attest.",
    )


@api.exception_handler(Throttled)
def _throttled(request, exc: Throttled):
    return _error(
        request,
        429,
        "rate_limited",
        "Too many requests with this key. Wait for the time in Retry-After, then try again.",
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 403:
        return _error(
            request,
            403,
            "csrf_failed",
            "Signed-in writes need the CSRF token in the X-CSRFToken header.",
        )
    if exc.status_code == 400:
        return _error(request, 400, "bad_request", f"The request could not be read: {exc}.")
    return _error(request, exc.status_code, "error", str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    return _error(
        request,
        413,
        "too_large",
        "The request body is too large. Send documents as multipart uploads, one file at a time.",
    )


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    return _error(request, 400, "bad_request", "The request could not be read.")


@api.exception_handler(Exception)
def _server_error(request, exc):
    logger.exception("API request failed: %s %s", request.method, request.path)
    return _error(
        request,
        500,
        "server_error",
        "Something went wrong on our side; nothing was changed by the failed step. Try again, "
        "and tell us if it keeps happening.",
    )


def _caller(request):
    return request.auth


# --- Applications ---------------------------------------------------------------------------


@api.get(
    "/applications",
    response={200: ApplicationPage, **ERRORS},
    url_name="applications",
    summary="List applications",
    tags=["applications"],
)
def list_applications(
    request,
    status: Query[Literal[tuple(Application.Status.values)] | None] = None,  # type: ignore[valid-type]
    applicant_email: Query[Text(254) | None] = None,
    created_after: Query[datetime | None] = None,
    created_before: Query[datetime | None] = None,
    cursor: Query[Text(200) | None] = None,
    limit: int = Query(20, ge=1, le=100),
):
    """The applications the caller may see, newest first, one page at a time: pass the
    answer's `next_cursor` as `cursor` for the next page (null on the last)."""
    caller = _caller(request)
    caller.require(Scope.READ)
    rows, next_cursor = application_page(
        caller,
        status=status or "",
        owner_email=applicant_email or "",
        created_after=created_after,
        created_before=created_before,
        cursor=cursor or "",
        limit=limit,
    )
    return {"items": [schemas.application_summary(a) for a in rows], "next_cursor": next_cursor}


@api.post(
    "/applications",
    response={201: ApplicationOut, 200: ApplicationOut, **ERRORS},
    url_name="applications",
    summary="Create an application",
    tags=["applications"],
)
def create_application(request, payload: ApplicationIn, idempotency_key: IdempotencyKey = None):
    """Create an application with what the applicant stated. With an API key (write scope),
    for the applicant at `applicant_email`, who is invited by e-mail to check and confirm it in
    Attest. 201 with the application; a retry with the same Idempotency-Key answers 200 with
    the same application."""
    caller = _caller(request)
    caller.require(Scope.WRITE)
    if payload.applicant_email:
        try:
            validate_email(payload.applicant_email)
        except ValidationError as error:
            raise ApiError(422, "invalid", "applicant_email: not an e-mail address.") from error

    def perform():
        application = application_create_for_applicant(
            caller=caller,
            applicant_email=payload.applicant_email,
            applicant_name=payload.applicant_name,
            stated_name=payload.stated_name,
            stated_employer=payload.stated_employer,
            stated_monthly_income=(
                Decimal(payload.stated_monthly_income) if payload.stated_monthly_income else None
            ),
            title=payload.title,
        )
        return 201, {"id": application.pk}

    status, body, replayed = idempotent(
        caller=caller,
        key=idempotency_key,
        digest=fingerprint("POST", request.path, payload.dict()),
        perform=perform,
    )
    return Status(200 if replayed else status, _application_answer(caller, body["id"]))


def _application_answer(caller, application_id: int) -> dict:
    application = application_for(caller, application_id)
    staff = is_staff_view(caller, application)
    version = (
        application_version(application=application)
        if staff and application.status in Application.REVIEWABLE
        else None
    )
    return schemas.application_out(
        application,
        application_detail(application),
        staff=staff,
        unmasked=application.owner_id == caller.user.pk,
        version=version,
    )


@api.get(
    "/applications/{application_id}",
    response={200: ApplicationOut, **ERRORS},
    url_name="application",
    summary="Read an application",
    tags=["applications"],
)
def read_application(request, application_id: Id):
    """An application with its documents (pages and fields: value, normalized value, page,
    box, found on the page or not, a second reading's agreement, status, who confirmed it),
    flags (staff only) and decisions."""
    caller = _caller(request)
    caller.require(Scope.READ)
    return _application_answer(caller, application_id)


# --- Documents ------------------------------------------------------------------------------

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "document_type": {
                            "type": "string",
                            "maxLength": 50,
                            "description": "A document type's key (pay_stub...); omit to let "
                            "Attest classify it.",
                        },
                    },
                }
            }
        },
    }
}


@api.post(
    "/applications/{application_id}/documents",
    response={201: UploadOut, 200: UploadOut, **ERRORS},
    url_name="documents",
    summary="Upload a document",
    tags=["documents"],
    openapi_extra=UPLOAD_BODY,
)
def upload_document(request, application_id: Id, idempotency_key: IdempotencyKey = None):
    """One file (multipart field `file`), with the same checks and limits as the upload form
    (type from the content, size, pages, a sandboxed parse, the same file twice refused). 201
    with the document, queued for reading; a retry with the same Idempotency-Key answers 200
    with the same document."""
    caller = _caller(request)
    caller.require(Scope.WRITE)
    application = application_for(caller, application_id)
    if application.owner_id != caller.user.pk and not is_intake_of(caller, application):
        raise ApiError(
            403, "not_allowed", "Only the applicant can add documents to this application."
        )
    refused = upload_refusals(request)
    if refused:
        raise ApiError(413, "too_large", " ".join(refused))
    uploaded = request.FILES.get("file")
    if uploaded is None:
        raise ApiError(422, "invalid", "file: attach the document as the multipart field 'file'.")
    type_key = (request.POST.get("document_type") or "").replace("\x00", "")[:50]
    document_type = None
    if type_key:
        document_type = DocumentType.objects.filter(key=type_key, is_active=True).first()
        if document_type is None:
            raise ApiError(422, "invalid", f"document_type: no document type '{type_key}'.")
    data = uploaded.read()
    uploaded.seek(0)

    def perform():
        try:
            document = document_upload(
                application=application,
                uploaded_file=uploaded,
                actor=caller.user,
                document_type=document_type,
            )
        except UploadRejected as error:
            raise ApiError(422, f"upload_{error.code}", error.message) from error
        except (ApplicationLocked, DocumentsLocked) as error:
            raise ApiError(409, "application_locked", str(error)) from error
        return 201, schemas.upload_out(document)

    status, body, replayed = idempotent(
        caller=caller,
        key=idempotency_key,
        digest=fingerprint("POST", request.path, uploaded.name, type_key, _sha256(data)),
        perform=perform,
        atomic=False,
    )
    return Status(200 if replayed else status, body)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@api.get(
    "/documents/{document_id}/pages",
    response={200: list[PageOut], **ERRORS},
    url_name="document_pages",
    summary="List a document's page images",
    tags=["documents"],
)
def document_pages(request, document_id: Id):
    """The rendered pages of a document, each with the URL of its image."""
    caller = _caller(request)
    caller.require(Scope.READ)
    document = document_for(caller, document_id)
    return [schemas.page_out(page) for page in document.pages.order_by("number")]


@api.get(
    "/documents/{document_id}/pages/{number}/image",
    response={200: None, **ERRORS},
    url_name="page_image",
    summary="Download one page image",
    tags=["documents"],
    openapi_extra={
        "responses": {
            200: {
                "description": "The page image",
                "content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}},
            }
        }
    },
)
def page_image(request, document_id: Id, number: Annotated[int, Path(ge=1, le=100000)]):
    """The page as the reviewer sees it (PNG, JPEG or WebP)."""
    caller = _caller(request)
    caller.require(Scope.READ)
    page = page_for(caller, document_id, number)
    content_type = mimetypes.guess_type(page.image.name)[0] or "application/octet-stream"
    try:
        handle = page.image.open("rb")
    except FileNotFoundError as error:
        raise ApiError(404, "not_found", "This page's image is not stored any more.") from error
    return FileResponse(handle, content_type=content_type)


# --- Exports --------------------------------------------------------------------------------

SENSITIVE_PERMISSION = "extraction.view_sensitive_values"


@api.get(
    "/exports/approved",
    response={200: None, **ERRORS},
    url_name="approved_export",
    summary="Export the approved applications",
    tags=["exports"],
    openapi_extra={
        "responses": {
            200: {
                "description": "Every approved application the caller may see, streamed: JSON "
                "(a list of applications with their fields) or CSV (one row per field: value, "
                "evidence, who confirmed it, history summary; formula cells neutralised)",
                "content": {"application/json": {}, "text/csv": {}},
            }
        }
    },
)
def approved_export(request, format: Query[Literal["json", "csv"]] = "json"):  # noqa: A002
    """The verified values of every approved application the caller may see, the same export
    as the review queue's buttons. Staff only (read scope); sensitive values stay masked unless
    the key's person may see them in full."""
    caller = _caller(request)
    caller.require(Scope.READ)
    if not caller.user.has_perm(REVIEW_PERMISSION):
        raise ApiError(403, "not_allowed", "Exports are for staff who review applications.")
    applications = applications_for(caller)
    reveal = caller.user.has_perm(SENSITIVE_PERMISSION)
    if format == "csv":
        chunks = csv_rows(applications_export_rows(applications, reveal_sensitive=reveal))
        content_type = "text/csv; charset=utf-8"
    else:
        chunks = applications_export_json(applications, reveal_sensitive=reveal)
        content_type = "application/json"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="attest-approved.{format}"'
    return response


# --- The trail and decisions ----------------------------------------------------------------


@api.get(
    "/applications/{application_id}/events",
    response={200: EventPage, **ERRORS},
    url_name="application_events",
    summary="Read an application's audit trail",
    tags=["audit"],
)
def application_events(
    request,
    application_id: Id,
    cursor: Query[Text(200) | None] = None,
    limit: int = Query(50, ge=1, le=200),
):
    """Every event of the application's trail, oldest first, for admins (as on the History
    screen, drafts included)."""
    caller = _caller(request)
    caller.require(Scope.READ)
    # As on the History screen, admins audit every application's trail, drafts included.
    application = Application.objects.filter(pk=application_id).first()
    if not may_read_trail(caller) or application is None:
        raise ApiError(404, "not_found", "No such application, or it is not yours to see.")
    rows, next_cursor = event_page(application, cursor=cursor or "", limit=limit)
    return {"items": [schemas.event_out(e) for e in rows], "next_cursor": next_cursor}


@api.post(
    "/applications/{application_id}/decision",
    response={201: DecisionOut, **ERRORS},
    url_name="decision",
    summary="Record a decision",
    tags=["review"],
)
def decide(request, application_id: Id, payload: DecisionIn):
    """Approve, reject or request changes, through the same review service as the screens:
    the caller must be a reviewer holding the claim (an unclaimed application is claimed),
    `version` must be the application's current `review_version`, and a key needs the decide
    scope (its use is recorded in the audit trail)."""
    caller = _caller(request)
    caller.require(Scope.DECIDE)
    application = application_for(caller, application_id)
    try:
        with transaction.atomic():
            decision = application_decide(
                application=application,
                reviewer=caller.user,
                kind=payload.kind,
                version=payload.version,
                note=payload.note,
                confirm_open_flags=payload.confirm_open_flags,
                reopen_fields=payload.reopen_fields,
                allow_uploads=payload.allow_uploads,
            )
            api_key_used_for_decision(caller=caller, application=application, decision=decision)
    except StaleVersion as error:
        raise ApiError(409, "stale_version", " ".join(error.messages)) from error
    except ValidationError as error:
        raise ApiError(422, error.code or "invalid", " ".join(error.messages)) from error
    except NotAStaffMember as error:
        raise ApiError(403, "not_allowed", str(error)) from error
    except (ClaimHeldByOther, ApplicationClosed) as error:
        raise ApiError(409, "not_open_to_you", str(error)) from error
    except PermissionDenied as error:
        raise ApiError(403, "not_allowed", str(error)) from error
    return Status(201, schemas.decision_out(decision, staff=True))
