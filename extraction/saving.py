"""Saving what was read: one Field per schema field, grounded on the page, with its history.

Idempotent: saving the same reading twice changes nothing and appends no revision. A value a
person already confirmed or corrected is kept; only the machine's own reading is refreshed, so
re-reading a document never overwrites a human decision.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from accounts.models import Role

from .agreement import compare
from .grounding import PageWords, locate, locate_rows
from .history import RevisionAction, revisions_append
from .models import Document, Field, Page
from .normalize import NormalizationError, normalize, normalize_rows
from .schemas import DocumentTypeSpec, FieldSpec, rows_loads


def fields_save(
    *,
    document: Document,
    spec: DocumentTypeSpec,
    values: dict[str, str | None],
    pages: list[Page],
    second_values: dict[str, str | None] | None = None,
    page_words: PageWords | None = None,
) -> None:
    """Create or refresh the document's fields from one reading (call inside a transaction).

    ``second_values``: an independent second reading, recorded beside each field as agreement
    evidence; None when there was none. ``page_words``: ``pages``' words already indexed
    (the pipeline builds it while its last provider calls are in flight).
    """
    # Indexed once: every value and row of the document is grounded through it.
    if page_words is None:
        page_words = PageWords([(page.number, page.words) for page in pages])
    pages_by_number = {page.number: page for page in pages}
    existing = {field.key: field for field in document.fields.all()}
    reference = _latest_date(spec, values)
    appends: list[tuple[Field, str, str]] = []
    for position, field_spec in enumerate(spec.fields):
        # Stored, compared and shown in NFC: "Zoe\u0308" and "Zo\u00eb" are one name.
        value = unicodedata.normalize("NFC", values.get(field_spec.key) or "")
        normalized = _normalized(field_spec, value, reference)
        if field_spec.is_rows:
            location, row_evidence = _ground_rows(field_spec, value, page_words)
        else:
            location = (
                locate(
                    value=value,
                    kind=field_spec.kind,
                    pages=page_words,
                    date_order=spec.date_order,
                    unsigned=field_spec.sign == "magnitude",
                )
                if value
                else None
            )
            row_evidence = []
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
        field.row_evidence = row_evidence
        if second_values is None:
            field.agreement, field.second_value = "", ""
        else:
            second = second_values.get(field_spec.key) or ""
            field.second_value = second
            field.agreement = compare(
                kind=field_spec.kind,
                first=normalized or value,
                second=_normalized(field_spec, second, reference) or second,
            )
        field.save()
        if is_new or previous_machine_value != value:
            action = RevisionAction.EXTRACTED if untouched else RevisionAction.REREAD
            appends.append((field, value, action))
    # One revision and one event for each field whose machine reading is new, as ever; appended
    # together once the fields are saved.
    revisions_append(appends=appends, actor=None, role=Role.MACHINE)


def _normalized(field_spec: FieldSpec, value: str, reference: date | None) -> str:
    if not value:
        return ""
    try:
        if field_spec.is_rows:
            columns = [(c.key, c.kind) for c in field_spec.columns]
            return normalize_rows(columns=columns, value=value, reference=reference)
        return normalize(field_spec.kind, value)
    except NormalizationError:
        return ""


def _latest_date(spec: DocumentTypeSpec, values: dict[str, str | None]) -> date | None:
    """The document's latest date (a statement's end), which dates its year-less rows."""
    found = []
    for field_spec in spec.fields:
        value = values.get(field_spec.key)
        if field_spec.kind == "date" and value:
            try:
                found.append(date.fromisoformat(normalize("date", value)))
            except (NormalizationError, ValueError):
                continue
    return max(found) if found else None


def _ground_rows(field_spec: FieldSpec, value: str, page_words):
    """The rows' evidence, and the field's: grounded only when every row is on the page."""
    rows = rows_loads(value)
    if not rows:
        return None, []
    columns = [(c.key, c.kind) for c in field_spec.columns]
    locations = locate_rows(rows=rows, columns=columns, pages=page_words)
    evidence = [
        {"page": loc.page, "box": loc.box, "grounded": True}
        if loc
        else {"page": None, "box": [], "grounded": False}
        for loc in locations
    ]
    if all(locations):
        return locations[0], evidence
    return None, evidence


__all__ = ["fields_save"]
