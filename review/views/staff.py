"""The reviewer's screens: the queue, and one application with its flags, values and decision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from applications.models import Application
from applications.selectors import application_get_for_user
from core.states import InvalidTransition
from extraction.models import Field, FieldRevision
from rules.models import RULE_ERROR_PREFIX, Flag, Severity
from rules.services import flag_reopen, flag_waive, flags_waive

from ..forms import AssignForm, QueueFilterForm
from ..models import Decision
from ..selectors import (
    SEVERITIES,
    document_costs,
    field_get_for_user,
    flag_get_for_staff,
    open_flag_counts,
    review_queue,
    review_queue_page,
    review_queue_parts,
)
from ..services import (
    CONFIRM_SEVERITIES,
    StaleVersion,
    application_assign,
    application_claim,
    application_decide,
    application_release,
    application_reopen,
    field_correct,
)
from ..versions import application_version
from .display import (
    breakable_email,
    decorate_field,
    decorate_rows,
    error_text,
    masked,
    moment,
    page_range,
    row_columns,
    rows_summary,
    rows_value,
)

QUEUE_PER_PAGE = 25
SEVERITY_ICONS = {
    Severity.INFO: "ℹ",
    Severity.LOW: "●",
    Severity.MEDIUM: "▲",
    Severity.HIGH: "⚠",
    Severity.CRITICAL: "⛔",
}


def _posted_flag(request, name: str, application):
    """The flag whose id the form posted under ``name``; 404 unless the user may see it and it
    belongs to ``application`` (a forged id of another application's flag)."""
    flag = flag_get_for_staff(user=request.user, flag_id=_int(request.POST[name]))
    if flag.application_id != application.pk:
        raise Http404("No such flag.")
    return flag


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@login_required
@permission_required("applications.review_application", raise_exception=True)
@require_GET
def review_queue_view(request):
    """Submitted applications, highest risk first; filters by status and assignee. Pages by
    cursor (``after`` / ``before``: see ``review_queue_page``), so a page costs the same at any
    depth and in any size of queue; the count shown stops at "more than 1,000"."""
    form = QueueFilterForm(request.GET or None)
    filters = {}
    if form.is_bound:
        # A filter that is not one of the choices is left out; the others still apply.
        form.is_valid()
        filters = {name: value for name, value in form.cleaned_data.items() if value}
    queue = review_queue(user=request.user, **filters)
    page = review_queue_page(
        queue,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=QUEUE_PER_PAGE,
        parts=review_queue_parts(user=request.user, **filters),
    )
    labels = dict(Severity.choices)
    open_flag_counts(page.rows)
    for application in page.rows:
        if application.submitted_at:
            application.submitted = moment(application.submitted_at)
            application.waiting = timesince(application.submitted_at)
        application.flag_counts = [
            {
                "severity": level,
                "icon": SEVERITY_ICONS[level],
                "label": labels[level].lower(),
                "count": getattr(application, f"open_{level}"),
            }
            for level in SEVERITIES
            if getattr(application, f"open_{level}")
        ]
    querystring = request.GET.copy()
    for key in ("after", "before", "page"):
        querystring.pop(key, None)
    return render(
        request,
        "review/queue.html",
        {
            "form": form,
            "page": page,
            "paged": bool(request.GET.get("after") or request.GET.get("before")),
            "querystring": querystring.urlencode(),
            "search": filters.get("q", ""),
            "nav": "queue",
        },
    )


# Open flags first, the most severe first, then in the order of their documents and fields.
SEVERITY_RANK = {level: rank for rank, level in enumerate(SEVERITIES)}


def _flag_order(flag) -> tuple:
    return (
        flag.status != Flag.Status.OPEN,
        SEVERITY_RANK.get(flag.severity, len(SEVERITY_RANK)),
        flag.document_id or 0,
        flag.field.position if flag.field_id else -1,
        flag.pk,
    )


def _describe_applicant_check(field, history) -> None:
    """What the applicant did with a value: changed it, only confirmed it, or nothing yet.

    Only a change is shown as the applicant's value, so the one real change stands out.
    ``applicant_action`` is "changed", "confirmed" or "" and ``applicant_value`` the (masked)
    value they gave when they changed it. ``changed`` says the current value is not the
    machine's reading, by whoever changed it.
    """
    applicant_revisions = [r for r in history if r.role == Role.APPLICANT]
    latest = applicant_revisions[-1] if applicant_revisions else None
    field.applicant_value = None
    field.applicant_action = ""
    if latest is not None:
        if latest.value != field.machine_value:
            field.applicant_action = "changed"
            field.applicant_value = masked(field, latest.value)
        else:
            field.applicant_action = "confirmed"
    field.changed = field.value != field.machine_value


def _review_context(request, application, *, field_errors, typed, flag_errors) -> dict:
    """Everything the review page shows, in a fixed number of queries."""
    # Admins also see what reading each document cost.
    is_admin = request.user.has_perm("applications.audit_history")
    revisions = FieldRevision.objects.select_related("actor").order_by("number")
    fields = Field.objects.select_related("page").prefetch_related(
        Prefetch("revisions", queryset=revisions)
    )
    documents = list(
        application.documents.select_related("document_type", "split_from").prefetch_related(
            "pages", Prefetch("fields", queryset=fields)
        )
    )
    # A rule that failed to run is the admins' to fix (on the rule's page), not a finding
    # about the applicant, so the reviewer does not see it here.
    flags = sorted(
        application.flags.exclude(rule_key__startswith=RULE_ERROR_PREFIX).select_related(
            "field", "document", "resolved_by"
        ),
        key=_flag_order,
    )
    for flag in flags:
        flag.icon = SEVERITY_ICONS.get(flag.severity, "●")
        flag.error = flag_errors.get(flag.pk, "")
    for document in documents:
        document.field_list = list(document.fields.all())
        document.page_list = list(document.pages.all())
        for field in document.field_list:
            history = list(field.revisions.all())
            _describe_applicant_check(field, history)
            field.latest_revision = history[-1] if history else None
            if field.latest_revision and field.latest_revision.actor:
                field.latest_revision.actor_email = breakable_email(
                    field.latest_revision.actor.email
                )
            field.error = field_errors.get(field.pk, "")
            field.typed = typed.get(field.pk)
            decorate_field(field, show_real_value=False)
            decorate_rows(field, document.document_type)
            if field.is_rows and field.typed is not None:
                field.rows_text = field.typed
            if field.is_rows and field.applicant_action == "changed":
                field.applicant_value = rows_summary(field.applicant_value or "")
        document.disagreeing = sum(1 for field in document.field_list if field.disagrees)
        document.part_list = [d for d in documents if d.split_from_id == document.pk]
        document.page_range = page_range(document)
        for page in document.page_list:
            page.boxes = []
            page.row_boxes = []
            for field in document.field_list:
                if field.page_id == page.pk and field.box_style:
                    page.boxes.append(field)
                for row in getattr(field, "row_list", []):
                    if row["page"] == page.number and row["box_style"]:
                        page.row_boxes.append((field, row))
    costs, total_cost = document_costs(application=application) if is_admin else ({}, None)
    for document in documents:
        document.cost = costs.get(document.pk) if is_admin else None
    decisions = list(application.decisions.select_related("reviewer"))
    someone_else = (
        application.assigned_to_id is not None and application.assigned_to_id != request.user.pk
    )
    reviewable = application.status in Application.REVIEWABLE
    open_flags = [flag for flag in flags if flag.status == Flag.Status.OPEN]
    return {
        # Every write form carries the version of what this page shows; a decision from a
        # page that no longer matches the application is refused (review.versions).
        "version": application_version(application=application),
        "holds_claim": reviewable and application.assigned_to_id == request.user.pk,
        "can_reopen": is_admin and application.status in Application.DECIDED,
        "can_take_over": is_admin and someone_else and reviewable,
        "application": application,
        "documents": documents,
        "flags": flags,
        "open_flags": open_flags,
        "serious_open": [f for f in open_flags if f.severity in CONFIRM_SEVERITIES],
        "decisions": decisions,
        "someone_else": someone_else and reviewable,
        "can_claim": reviewable and application.assigned_to_id is None,
        "can_decide": reviewable and not someone_else,
        "can_edit": reviewable and not someone_else,
        "assign_form": AssignForm(initial={"assignee": application.assigned_to_id})
        if is_admin and reviewable
        else None,
        "decision_kinds": Decision.Kind,
        "show_cost": is_admin,
        "total_cost": total_cost,
        "nav": "queue",
    }


def _int_list(values) -> list[int]:
    return [number for number in (_int(value) for value in values) if number]


@login_required
@permission_required("applications.review_application", raise_exception=True)
@require_http_methods(["GET", "POST"])
def review_application(request, application_id: int):
    """One application for a reviewer: claim, flags, values, evidence and the decision.

    A write from a stale page never ends in an error page: the service refuses it with a plain
    message (who holds the claim, what changed, the application's status now) and this page
    shows the application as it is now.
    """
    application = application_get_for_user(user=request.user, application_id=application_id)
    try:
        return _review_application(request, application)
    except InvalidTransition:
        # A move the status machine refused: the page was older than the application.
        current = application_get_for_user(user=request.user, application_id=application_id)
        status = current.get_status_display().lower()
        messages.error(
            request, f"That could not be done: this application is now {status}. Nothing changed."
        )
        return redirect("review_application", application_id=application_id)


def _review_application(request, application):
    application_id = application.pk
    field_errors: dict[int, str] = {}
    typed: dict[int, str] = {}
    flag_errors: dict[int, str] = {}
    decide_error = ""
    bulk_error = bulk_note = ""
    bulk_chosen: set[int] = set()
    changes: list[str] = []
    note = ""
    if request.method == "POST":
        if "release" in request.POST:
            try:
                application_release(application=application, reviewer=request.user)
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, error_text(error))
            else:
                messages.success(request, f"{application.reference} is back in the queue.")
            return redirect("review_application", application_id=application.pk)
        if "reopen_application" in request.POST:
            try:
                application_reopen(
                    application=application,
                    actor=request.user,
                    reason=request.POST.get("reason", ""),
                )
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, error_text(error))
            else:
                messages.success(request, f"{application.reference} is open for review again.")
            return redirect("review_application", application_id=application.pk)
        if "reopen_flag" in request.POST:
            flag = _posted_flag(request, "reopen_flag", application)
            try:
                flag_reopen(flag=flag, actor=request.user, note=request.POST.get("note", ""))
            except (ValidationError, PermissionDenied) as error:
                flag_errors[flag.pk] = error_text(error)
            else:
                messages.success(request, f"Flag “{flag.title}” is open again.")
                return redirect("review_application", application_id=application.pk)
        if "claim" in request.POST or "take_over" in request.POST:
            try:
                application_claim(
                    application=application,
                    reviewer=request.user,
                    take_over="take_over" in request.POST,
                )
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, error_text(error))
            else:
                messages.success(request, f"{application.reference} is assigned to you.")
            return redirect("review_application", application_id=application.pk)
        if "assign" in request.POST:
            form = AssignForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Choose a reviewer from the list.")
                return redirect("review_application", application_id=application.pk)
            assignee = form.cleaned_data["assignee"]
            try:
                application_assign(application=application, assignee=assignee, actor=request.user)
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, error_text(error))
            else:
                messages.success(
                    request, f"{application.reference} is assigned to {assignee or 'nobody'}."
                )
            return redirect("review_application", application_id=application.pk)
        if "waive_selected" in request.POST:
            try:
                waived = flags_waive(
                    application=application,
                    flag_ids=_int_list(request.POST.getlist("flag")),
                    actor=request.user,
                    note=request.POST.get("note", ""),
                )
            except PermissionDenied as error:
                # Someone else's claim, or a decided application: the form is not on the page
                # as it is now, so the message goes on top of it.
                messages.error(request, error_text(error))
                return redirect("review_application", application_id=application.pk)
            except ValidationError as error:
                bulk_error = error_text(error)
                bulk_note = request.POST.get("note", "")
                bulk_chosen = set(_int_list(request.POST.getlist("flag")))
            else:
                messages.success(
                    request, f"{len(waived)} flag{'' if len(waived) == 1 else 's'} waived."
                )
                return redirect("review_application", application_id=application.pk)
        elif "waive" in request.POST:
            flag = _posted_flag(request, "waive", application)
            try:
                flag_waive(flag=flag, actor=request.user, note=request.POST.get("note", ""))
            except (ValidationError, PermissionDenied) as error:
                flag_errors[flag.pk] = error_text(error)
            else:
                messages.success(request, f"Flag “{flag.title}” waived.")
                return redirect("review_application", application_id=application.pk)
        elif "correct" in request.POST:
            field = field_get_for_user(user=request.user, field_id=_int(request.POST["correct"]))
            if field.document.application_id != application.pk:
                raise Http404("No such field.")
            value = request.POST.get("value", "")
            line_errors = []
            if "rows_text" in request.POST:
                # A rows field is corrected as text, one row a line, stored as JSON.
                value = request.POST["rows_text"]
                columns = row_columns(field, field.document.document_type)
                rows_json, line_errors = rows_value(value, field, columns)
            try:
                if line_errors:
                    raise ValidationError(line_errors)
                field_correct(
                    field=field,
                    value=rows_json if "rows_text" in request.POST else value,
                    actor=request.user,
                    reason=request.POST.get("reason", ""),
                )
            except (ValidationError, PermissionDenied) as error:
                field_errors[field.pk] = (
                    "\n".join(error.messages)
                    if isinstance(error, ValidationError)
                    else error_text(error)
                )
                typed[field.pk] = value
            else:
                messages.success(request, f"{field.label}: corrected.")
                return redirect(
                    f"{request.path}#field-{field.pk}",
                )
        elif "decide" in request.POST:
            note = request.POST.get("note", "")
            try:
                decision = application_decide(
                    application=application,
                    reviewer=request.user,
                    kind=request.POST["decide"],
                    version=request.POST.get("version", ""),
                    note=note,
                    confirm_open_flags=bool(request.POST.get("confirm_open_flags")),
                    reopen_fields=_int_list(request.POST.getlist("reopen_field")),
                    allow_uploads=bool(request.POST.get("allow_uploads")),
                )
            except StaleVersion as error:
                decide_error = (
                    "This application changed since you opened it, so nothing was decided. "
                    "Look at what changed, then decide again."
                )
                changes = error.changes
            except PermissionDenied as error:
                # Someone else's claim, or a decision already made: the form is gone from the
                # page as it is now, so the message goes on top of it.
                messages.error(request, error_text(error))
                return redirect("review_application", application_id=application.pk)
            except ValidationError as error:
                decide_error = error_text(error)
            else:
                messages.success(
                    request, f"{application.reference}: {decision.get_kind_display().lower()}."
                )
                return redirect("review_queue")
        application = application_get_for_user(user=request.user, application_id=application_id)
    context = _review_context(
        request, application, field_errors=field_errors, typed=typed, flag_errors=flag_errors
    )
    context.update(
        {
            "decide_error": decide_error,
            "changes": changes,
            "note": note,
            "bulk_error": bulk_error,
            "bulk_note": bulk_note,
            "bulk_chosen": bulk_chosen,
        }
    )
    return render(request, "review/application.html", context)
