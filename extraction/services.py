"""Writes on documents: upload, retry, replace. Each stores first and enqueues after commit."""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from applications.claims import actor_role
from applications.services import application_lock_for_edit, assert_applicant_can_edit
from audit.models import Action
from audit.services import audit_record

from .models import Document, DocumentType, Page
from .progress import application_documents_changed
from .uploads import InspectedUpload, UploadRejected, inspect_upload

logger = logging.getLogger(__name__)


def _enqueue(document_id: int) -> None:
    """Send the document to the workers. Runs after commit, so the row is already safe: if the
    broker is down, the periodic recovery sends it again and the upload still succeeds."""
    from .tasks import document_send

    document_send(document_id)


def _inspect(uploaded_file) -> tuple[bytes, InspectedUpload, str]:
    # One read with a ceiling: a file over the limit is refused without reading all of it.
    data = uploaded_file.read(settings.UPLOAD_MAX_BYTES + 1)
    original_name = (getattr(uploaded_file, "name", "") or "upload")[:255]
    return data, inspect_upload(data, filename=original_name), original_name


@contextmanager
def _storing(document: Document, data: bytes, inspected: InspectedUpload, original_name: str):
    """Write the original and fill the document's file facts inside one transaction.

    The file is written before the row so that a committed row always has its file; if the
    transaction fails, the file is deleted again and nothing half-stored remains.
    """
    stored_name = ""
    try:
        with transaction.atomic():
            document.original.save(
                f"{uuid.uuid4().hex}.{inspected.extension}", ContentFile(data), save=False
            )
            stored_name = document.original.name
            document.original_name = original_name
            document.media_type = inspected.media_type
            document.size = inspected.size
            document.sha256 = inspected.sha256
            document.page_count = inspected.page_count
            yield document
    except BaseException:
        if stored_name:
            document.original.storage.delete(stored_name)
        raise


def _reset_for_reading(document: Document) -> None:
    document.move_to(Document.Status.QUEUED)
    document.reason_code = ""
    document.reason = ""
    document.attempts = 0
    document.pages_done = 0
    document.processing_started_at = None
    document.lease_owner, document.lease_expires_at, document.sent_at = "", None, None


def _document_event(action: str, document: Document, actor, **data) -> None:
    """A change of the application's document set, in the trail in the actor's name."""
    audit_record(
        action=action,
        actor=actor,
        role=actor_role(actor),
        application=document.application_id,
        subject=document,
        data={
            "name": document.original_name,
            "sha256": document.sha256,
            "size": document.size,
            "media_type": document.media_type,
            **data,
        },
    )


def _refuse_duplicate(*, application_id: int, sha256: str, name: str, replacing=None) -> None:
    """The same file (same sha256) twice in one application is refused, naming the earlier
    upload: a second copy would be checked twice and raise every flag twice. Called under the
    application's lock, so two copies sent at once cannot both pass."""
    earlier = (
        Document.objects.filter(application_id=application_id, sha256=sha256)
        .exclude(pk=getattr(replacing, "pk", None))
        .order_by("split_from_id", "created_at", "pk")
        .first()
    )
    if earlier is None:
        return
    if earlier.split_from_id:
        earlier = earlier.split_from
    when = timezone.localtime(earlier.created_at).strftime("%b %-d, %Y")
    raise UploadRejected(
        "duplicate",
        f"“{name}” was not added: it is the same file as “{earlier.original_name}”, which "
        f"you uploaded on {when}. Each file is needed only once.",
    )


def document_upload(
    *, application, uploaded_file, actor, document_type: DocumentType | None = None
) -> Document:
    """Validate and store an upload, create its Document, and queue it for reading.

    Raises UploadRejected with a plain-language message; then nothing is stored and the
    application and its other documents are untouched.
    """
    assert_applicant_can_edit(application)
    data, inspected, original_name = _inspect(uploaded_file)
    document = Document(
        application=application,
        uploaded_by=actor,
        document_type=document_type,
        metadata=inspected.metadata,
    )
    with _storing(document, data, inspected, original_name):
        # Decided under the application's row lock: an upload racing the submission either
        # lands before it (and is part of what was submitted) or is refused.
        application_lock_for_edit(application=application)
        _refuse_duplicate(
            application_id=application.pk, sha256=inspected.sha256, name=original_name
        )
        document.save()
        _document_event(Action.DOCUMENT_ADDED, document, actor)
        application_documents_changed(application=application)
        transaction.on_commit(lambda: _enqueue(document.pk))
    return document


def document_retry(*, document: Document, actor) -> Document:
    """Queue a failed or hand-entered document to be read again. A no-op in other states."""
    assert_applicant_can_edit(document.application)
    with transaction.atomic():
        application_lock_for_edit(application=document.application_id)
        document = Document.objects.select_for_update().get(pk=document.pk)
        if document.status not in (Document.Status.FAILED, Document.Status.NEEDS_MANUAL_ENTRY):
            return document
        _reset_for_reading(document)
        document.save()
        application_documents_changed(application=document.application)
        transaction.on_commit(lambda: _enqueue(document.pk))
    return document


def document_set_type(*, document: Document, document_type: DocumentType, actor) -> Document:
    """The applicant says what kind of document this is; it is read again as that type.

    Only for documents not yet read as a type (unknown, failed or waiting for manual entry),
    so that values a person already checked are never thrown away by a change of type.
    """
    assert_applicant_can_edit(document.application)
    with transaction.atomic():
        application_lock_for_edit(application=document.application_id)
        document = Document.objects.select_for_update().get(pk=document.pk)
        if document.fields.exists():
            raise UploadRejected(
                "type_fixed",
                "This document was already read as a "
                f"{document.document_type.label.lower() if document.document_type else 'type'}; "
                "upload it again to read it as another type.",
            )
        _document_event(
            Action.DOCUMENT_RETYPED,
            document,
            actor,
            previous_type=document.document_type.key if document.document_type else "",
            document_type=document_type.key,
        )
        document.document_type = document_type
        if document.status in (Document.Status.FAILED, Document.Status.NEEDS_MANUAL_ENTRY):
            _reset_for_reading(document)
            transaction.on_commit(lambda: _enqueue(document.pk))
        document.save()
        application_documents_changed(application=document.application)
    return document


def document_replace(*, document: Document, uploaded_file, actor) -> Document:
    """Put a new file in place of one that could not be read.

    The old original stays in storage and is listed in the document's metadata, so nothing
    the applicant sent is lost.
    """
    assert_applicant_can_edit(document.application)
    if document.status != Document.Status.FAILED:
        raise UploadRejected(
            "not_replaceable", "Only a document that could not be read can be replaced."
        )
    data, inspected, original_name = _inspect(uploaded_file)
    document = Document.objects.get(pk=document.pk)
    replaced = [
        *document.metadata.get("replaced", []),
        {"file": document.original.name, "name": document.original_name, "sha256": document.sha256},
    ]
    with _storing(document, data, inspected, original_name):
        application_lock_for_edit(application=document.application_id)
        _refuse_duplicate(
            application_id=document.application_id,
            sha256=inspected.sha256,
            name=original_name,
            replacing=document,
        )
        document.metadata = {**inspected.metadata, "replaced": replaced}
        _reset_for_reading(document)
        document.save()
        _document_event(Action.DOCUMENT_REPLACED, document, actor, replaced=replaced[-1])
        application_documents_changed(application=document.application)
        transaction.on_commit(lambda: _enqueue(document.pk))
    return document


__all__ = [
    "UploadRejected",
    "document_replace",
    "document_retry",
    "document_set_type",
    "document_upload",
]


def document_split(*, document: Document, pages, parts) -> list[Document]:
    """Make one Document per part of a file that holds several, and queue each for reading.

    The original stays as uploaded: every part points at the same stored file (and sha256) with
    its page range, and takes copies of its Page rows (sharing the stored page images), so no
    page is rendered or read by OCR twice. Idempotent: parts made before are returned as they are.
    """
    existing = list(document.parts.all())
    if existing:
        return existing
    types = {t.key: t for t in DocumentType.objects.filter(is_active=True)}
    created = []
    with transaction.atomic():
        for part in parts:
            first, last = part.first_page, part.last_page
            child = Document.objects.create(
                application=document.application,
                uploaded_by=document.uploaded_by,
                document_type=types.get(part.type_key) if part.type_key else None,
                original=document.original.name,
                original_name=f"{document.original_name} (pages {first}\u2013{last})"
                if first != last
                else f"{document.original_name} (page {first})",
                media_type=document.media_type,
                size=document.size,
                sha256=document.sha256,
                page_count=last - first + 1,
                metadata={"split_from": document.pk},
                split_from=document,
                page_start=first,
                page_end=last,
                # Its pages are copied below: nothing is rendered again.
                ingested_at=timezone.now(),
            )
            for page in pages[first - 1 : last]:
                copy = Page(
                    document=child,
                    number=page.number - first + 1,
                    width=page.width,
                    height=page.height,
                    text=page.text,
                    words=page.words,
                    text_source=page.text_source,
                )
                copy.image.name = page.image.name
                copy.save()
            created.append(child)
            transaction.on_commit(lambda pk=child.pk: _enqueue(pk))
        application_documents_changed(application=document.application)
    return created
