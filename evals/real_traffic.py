"""Accuracy on real traffic: how often the machine's value survived to the verified value.

Over approved applications, every field's first reading (``Field.machine_value``) is compared
with its final value in canonical form, per document type, field, and the provider, model and
prompt version of the document's latest successful primary reading. This complements
``review.reports.field_accuracy``, which counts correcting revisions: here a value changed and
changed back counts as surviving, a reformatted one ("$1,234.50" typed over "1234.50") too,
and the prompt version is a dimension, so that a prompt change shows in production figures.

One query streamed in chunks; the comparison runs in Python because canonical forms depend
on the field's kind (and a rows field on its columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from applications.models import Application
from extraction.models import DocumentType, ExtractionRun, Field
from extraction.schemas import FieldSpec

from .scoring import canonical


@dataclass
class SurvivalRow:
    document_type: str
    field_key: str
    provider: str
    model: str
    prompt_version: str
    total: int = 0
    survived: int = 0
    # The machine read nothing and a person entered a value.
    filled_in: int = 0
    # The machine read a value and the verified answer is blank: an invented value.
    removed: int = 0

    @property
    def changed(self) -> int:
        return self.total - self.survived

    @property
    def survival_rate(self) -> float:
        return self.survived / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "document_type": self.document_type,
            "field": self.field_key,
            "provider": self.provider,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "total": self.total,
            "survived": self.survived,
            "changed": self.changed,
            "filled_in": self.filled_in,
            "removed": self.removed,
            "survival_rate": self.survival_rate,
        }


def _primary_run() -> QuerySet[ExtractionRun]:
    return ExtractionRun.objects.filter(
        document=OuterRef("document"),
        outcome=ExtractionRun.Outcome.OK,
        reading=ExtractionRun.Reading.PRIMARY,
    ).order_by("-created_at", "-pk")


def approved_fields(
    *, date_from: date | None = None, date_to: date | None = None, document_type: str = ""
) -> QuerySet[Field]:
    """Fields of approved applications decided in the window (the same window as the admin
    accuracy report)."""
    fields = Field.objects.filter(
        document__application__status=Application.Status.APPROVED,
        # A removed document was never reviewed: its values say nothing of the reading.
        document__removed_at__isnull=True,
    )
    if date_from:
        fields = fields.filter(document__application__decided_at__date__gte=date_from)
    if date_to:
        fields = fields.filter(document__application__decided_at__date__lte=date_to)
    if document_type:
        fields = fields.filter(document__document_type__key=document_type)
    return fields


def _specs() -> dict[tuple[str, str], FieldSpec]:
    """Each type's field specs by (type, field), for the columns of rows fields."""
    specs = {}
    for key, fields in DocumentType.objects.values_list("key", "fields"):
        for data in fields:
            specs[(key, data["key"])] = FieldSpec.from_dict(data)
    return specs


def field_survival(
    *, date_from: date | None = None, date_to: date | None = None, document_type: str = ""
) -> list[SurvivalRow]:
    """Per document type, field, provider, model and prompt version: how many machine values
    survived to the verified value. Least surviving first. Two queries."""
    run = _primary_run()
    fields = (
        approved_fields(date_from=date_from, date_to=date_to, document_type=document_type)
        .annotate(
            provider=Subquery(run.values("provider")[:1]),
            model=Subquery(run.values("model")[:1]),
            prompt_version=Subquery(run.values("prompt_version")[:1]),
        )
        .values_list(
            "document__document_type__key",
            "key",
            "kind",
            "machine_value",
            "value",
            "provider",
            "model",
            "prompt_version",
        )
        .order_by()
    )
    specs = _specs()
    rows: dict[tuple[str, ...], SurvivalRow] = {}
    for type_key, key, kind, machine, final, provider, model, prompt in fields.iterator(
        chunk_size=2000
    ):
        group = (type_key or "", key, provider or "unknown", model or "", prompt or "")
        row = rows.get(group)
        if row is None:
            row = rows[group] = SurvivalRow(*group)
        spec = specs.get((type_key or "", key)) or FieldSpec(key=key, label=key, kind=kind)
        before, after = canonical(spec, machine), canonical(spec, final)
        row.total += 1
        if before == after:
            row.survived += 1
        elif before is None:
            row.filled_in += 1
        elif after is None:
            row.removed += 1
    return sorted(
        rows.values(),
        key=lambda r: (r.survival_rate, -r.total, r.document_type, r.field_key),
    )
