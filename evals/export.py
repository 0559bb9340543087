"""Approved applications as a labelled corpus in the evaluate format.

Each read document of an approved application becomes ``<application>-<document>-<type>.<ext>``
(its original file; for a part of a split file, only that part's pages) and an
``.expected.json`` beside it holding the verified values in canonical form. A sensitive field's
value (an SSN, an account number) is left out of ``fields`` and listed under ``masked`` with
its masked form, unless ``unmask`` is set: ``evaluate`` then skips it rather than scoring
against a mask. The original file still shows those values, so the folder stays as private
as the uploads.
"""

from __future__ import annotations

import io
import json
import mimetypes
from pathlib import Path
from typing import Any

from applications.models import Application
from extraction.models import Document
from extraction.normalize import mask
from extraction.schemas import FieldSpec, rows_loads

from .runner import EXPECTED_SUFFIX, MEDIA_TYPES
from .scoring import canonical

EXTENSIONS = {media_type: suffix for suffix, media_type in reversed(MEDIA_TYPES.items())}


def _answer(field, spec: FieldSpec) -> Any:
    if spec.is_rows:
        return rows_loads(field.value) or None
    value = canonical(spec, field.value) if spec.kind not in {"text", "name", "address"} else None
    # Text keeps its case in the answer file; scoring ignores case anyway.
    return value if value is not None else (" ".join(field.value.split()) or None)


def _original(document: Document) -> bytes:
    with document.original.open("rb") as handle:
        data = handle.read()
    if document.split_from_id and document.media_type == "application/pdf" and document.page_start:
        from pypdf import PdfReader, PdfWriter

        reader, writer = PdfReader(io.BytesIO(data)), PdfWriter()
        for number in range(document.page_start, (document.page_end or document.page_start) + 1):
            writer.add_page(reader.pages[number - 1])
        buffer = io.BytesIO()
        writer.write(buffer)
        data = buffer.getvalue()
    return data


def export_corpus(out_dir: Path, *, unmask: bool = False) -> list[Path]:
    """Write every read document of every approved application; returns the documents' paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    documents = (
        Document.objects.filter(
            application__status=Application.Status.APPROVED,
            document_type__isnull=False,
            status__in=(Document.Status.EXTRACTED, Document.Status.NEEDS_MANUAL_ENTRY),
        )
        .select_related("document_type")
        .prefetch_related("fields")
        .order_by("application_id", "pk")
    )
    written = []
    for document in documents.iterator(chunk_size=200):
        specs = {d["key"]: FieldSpec.from_dict(d) for d in document.document_type.fields}
        fields: dict[str, Any] = {}
        masked: dict[str, str] = {}
        for field in document.fields.all():
            spec = specs.get(field.key) or FieldSpec(field.key, field.label, field.kind)
            if (field.sensitive or spec.sensitive) and not unmask:
                masked[field.key] = mask(field.kind, field.value) if field.value else ""
                continue
            fields[field.key] = _answer(field, spec)
        extension = EXTENSIONS.get(document.media_type) or (
            mimetypes.guess_extension(document.media_type) or ".bin"
        )
        name = f"{document.application_id}-{document.pk}-{document.document_type.key}"
        path = out_dir / f"{name}{extension}"
        path.write_bytes(_original(document))
        answer = {
            "document_type": document.document_type.key,
            "fields": fields,
            "masked": masked,
            "labels": ["real_traffic"],
            "source": f"application {document.application_id}, document {document.pk}",
        }
        (out_dir / f"{name}{EXPECTED_SUFFIX}").write_text(json.dumps(answer, indent=2) + "\n")
        written.append(path)
    return written
