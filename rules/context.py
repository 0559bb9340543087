"""What a rule sees: an application's stated values, its documents and their typed fields.

The variables, as CEL sees them (every date is a timestamp at midnight UTC, every amount a
double; a value that is missing or cannot be read as its kind is ``null``):

- ``today``, ``now``: timestamps.
- ``application``: ``id``, ``reference``, ``status``, ``submitted`` (bool) and ``stated``
  (``name``, ``employer``, ``monthly_income``).
- ``documents``: every document, as below; ``docs``: the same grouped by type key, with an
  (empty) list for every known type, so ``docs.w2`` never fails for want of a W-2.
- ``doc`` (document and field scopes): ``id``, ``type``, ``name``, ``sha256``, ``media_type``,
  ``status``, ``page_count``, ``pdf`` (``producer``, ``creator``, ``created``, ``modified``),
  ``text`` (all pages), ``hidden_text`` (text in the file that its pages do not show: off the
  page, too small or squashed; never part of ``text``), ``text_sources``,
  ``same_file_elsewhere`` (references of other applicants' applications holding the same
  file), ``deposits`` (the positive amounts of a
  ``transactions`` rows field; empty when the document has none), ``values`` (key -> typed
  current value), ``fields`` (key -> field) and ``field_list``.
- ``field`` (field scope): ``id``, ``key``, ``label``, ``kind``, ``required``, ``sensitive``,
  ``grounded``, ``status``, ``value`` and ``machine`` (typed), ``text`` and ``machine_text``
  (as written), ``changed``, ``changed_by`` (role) and ``changed_by_email``, ``change`` (for
  amounts and numbers the relative change from the machine's reading, else 1.0 when changed)
  and ``delta`` (current minus machine, for amounts and numbers).

Lists are capped (documents per application, fields per document, characters of text) so
that the work of any expression stays bounded; see ``rules.expressions``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import Role
from applications.models import Application
from extraction.models import Document, DocumentType, Field, FieldRevision, Page
from extraction.normalize import NormalizationError, normalize

MAX_DOCUMENTS = 50
MAX_FIELDS = 100
MAX_TEXT = 200_000
MAX_ROWS = 500


@dataclass
class DocumentContext:
    document_id: int
    type_key: str
    variables: dict
    fields: list[tuple[int, str, dict]] = field(default_factory=list)  # (field id, key, vars)


@dataclass
class ApplicationContext:
    application_id: int
    reference: str
    variables: dict
    documents: list[DocumentContext]


def _midnight(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)


def typed(kind: str, text: str):
    """The value as a rule compares it: amounts as doubles, dates as timestamps, whole numbers
    as ints, anything else as its normalized text; null when empty or unreadable."""
    if not text:
        return None
    if kind == "rows":
        return _rows(text)
    try:
        canonical = normalize(kind, text)
    except NormalizationError:
        return None
    if kind == "money":
        try:
            return float(Decimal(canonical))
        except InvalidOperation:
            return None
    if kind == "date":
        return _midnight(canonical)
    if kind == "integer":
        return int(canonical)
    return canonical


# Columns of a "rows" field (bank transactions) read by name; anything else stays text.
_ROW_COLUMN_KINDS = {"amount": "money", "date": "date", "balance": "money"}


def _rows(text: str) -> list[dict] | None:
    """A "rows" field's JSON text as a list of maps with typed columns; null if unreadable."""
    try:
        rows = json.loads(text)
    except ValueError:
        return None
    if not isinstance(rows, list):
        return None
    return [
        {
            str(key): typed(_ROW_COLUMN_KINDS.get(str(key), "text"), str(value or ""))
            for key, value in row.items()
        }
        for row in rows[:MAX_ROWS]
        if isinstance(row, dict)
    ]


def _deposits(values: dict) -> list[float]:
    """Credits among the statement's transactions (positive amounts), for deposit rules."""
    rows = values.get("transactions") or []
    return [
        row["amount"] for row in rows if isinstance(row.get("amount"), float) and row["amount"] > 0
    ]


_PDF_DATE = re.compile(
    r"D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+\-])(\d{2})?'?(\d{2})?'?)?"
)


def pdf_date(text: str | None) -> datetime | None:
    """A PDF date ("D:20260105093000-05'00'") as an aware datetime; None if unreadable."""
    match = _PDF_DATE.match((text or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second, sign, tz_hours, tz_minutes = match.groups()
    try:
        value = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if sign in ("+", "-"):
        from datetime import timedelta

        offset = timedelta(hours=int(tz_hours or 0), minutes=int(tz_minutes or 0))
        value = value - offset if sign == "+" else value + offset
    return value


def _field_variables(f: Field, human: tuple[str, str] | None) -> dict:
    value = typed(f.kind, f.value)
    # Typed once when the value is still the machine's (a statement's rows take milliseconds);
    # the rows are copied, so that the two stay apart as two readings would.
    if f.machine_value == f.value:
        machine = [dict(row) for row in value] if isinstance(value, list) else value
    else:
        machine = typed(f.kind, f.machine_value)
    changed = f.value != f.machine_value
    delta = None
    change = 1.0 if changed else 0.0
    if isinstance(value, int | float) and isinstance(machine, int | float):
        delta = float(value - machine)
        # From zero any change is a whole change; there is no percentage of nothing.
        change = abs(delta) / abs(float(machine)) if machine else float(value != machine)
    return {
        "id": f.pk,
        "key": f.key,
        "label": f.label,
        "kind": f.kind,
        "required": f.required,
        "sensitive": f.sensitive,
        "grounded": f.grounded,
        "status": f.status,
        "value": value,
        "machine": machine,
        "text": f.value,
        "machine_text": f.machine_value,
        "changed": changed,
        "changed_by": (human[0] if human and changed else ""),
        "changed_by_email": (human[1] if human and changed else ""),
        "change": change,
        "delta": delta,
    }


def _document_context(
    document: Document, human: dict[int, tuple[str, str]], elsewhere: list[str], *, text: bool
) -> DocumentContext:
    type_key = document.document_type.key if document.document_type_id else ""
    pages = list(document.pages.all())
    text = "\n".join(page.text for page in pages)[:MAX_TEXT] if text else ""
    fields = list(document.fields.all())[:MAX_FIELDS]
    field_vars = [(f.pk, f.key, _field_variables(f, human.get(f.pk))) for f in fields]
    metadata = document.metadata or {}
    hidden = metadata.get("reading_notes", {}).get("hidden_text", []) if text else []
    variables = {
        "id": document.pk,
        "type": type_key,
        "name": document.original_name,
        "sha256": document.sha256,
        "media_type": document.media_type,
        "status": document.status,
        "page_count": document.page_count,
        "pdf": {
            "producer": str(metadata.get("producer", "")),
            "creator": str(metadata.get("creator", "")),
            "created": pdf_date(metadata.get("creationdate")),
            "modified": pdf_date(metadata.get("moddate")),
        },
        "text": text,
        "hidden_text": " ".join(str(item.get("text", "")) for item in hidden)[:MAX_TEXT],
        "text_sources": sorted({page.text_source for page in pages}),
        "same_file_elsewhere": elsewhere,
        "deposits": _deposits({key: variables["value"] for _, key, variables in field_vars}),
        "values": {key: variables["value"] for _, key, variables in field_vars},
        "fields": {key: variables for _, key, variables in field_vars},
        "field_list": [variables for _, _, variables in field_vars],
    }
    return DocumentContext(document.pk, type_key, variables, field_vars)


def _prefetched(applications: Iterable, *, text: bool) -> list:
    ids = [application.pk for application in applications]
    page_columns = ["id", "document_id", "number", "text_source"] + (["text"] if text else [])
    return list(
        Application.objects.filter(pk__in=ids)
        .order_by("-created_at", "-pk")
        .prefetch_related(
            Prefetch(
                "documents",
                queryset=Document.objects.select_related("document_type").order_by(
                    "created_at", "pk"
                ),
            ),
            "documents__fields",
            Prefetch("documents__pages", queryset=Page.objects.only(*page_columns)),
        )
    )


def _human_revisions(application_ids: list[int]) -> dict[int, tuple[str, str]]:
    """The latest person (role, email) to write each field's value, for fields people touched."""
    rows = (
        FieldRevision.objects.filter(field__document__application_id__in=application_ids)
        .exclude(role=Role.MACHINE)
        .order_by("field_id", "number")
        .values_list("field_id", "role", "actor__email")
    )
    return {field_id: (role, email or "") for field_id, role, email in rows}


def _same_file_elsewhere(applications: list) -> dict[tuple[int, str], list[str]]:
    """For each (application, sha256): references of other owners' applications with that file."""
    hashes = {d.sha256 for a in applications for d in a.documents.all() if d.sha256}
    holders: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for sha256, owner_id, reference in Document.objects.filter(sha256__in=hashes).values_list(
        "sha256", "application__owner_id", "application__reference"
    ):
        holders[sha256].add((owner_id, reference))
    result = {}
    for application in applications:
        for document in application.documents.all():
            result[(application.pk, document.sha256)] = sorted(
                reference
                for owner_id, reference in holders.get(document.sha256, ())
                if owner_id != application.owner_id
            )
    return result


def _type_keys() -> list[str]:
    return list(DocumentType.objects.values_list("key", flat=True))


def contexts_build(
    applications: Iterable, *, text: bool = True, people: bool = True, files: bool = True
) -> list[ApplicationContext]:
    """The rule contexts of several applications, in a fixed number of queries.

    ``text``, ``people`` and ``files`` may be turned off when no rule reads page text, who
    changed a value, or other applications' files (a back-test of one rule); the variables
    then stay present but empty.
    """
    applications = _prefetched(applications, text=text)
    ids = [application.pk for application in applications]
    human = _human_revisions(ids) if people else {}
    elsewhere = _same_file_elsewhere(applications) if files else {}
    type_keys = _type_keys()
    now = timezone.now()
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    built = []
    for application in applications:
        documents = [
            _document_context(d, human, elsewhere.get((application.pk, d.sha256), []), text=text)
            for d in list(application.documents.all())[:MAX_DOCUMENTS]
        ]
        docs: dict[str, list[dict]] = {key: [] for key in type_keys}
        for document in documents:
            if document.type_key:
                docs.setdefault(document.type_key, []).append(document.variables)
        income = application.stated_monthly_income
        variables = {
            "today": today,
            "now": now,
            "application": {
                "id": application.pk,
                "reference": application.reference,
                "status": application.status,
                "submitted": application.submitted_at is not None,
                "stated": {
                    "name": application.stated_name,
                    "employer": application.stated_employer,
                    "monthly_income": float(income) if income is not None else None,
                },
            },
            "documents": [document.variables for document in documents],
            "docs": docs,
        }
        built.append(
            ApplicationContext(application.pk, application.reference, variables, documents)
        )
    return built


def context_build(application, **needs: bool) -> ApplicationContext:
    """One application's context; ``needs`` as for ``contexts_build``."""
    return contexts_build([application], **needs)[0]


def sample_variables(scope: str) -> dict:
    """Plausible variables for checking an expression before any real application exists:
    every field of the scope's document type (a pay stub when the scope names none) holds a
    value of its kind."""
    from datetime import timedelta

    now = timezone.now()
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    samples = {
        "money": 1000.0,
        "date": today - timedelta(days=7),
        "integer": now.year,
    }
    types = {t.key: t for t in DocumentType.objects.all()}
    chosen = types.get(scope) or types.get("pay_stub") or next(iter(types.values()), None)
    fields = []
    for spec in chosen.fields if chosen else []:
        value = samples.get(spec.get("kind", "text"), "Sample")
        fields.append(
            {
                "id": 0,
                "key": spec["key"],
                "label": spec["label"],
                "kind": spec.get("kind", "text"),
                "required": spec.get("required", False),
                "sensitive": spec.get("sensitive", False),
                "grounded": True,
                "status": "confirmed",
                "value": value,
                "machine": value,
                "text": str(value),
                "machine_text": str(value),
                "changed": False,
                "changed_by": "",
                "changed_by_email": "",
                "change": 0.0,
                "delta": 0.0 if isinstance(value, float) else None,
            }
        )
    doc = {
        "id": 0,
        "type": chosen.key if chosen else "",
        "name": "sample.pdf",
        "sha256": "0" * 64,
        "media_type": "application/pdf",
        "status": "extracted",
        "page_count": 1,
        "pdf": {"producer": "", "creator": "", "created": today, "modified": today},
        "text": "Sample text",
        "hidden_text": "",
        "text_sources": ["text_layer"],
        "same_file_elsewhere": [],
        "deposits": [100.0],
        "values": {f["key"]: f["value"] for f in fields},
        "fields": {f["key"]: f for f in fields},
        "field_list": fields,
    }
    docs = {key: [] for key in types}
    if chosen:
        docs[chosen.key] = [doc]
    return {
        "today": today,
        "now": now,
        "application": {
            "id": 0,
            "reference": "A-SAMPLE00",
            "status": "submitted",
            "submitted": True,
            "stated": {"name": "Sample Person", "employer": "Sample Co", "monthly_income": 5000.0},
        },
        "documents": [doc],
        "docs": docs,
        "doc": doc,
        "field": fields[0] if fields else {},
    }
