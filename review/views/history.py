"""The admin's audit of every change of every value."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from extraction.history import verify_chain
from extraction.models import FieldRevision

from ..forms import HistoryFilterForm
from ..selectors import revision_history
from .display import breakable_email, masked

HISTORY_PER_PAGE = 50


@login_required
@permission_required("review.audit_history", raise_exception=True)
@require_GET
def revision_history_view(request):
    """Revisions newest first, with the value each replaced and whether its chain holds."""
    form = HistoryFilterForm(request.GET or None)
    filters = {}
    if form.is_bound:
        form.is_valid()
        # Valid filters apply even when another one (say, a bad date) is shown as an error.
        filters = {name: value for name, value in form.cleaned_data.items() if value}
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
