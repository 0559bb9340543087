"""The admin's audit of every change of every value."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.exports import csv_rows
from extraction.history import verify_chain
from extraction.models import Field, FieldRevision

from ..forms import HistoryFilterForm
from ..selectors import revision_history
from .display import breakable_email, masked

CSV_HEADER = [
    "when",
    "application",
    "document",
    "document_type",
    "field_key",
    "field",
    "revision",
    "role",
    "actor",
    "action",
    "from",
    "to",
    "reason",
    "hash",
]


def _history_filters(form) -> dict:
    if not form.is_bound:
        return {}
    form.is_valid()
    # Valid filters apply even when another one (say, a bad date) is shown as an error.
    return {name: value for name, value in form.cleaned_data.items() if value}


@login_required
@permission_required("review.audit_history", raise_exception=True)
@require_GET
def revision_history_export(request):
    """The filtered history as CSV, streamed: the same filters and masking as the screen."""
    form = HistoryFilterForm(request.GET or None)
    previous = FieldRevision.objects.filter(
        field=OuterRef("field"), number=OuterRef("number") - 1
    ).values("value")[:1]
    revisions = revision_history(**_history_filters(form)).annotate(
        previous_value=Subquery(previous)
    )

    def rows():
        yield CSV_HEADER
        for revision in revisions.iterator(chunk_size=2000):
            field = revision.field
            document = field.document
            before = revision.previous_value
            yield (
                [
                    revision.created_at.isoformat(),
                    document.application.reference,
                    document.original_name,
                    document.document_type.key if document.document_type else "",
                    field.key,
                    field.label,
                    revision.number,
                    revision.role,
                    revision.actor.email if revision.actor else "",
                    revision.action,
                    masked(field, before) if before is not None else "",
                    masked(field, revision.value),
                    revision.reason,
                    revision.hash,
                ]
            )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_rows(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attest-history-{stamp}.csv"'
    return response


@login_required
@permission_required("review.audit_history", raise_exception=True)
@require_GET
def field_timeline(request, field_id: int):
    """One value's whole story: the machine's reading, the applicant's and reviewers' changes,
    with reasons, and whether its hash chain holds."""
    field = (
        Field.objects.filter(pk=field_id)
        .select_related("document__application", "document__document_type")
        .first()
    )
    if field is None:
        raise Http404("No such field.")
    revisions = list(field.revisions.select_related("actor").order_by("number"))
    before = None
    for revision in revisions:
        revision.display_from = masked(field, before) if before is not None else None
        revision.display_to = masked(field, revision.value)
        before = revision.value
    return render(
        request,
        "history/timeline.html",
        {
            "field": field,
            "document": field.document,
            "application": field.document.application,
            "revisions": revisions,
            "chain_ok": verify_chain(revisions),
            "nav": "history",
        },
    )


HISTORY_PER_PAGE = 50


@login_required
@permission_required("review.audit_history", raise_exception=True)
@require_GET
def revision_history_view(request):
    """Revisions newest first, with the value each replaced and whether its chain holds."""
    form = HistoryFilterForm(request.GET or None)
    filters = _history_filters(form)
    page_obj = Paginator(revision_history(**filters), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = list(page_obj.object_list)

    # One query for the whole chains of the fields on this page: it gives each revision's
    # previous value and lets the hash chain be verified.
    chains: dict[int, list[FieldRevision]] = defaultdict(list)
    field_ids = {revision.field_id for revision in rows}
    for revision in FieldRevision.objects.filter(field_id__in=field_ids).order_by(
        "field_id", "number"
    ):
        chains[revision.field_id].append(revision)
    verified = {field_id: verify_chain(chain) for field_id, chain in chains.items()}
    previous = {
        (revision.field_id, revision.number): revision.value
        for chain in chains.values()
        for revision in chain
    }
    for revision in rows:
        field = revision.field
        before = previous.get((revision.field_id, revision.number - 1))
        revision.display_from = masked(field, before) if before is not None else None
        revision.display_to = masked(field, revision.value)
        revision.chain_ok = verified.get(revision.field_id, False)
        revision.actor_email = breakable_email(revision.actor.email) if revision.actor else ""

    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(
        request,
        "history/list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "rows": rows,
            "all_verified": all(verified.values()),
            "broken_fields": sum(1 for ok in verified.values() if not ok),
            "field_count": len(verified),
            "querystring": querystring.urlencode(),
            "nav": "history",
        },
    )
