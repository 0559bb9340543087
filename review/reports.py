"""Aggregate reads for admins: how often people corrected the machine, throughput and cost.

Each report is a fixed number of queries whatever the amount of data; the database groups and
counts, Python only shapes the (small) result for the chart.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Role
from applications.models import Application
from extraction.models import Document, ExtractionRun, Field, FieldRevision

# Revisions that changed a value rather than confirming it.
CHANGING_ACTIONS = ("corrected", "entered", "absent")
STAFF_ROLES = (Role.REVIEWER, Role.ADMIN)


def default_window(days: int = 30) -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=days - 1), today


@dataclass
class AccuracyRow:
    document_type: str
    document_type_label: str
    field_key: str
    field_label: str
    provider: str
    model: str
    total: int
    by_applicant: int
    by_reviewer: int
    prompt_version: str = ""

    @property
    def corrected(self) -> int:
        return self.by_applicant + self.by_reviewer

    def rate(self, count: int) -> float:
        return count / self.total if self.total else 0.0

    @property
    def corrected_rate(self) -> float:
        return self.rate(self.corrected)

    @property
    def applicant_rate(self) -> float:
        return self.rate(self.by_applicant)

    @property
    def reviewer_rate(self) -> float:
        return self.rate(self.by_reviewer)


def _latest_ok_run() -> QuerySet[ExtractionRun]:
    return ExtractionRun.objects.filter(
        document=OuterRef("document"), outcome=ExtractionRun.Outcome.OK
    ).order_by("-created_at", "-pk")


def field_accuracy(
    *, date_from: date | None = None, date_to: date | None = None, document_type: str = ""
) -> list[AccuracyRow]:
    """Per document type, field, provider, model and prompt version (of the document's latest
    successful reading): over approved applications decided in the window, how many values
    there were and how many were corrected.

    A value counts as corrected only when its approved value differs from the machine's,
    whoever changed it; an edit that ended back at the machine's value is no correction. It
    counts for the reviewer when the last person to change it was staff (the reviewer had the
    last word), else for the applicant. Most corrected first. One query."""
    changed = FieldRevision.objects.filter(field=OuterRef("pk"), action__in=CHANGING_ACTIONS)
    last_changer = changed.order_by("-number").values("role")[:1]
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
    # The approved (final) value against the machine's reading.
    differs = ~Q(value=F("machine_value"))
    run = _latest_ok_run()
    rows = (
        fields.annotate(
            provider=Subquery(run.values("provider")[:1]),
            model=Subquery(run.values("model")[:1]),
            prompt_version=Subquery(run.values("prompt_version")[:1]),
            changer=Subquery(last_changer),
        )
        .values(
            "document__document_type__key",
            "document__document_type__label",
            "key",
            "provider",
            "model",
            "prompt_version",
        )
        .annotate(
            label=Max("label"),
            total=Count("pk"),
            staff=Count("pk", filter=differs & Q(changer__in=STAFF_ROLES)),
            applicant_only=Count(
                "pk", filter=differs & (Q(changer__isnull=True) | ~Q(changer__in=STAFF_ROLES))
            ),
        )
        .order_by("document__document_type__key", "key", "provider", "model", "prompt_version")
    )
    result = [
        AccuracyRow(
            document_type=row["document__document_type__key"] or "",
            document_type_label=row["document__document_type__label"] or "Unknown type",
            field_key=row["key"],
            field_label=row["label"],
            provider=row["provider"] or "unknown",
            model=row["model"] or "",
            prompt_version=row["prompt_version"] or "",
            total=row["total"],
            by_applicant=row["applicant_only"],
            by_reviewer=row["staff"],
        )
        for row in rows
    ]
    result.sort(key=lambda r: (-r.corrected_rate, -r.total, r.document_type, r.field_key))
    return result


@dataclass
class Throughput:
    days: list[dict]  # {"day": date, "documents": int, "cost": Decimal}
    decided: int
    median_hours_to_decision: float | None
    p90_hours_to_decision: float | None
    applications_with_cost: int
    total_cost: Decimal
    cost_per_application: Decimal | None
    median_cost_per_application: Decimal | None


def throughput(*, date_from: date, date_to: date) -> Throughput:
    """Documents uploaded per day and their reading cost; time from the first upload to the
    decision and cost per application, for applications decided in the window. Four queries."""
    documents_per_day = dict(
        Document.objects.filter(created_at__date__gte=date_from, created_at__date__lte=date_to)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    cost_per_day = dict(
        ExtractionRun.objects.filter(created_at__date__gte=date_from, created_at__date__lte=date_to)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(cost=Sum("cost"))
        .values_list("day", "cost")
    )
    days = []
    day = date_from
    while day <= date_to:
        days.append(
            {
                "day": day,
                "documents": documents_per_day.get(day, 0),
                "cost": cost_per_day.get(day) or Decimal(0),
            }
        )
        day += timedelta(days=1)

    decided = Application.objects.filter(
        decided_at__date__gte=date_from, decided_at__date__lte=date_to
    )
    first_uploads = decided.annotate(first_upload=Min("documents__created_at")).values_list(
        "decided_at", "first_upload"
    )
    hours = sorted(
        (decided_at - first).total_seconds() / 3600
        for decided_at, first in first_uploads
        if first is not None
    )
    run_cost = (
        ExtractionRun.objects.filter(document__application=OuterRef("pk"))
        .values("document__application")
        .annotate(total=Sum("cost"))
        .values("total")
    )
    costs = sorted(
        cost
        for cost in decided.annotate(cost=Subquery(run_cost[:1])).values_list("cost", flat=True)
        if cost is not None
    )
    total_cost = sum(costs, Decimal(0))
    return Throughput(
        days=days,
        decided=len(hours),
        median_hours_to_decision=statistics.median(hours) if hours else None,
        p90_hours_to_decision=hours[min(len(hours) - 1, int(len(hours) * 0.9))] if hours else None,
        applications_with_cost=len(costs),
        total_cost=total_cost,
        cost_per_application=(total_cost / len(costs)) if costs else None,
        median_cost_per_application=statistics.median(costs) if costs else None,
    )


def bar_chart(
    items: list[tuple[str, list[tuple[float, str]], str]],
    *,
    width: int = 640,
    label_width: int = 260,
    bar_height: int = 18,
    gap: int = 8,
    scale: float | None = None,
) -> dict:
    """Geometry for a horizontal, stacked SVG bar chart drawn by a template.

    ``items`` are (label, [(value, css class)...], text after the bar). Values share one scale
    (``scale`` or the largest stack), so bars compare across rows.
    """
    largest = scale or max((sum(v for v, _ in parts) for _, parts, _ in items), default=0) or 1
    plot = width - label_width - 150
    rows = []
    for index, (label, parts, note) in enumerate(items):
        y = index * (bar_height + gap)
        x = label_width
        segments = []
        for value, css in parts:
            w = plot * value / largest
            segments.append({"x": round(x, 2), "width": round(w, 2), "css": css})
            x += w
        rows.append(
            {
                "label": label,
                "y": y,
                "text_y": y + bar_height * 0.72,
                "segments": segments,
                "note": note,
                "note_x": round(x + 6, 2),
            }
        )
    return {
        "width": width,
        "height": max(len(items) * (bar_height + gap), bar_height),
        "bar_height": bar_height,
        "label_x": label_width - 8,
        "rows": rows,
    }
