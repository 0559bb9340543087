"""The admin's audit: every event of the trail, filtered, as a page or as CSV; one value's
timeline; and the full verification of the history as a background job."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import OuterRef, Subquery
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from applications.models import Application
from audit.models import Action, AuditEvent
from audit.selectors import audit_event_list, audit_event_page
from core.exports import csv_rows
from core.jobs import job_start
from core.models import Job
from extraction.models import Field, FieldRevision

from ..forms import HistoryFilterForm
from ..tasks import VERIFY_JOB_KIND, verify_history_task
from .display import breakable_email, masked, moment

AUDIT = "applications.audit_history"
HISTORY_PER_PAGE = 50
ACTION_LABELS = dict(Action.choices)
ROLE_LABELS = dict(Role.choices)

CSV_HEADER = [
    "sequence",
    "when",
    "action",
    "event",
    "application",
    "actor",
    "role",
    "field_key",
    "field",
    "revision",
    "from",
    "to",
    "reason",
    "note",
    "details",
    "mac",
]
# Keys of an event's data shown in their own columns (or not at all), not under "details".
SHOWN_KEYS = {"field", "key", "revision", "revision_hash", "reason", "note"}


def _history_filters(form) -> dict:
    if not form.is_bound:
        return {}
    form.is_valid()
    # Valid filters apply even when another one (say, a bad date) is shown as an error.
    return {name: value for name, value in form.cleaned_data.items() if value}


def _events(filters: dict):
    """The filtered events; an unknown application reference matches nothing."""
    reference = filters.pop("application_reference", "")
    if reference:
        # References are made in capitals (new_reference) and the form puts the typed one in
        # capitals: an exact match reads the unique index, where iexact (UPPER(reference))
        # read all 300,000 applications (190 ms).
        found = Application.objects.filter(reference=reference).values_list("pk", flat=True)
        filters["application_id"] = found.first() or -1
    return audit_event_list(**filters)


def _describe(events: list[AuditEvent]) -> None:
    """Give each event what the screen and the CSV show, in three queries for the lot: the
    field revision it records (with the value before it, masked when sensitive), its
    application's reference and the extra details of its data."""
    previous = FieldRevision.objects.filter(
        field=OuterRef("field"), number=OuterRef("number") - 1
    ).values("value")[:1]
    revisions = {
        revision.audit_sequence: revision
        for revision in FieldRevision.objects.filter(
            audit_sequence__in=[e.sequence for e in events if e.action.startswith("field.")]
        )
        .select_related("field")
        .annotate(previous_value=Subquery(previous))
    }
    applications = {
        pk: (reference, submitted)
        for pk, reference, submitted in Application.objects.filter(
            pk__in={e.application_id for e in events if e.application_id}
        ).values_list("pk", "reference", "submitted_at")
    }
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        revision = revisions.get(event.sequence)
        field: Field | None = revision.field if revision else None
        event.field = field
        event.revision = revision
        event.display_from = event.display_to = None
        if revision is not None:
            before = revision.previous_value
            event.display_from = masked(field, before) if before is not None else None
            event.display_to = masked(field, revision.value)
        event.reason = data.get("reason", "")
        event.note = data.get("note", "")
        event.details = "; ".join(
            f"{key}: {value}" for key, value in sorted(data.items()) if key not in SHOWN_KEYS
        )
        event.action_label = ACTION_LABELS.get(event.action, event.action)
        event.role_label = ROLE_LABELS.get(event.role, event.role)
        reference, submitted = applications.get(event.application_id, ("", None))
        event.application_reference = reference
        event.application_submitted = submitted is not None
        event.actor_email = breakable_email(event.actor.email) if event.actor else ""


def _batches(events: Iterable[AuditEvent], size: int) -> Iterator[list[AuditEvent]]:
    batch: list[AuditEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@login_required
@permission_required(AUDIT, raise_exception=True)
@require_GET
def revision_history_export(request):
    """The filtered events as CSV, streamed in batches: the same filters and masking as the
    screen, every cell neutralised against formula injection."""
    form = HistoryFilterForm(request.GET or None)
    events = _events(_history_filters(form))

    def cells():
        yield CSV_HEADER
        for batch in _batches(events.iterator(chunk_size=1000), 1000):
            _describe(batch)
            for event in batch:
                field, revision = event.field, event.revision
                yield (
                    [
                        event.sequence,
                        event.created_at.isoformat(),
                        event.action,
                        event.action_label,
                        event.application_reference,
                        event.actor.email if event.actor else "",
                        event.role,
                        field.key if field else event.data.get("key", ""),
                        field.label if field else "",
                        revision.number if revision else "",
                        event.display_from or "",
                        event.display_to if event.display_to is not None else "",
                        event.reason,
                        event.note,
                        event.details,
                        event.mac,
                    ]
                )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_rows(cells()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attest-history-{stamp}.csv"'
    return response


@login_required
@permission_required(AUDIT, raise_exception=True)
@require_GET
def field_timeline(request, field_id: int):
    """One value's whole story: the machine's reading, the applicant's and reviewers' changes,
    with reasons. Whether the history is intact is the full verification's to say."""
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
            "nav": "history",
        },
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@permission_required(AUDIT, raise_exception=True)
@require_GET
def revision_history_view(request):
    """Every event of the trail, newest first, filtered, a page at a time (keyset pagination:
    as fast on the last page of a million events as on the first)."""
    form = HistoryFilterForm(request.GET or None)
    page = audit_event_page(
        _events(_history_filters(form)),
        before=_int(request.GET.get("before")),
        after=_int(request.GET.get("after")),
        size=HISTORY_PER_PAGE,
    )
    _describe(page.rows)
    for event in page.rows:
        event.when = moment(event.created_at)
    querystring = request.GET.copy()
    for key in ("before", "after"):
        querystring.pop(key, None)
    return render(
        request,
        "history/list.html",
        {
            "form": form,
            "page": page,
            "rows": page.rows,
            "querystring": querystring.urlencode(),
            "verify_job": Job.objects.filter(kind=VERIFY_JOB_KIND, started_by=request.user)
            .order_by("-created_at")
            .first(),
            "nav": "history",
        },
    )


@login_required
@permission_required(AUDIT, raise_exception=True)
@require_POST
def history_verify_start(request):
    """Start the full verification (``manage.py verify_history``) as a background job; the
    history page shows its progress and outcome."""
    job_start(
        kind=VERIFY_JOB_KIND,
        label="Verifying the whole history",
        started_by=request.user,
        enqueue=verify_history_task.delay,
    )
    return redirect("revision_history")
