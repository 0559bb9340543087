"""Private files, streamed only to people allowed to see their application; OCR health."""

from __future__ import annotations

import logging
import mimetypes
import unicodedata

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import ocr
from .selectors import document_get_for_user, page_get_for_user

# Applicants' files hold personal data: no cache, shared or private, keeps a copy.
CACHE_CONTROL = "no-store"
# Whatever an uploaded file holds (a PDF's JavaScript, an HTML polyglot, an SVG), it never runs
# in Attest's origin: a browser that renders it anyway gets no script, no plugins, no requests
# and a unique origin (the ``sandbox`` directive).
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
# A file store that fails (a disk error; a bucket that is down, refuses or times out): the person
# gets a plain "try again", not a server error; the file itself is untouched.
STORE_ERRORS = (OSError, BotoCoreError, ClientError)

logger = logging.getLogger(__name__)


def _stream(request, file_field, *, content_type: str, filename: str, as_attachment: bool):
    try:
        # FileResponse measures the file as it starts, which fetches it from a bucket.
        response = FileResponse(
            file_field.open("rb"),
            content_type=content_type,
            as_attachment=as_attachment,
            filename=filename,
        )
    except (FileNotFoundError, ValueError) as error:
        raise Http404("The file is missing.") from error
    except STORE_ERRORS:
        logger.exception("The file store failed reading %s", file_field.name)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = CACHE_CONTROL
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@login_required
@require_GET
def document_original(request, document_id: int):
    """The uploaded file, byte for byte, always as a download: a browser never opens it in
    Attest's origin, where a PDF's own script or an HTML disguise could run."""
    document = document_get_for_user(user=request.user, document_id=document_id)
    return _stream(
        request,
        document.original,
        content_type=document.media_type or "application/octet-stream",
        filename=_plain_filename(document.original_name) or f"document-{document.pk}",
        as_attachment=True,
    )


def _plain_filename(name: str) -> str:
    # Control and bidirectional-override characters would disguise the name in the download
    # bar ("pay\u202egpj.pdf" shows as "payfdp.jpg"); they are dropped.
    return "".join(
        ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf"} and ch not in "/\\"
    )


@login_required
@require_GET
def page_image(request, document_id: int, number: int):
    """One rendered page image."""
    page = page_get_for_user(user=request.user, document_id=document_id, number=number)
    content_type = mimetypes.guess_type(page.image.name)[0] or "application/octet-stream"
    extension = mimetypes.guess_extension(content_type) or ""
    return _stream(
        request,
        page.image,
        content_type=content_type,
        filename=f"document-{document_id}-page-{number}{extension}",
        as_attachment=False,
    )


@staff_member_required
@require_GET
def ocr_health(request):
    """Whether scans and photos can be read here: the OCR engine, and why not when it cannot.

    Staff only; 200 with ``{"ocr": "ok", ...}`` or 503 with ``{"ocr": "unavailable", ...}``.
    """
    available, detail = ocr.availability()
    return JsonResponse(
        {"ocr": "ok" if available else "unavailable", "engine": ocr.engine_name(), "detail": detail}
        | ({} if available else {"effect": ocr.UNAVAILABLE_MESSAGE}),
        status=200 if available else 503,
    )
