"""Reading one document: ingest pages, extract, ground, save, check rules.

Every step is idempotent: running the pipeline twice on the same document, or again after a
worker died half-way, leaves the same pages and fields and never duplicates history.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Role

from .classify import classify
from .grounding import locate
from .history import RevisionAction, revision_append
from .ingest import RenderedPage, UnreadableDocument, render_pages
from .models import Document, DocumentType, ExtractionRun, Field, Page
from .normalize import NormalizationError, normalize
from .providers import get_provider
from .providers.base import (
    PROMPT_VERSION,
    ExtractionRequest,
    ExtractionResult,
    PageInput,
    ProviderError,
    ProviderTransientError,
)
from .schemas import SCHEMA_VERSION, DocumentTypeSpec

logger = logging.getLogger(__name__)


class Reason:
    """Failure and manual-entry reasons: a code for programs, a sentence for the applicant."""

    UNKNOWN_TYPE = (
        "unknown_type",
        "We could not tell what kind of document this is. Choose its type and we will read it "
        "again.",
    )
    UNREADABLE = (
        "unreadable",
        "We could not read the values on this document. Please type them in beside the page.",
    )
    PROVIDER_UNAVAILABLE = (
        "provider_unavailable",
        "The reading service did not answer after several tries. Press Retry in a few minutes.",
    )
    INTERNAL = (
        "internal_error",
        "Something went wrong on our side while reading this document. Press Retry; if it "
        "happens again, replace the file or contact support.",
    )
    RENDER_FAILED = (
        "render_failed",
        "We could not open the pages of this file. Replace it with a fresh scan or export.",
    )


def _claim(document_id: int) -> Document | None:
    """Move a queued document to processing; None when it is gone, done or taken."""
    with transaction.atomic():
        document = (
            # Lock only the document row: PostgreSQL refuses to lock the nullable side of a join.
            Document.objects.select_for_update(of=("self",))
            .select_related("document_type", "application")
            .filter(pk=document_id)
            .first()
        )
        if document is None or document.status != Document.Status.QUEUED:
            return None
        document.move_to(Document.Status.PROCESSING)
        document.attempts += 1
        document.pages_done = 0
        document.processing_started_at = timezone.now()
        document.save()
    return document


def _ingest(document: Document) -> list[Page]:
    """Render and store every page once; a retry reuses the pages an earlier attempt stored.

    Pages are written in one transaction, so pages that exist are all of them.
    """
    existing = list(document.pages.all())
    if existing:
        Document.objects.filter(pk=document.pk).update(pages_done=len(existing))
        return existing
    with document.original.open("rb") as handle:
        data = handle.read()
    rendered: list[RenderedPage] = []
    for page in render_pages(
        data=data, media_type=document.media_type, max_pixels=settings.PAGE_IMAGE_MAX_PIXELS
    ):
        rendered.append(page)
        Document.objects.filter(pk=document.pk).update(pages_done=page.number)
    with transaction.atomic():
        pages = []
        for page in rendered:
            stored = Page(
                document=document,
                number=page.number,
                width=page.width,
                height=page.height,
                text=page.text,
                words=page.words,
                text_source=page.text_source,
            )
            stored.image.save(f"page-{page.number:03d}.png", ContentFile(page.png), save=False)
            stored.save()
            pages.append(stored)
        Document.objects.filter(pk=document.pk).update(page_count=len(pages))
    return pages


def _resolve_type(document: Document, pages: list[Page]) -> DocumentType | None:
    if document.document_type_id:
        return document.document_type
    key = classify("\n".join(page.text for page in pages))
    document_type = DocumentType.objects.filter(key=key, is_active=True).first() if key else None
    if document_type is not None:
        Document.objects.filter(pk=document.pk).update(document_type=document_type)
        document.document_type = document_type
    return document_type


def _record_run(
    document: Document,
    provider_name: str,
    outcome: str,
    result: ExtractionResult | None = None,
    error: ProviderError | None = None,
) -> ExtractionRun:
    return ExtractionRun.objects.create(
        document=document,
        provider=provider_name,
        model=result.model if result else "",
        prompt_version=PROMPT_VERSION,
        schema_version=SCHEMA_VERSION,
        tokens_in=result.tokens_in if result else 0,
        tokens_out=result.tokens_out if result else 0,
        cost=result.cost if result else 0,
        latency_ms=result.latency_ms if result else 0,
        raw_response=(result.raw_response if result else error.raw_response if error else ""),
        outcome=outcome,
        error=error.message if error else "",
    )


def _save_fields(
    document: Document, spec: DocumentTypeSpec, values: dict[str, str | None], pages: list[Page]
) -> None:
    """Create or refresh one Field per schema field, with the machine's reading as history.

    A value a person already confirmed or corrected is kept; only the machine's own reading
    is refreshed, so re-running extraction never overwrites a human decision.
    """
    page_words = [(page.number, page.words) for page in pages]
    pages_by_number = {page.number: page for page in pages}
    existing = {field.key: field for field in document.fields.all()}
    for position, field_spec in enumerate(spec.fields):
        value = values.get(field_spec.key) or ""
        try:
            normalized = normalize(field_spec.kind, value) if value else ""
        except NormalizationError:
            normalized = ""
        location = locate(value=value, kind=field_spec.kind, pages=page_words) if value else None
        field = existing.get(field_spec.key) or Field(document=document, key=field_spec.key)
        is_new = field.pk is None
        field.label = field_spec.label
        field.kind = field_spec.kind
        field.required = field_spec.required
        field.sensitive = field_spec.sensitive
        field.position = position
        previous_machine_value = field.machine_value
        field.machine_value = value
        untouched = is_new or field.status == Field.Status.PROPOSED
        if untouched:
            field.value = value
            field.normalized = normalized
        if location and (untouched or field.value == value):
            field.page = pages_by_number.get(location.page)
            field.box = location.box
            field.grounded = True
        elif untouched:
            field.page = None
            field.box = []
            field.grounded = False
        field.save()
        if is_new or previous_machine_value != value:
            revision_append(
                field=field,
                value=value,
                actor=None,
                role=Role.MACHINE,
                action=RevisionAction.EXTRACTED,
            )


def _finish(document: Document, status: str, reason: tuple[str, str] | None = None) -> None:
    from review.services import application_documents_changed

    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        locked.move_to(status)
        locked.reason_code, locked.reason = reason or ("", "")
        locked.save()
        application_documents_changed(application=locked.application)


def document_process(*, document_id: int) -> None:
    """Read a queued document end to end. Transient provider errors propagate for a retry."""
    from rules.services import flags_refresh

    document = _claim(document_id)
    if document is None:
        return
    try:
        pages = _ingest(document)
    except UnreadableDocument as error:
        _finish(document, Document.Status.FAILED, ("unreadable_file", error.message))
        return
    except Exception:
        logger.exception("Rendering document %s failed", document_id)
        _finish(document, Document.Status.FAILED, Reason.RENDER_FAILED)
        return

    document_type = _resolve_type(document, pages)
    if document_type is None:
        _finish(document, Document.Status.NEEDS_MANUAL_ENTRY, Reason.UNKNOWN_TYPE)
        return
    spec = DocumentTypeSpec.from_model(document_type)
    provider = get_provider()
    request = ExtractionRequest(
        document_type=spec,
        pages=tuple(
            PageInput(number=page.number, image_png=_read(page), text=page.text) for page in pages
        ),
    )
    try:
        result = provider.extract(request)
    except ProviderTransientError as error:
        _record_run(document, provider.name, ExtractionRun.Outcome.ERROR, error=error)
        raise
    except ProviderError as error:
        outcome = (
            ExtractionRun.Outcome.INVALID_OUTPUT
            if error.code == "unreadable_answer"
            else ExtractionRun.Outcome.ERROR
        )
        _record_run(document, provider.name, outcome, error=error)
        with transaction.atomic():
            _save_fields(document, spec, {}, pages)
        flags_refresh(application=document.application)
        _finish(document, Document.Status.NEEDS_MANUAL_ENTRY, Reason.UNREADABLE)
        return

    with transaction.atomic():
        _record_run(document, provider.name, ExtractionRun.Outcome.OK, result=result)
        _save_fields(document, spec, result.values, pages)
    flags_refresh(application=document.application)
    if not any(result.values.values()):
        # Nothing at all was read: the applicant types the values in instead of confirming blanks.
        _finish(document, Document.Status.NEEDS_MANUAL_ENTRY, Reason.UNREADABLE)
    else:
        _finish(document, Document.Status.EXTRACTED)


def _read(page: Page) -> bytes:
    with page.image.open("rb") as handle:
        return handle.read()


def document_requeue(*, document_id: int, note: str = "") -> None:
    """Hand a processing document back to the queue (a retry is scheduled or it was stuck)."""
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.status != Document.Status.PROCESSING:
            return
        document.move_to(Document.Status.QUEUED)
        document.reason_code = "waiting_to_retry" if note else ""
        document.reason = note
        document.save()


def document_fail(*, document_id: int, reason: tuple[str, str]) -> None:
    """Record a final failure with a reason the applicant can read."""
    from review.services import application_documents_changed

    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.is_finished:
            return
        document.move_to(Document.Status.FAILED)
        document.reason_code, document.reason = reason
        document.save()
        application_documents_changed(application=document.application)


def documents_recover_stuck() -> list[int]:
    """Re-queue documents whose worker died mid-read, and re-send queued ones that were lost.

    Returns the ids handed back to the queue.
    """
    deadline = timezone.now() - timedelta(seconds=settings.EXTRACTION_STUCK_AFTER_SECONDS)
    stuck = list(
        Document.objects.filter(
            status=Document.Status.PROCESSING, processing_started_at__lt=deadline
        ).values_list("pk", flat=True)
    )
    for document_id in stuck:
        document_requeue(document_id=document_id)
    lost = list(
        Document.objects.filter(status=Document.Status.QUEUED, updated_at__lt=deadline).values_list(
            "pk", flat=True
        )
    )
    return stuck + lost
