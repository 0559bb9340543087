"""Reads about extraction for the screens: documents and pages on a user's behalf (404 alike
for "absent" and "not yours"), and what reading a document or an application cost (not
permission-checked: callers pass objects they already fetched on the user's behalf).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from applications.selectors import applications_visible_to

from .models import Document, ExtractionRun, Page


def document_get_for_user(*, user, document_id: int) -> Document:
    document = (
        Document.objects.filter(pk=document_id, application__in=applications_visible_to(user))
        .select_related("application", "document_type")
        .first()
    )
    if document is None:
        raise Http404("No such document.")
    return document


def page_get_for_user(*, user, document_id: int, number: int) -> Page:
    page = Page.objects.filter(
        document_id=document_id,
        number=number,
        document__application__in=applications_visible_to(user),
    ).first()
    if page is None:
        raise Http404("No such page.")
    return page


@dataclass(frozen=True)
class Cost:
    """Money in US dollars; ``calls`` counts provider calls, cached readings excluded."""

    cost: Decimal
    tokens_in: int
    tokens_out: int
    calls: int
    cached: int
    latency_ms: int


def _cost(runs: QuerySet[ExtractionRun]) -> Cost:
    paid = Q(cached_from__isnull=True) & ~Q(outcome=ExtractionRun.Outcome.CAPPED)
    totals = runs.aggregate(
        cost=Sum("cost"),
        tokens_in=Sum("tokens_in"),
        tokens_out=Sum("tokens_out"),
        latency_ms=Sum("latency_ms"),
        calls=Count("id", filter=paid),
        cached=Count("id", filter=Q(cached_from__isnull=False)),
    )
    return Cost(
        cost=totals["cost"] or Decimal("0"),
        tokens_in=totals["tokens_in"] or 0,
        tokens_out=totals["tokens_out"] or 0,
        calls=totals["calls"] or 0,
        cached=totals["cached"] or 0,
        latency_ms=totals["latency_ms"] or 0,
    )


def document_cost(*, document) -> Cost:
    """Every reading of one document, retries and second readings included. One query."""
    return _cost(ExtractionRun.objects.filter(document=document))


def application_cost(*, application) -> Cost:
    """Every reading of every document of one application. One query."""
    return _cost(ExtractionRun.objects.filter(document__application=application))
