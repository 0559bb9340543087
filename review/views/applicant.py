"""The applicant's screens: applications, uploads, and checking values beside the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from accounts.models import Role
from applications.selectors import application_get_for_user
from applications.services import (
    STATED_FIELDS,
    application_create,
    application_stated_update,
    application_withdraw,
)
from core.states import InvalidTransition
from extraction.models import Document, DocumentType, Field, FieldRevision
from extraction.selectors import document_get_for_user
from extraction.services import (
    UploadRejected,
    document_replace,
    document_retry,
    document_set_type,
    document_upload,
)
from extraction.upload_limits import upload_refusals

from ..forms import ApplicationCreateForm, UploadForm
from ..models import Decision
from ..selectors import application_list_for_owner, field_get_for_user
from ..services import (
    application_submission_problems,
    application_submit,
    document_remove,
    field_confirm,
    field_correct,
    field_mark_absent,
    fields_confirm_remaining,
    fields_marked_absent,
)
from .display import (
    decorate_field,
    decorate_rows,
    error_text,
    page_range,
    row_columns,
    rows_value,
)

APPLICATIONS_PER_PAGE = 20
UPLOAD_ACCEPT = ".pdf,.png,.jpg,.jpeg,.tif,.tiff,.webp,.heic,image/*,application/pdf"


def _pluralize(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@login_required
@require_http_methods(["GET", "POST"])
def application_list(request):
    """My applications, newest first, and the form that starts a new one."""
    form = ApplicationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        application = application_create(owner=request.user, **form.cleaned_data)
        messages.success(
            request, f"Application {application.reference} created. Now upload your documents."
        )
        return redirect("application_detail", application_id=application.pk)
    page_obj = Paginator(application_list_for_owner(user=request.user), APPLICATIONS_PER_PAGE)
    page_obj = page_obj.get_page(request.GET.get("page"))
    return render(
        request,
        "applications/list.html",
        {"form": form, "page_obj": page_obj, "nav": "applications"},
    )


def _document_in(application, request, document_id) -> Document:
    document = document_get_for_user(user=request.user, document_id=_int(document_id))
    if document.application_id != application.pk:
        raise Http404("No such document.")
    return document


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _documents_context(request, application, document_errors=None) -> dict:
    documents = list(
        application.documents.select_related("document_type", "split_from")
        .annotate(
            field_count=Count("fields"),
            to_check=Count("fields", filter=Q(fields__status=Field.Status.PROPOSED)),
        )
        .order_by("created_at", "pk")
    )
    document_errors = document_errors or {}
    for document in documents:
        document.error = document_errors.get(document.pk, "")
        total = document.page_count or 1
        document.reading_page = min(document.pages_done + 1, total)
        # A file split into several documents: its parts are listed as documents of their own.
        document.part_list = [d for d in documents if d.split_from_id == document.pk]
        document.is_split = document.status == Document.Status.SPLIT
        document.page_range = page_range(document)
    is_owner = application.owner_id == request.user.pk
    untyped = any(
        d.document_type_id is None and d.is_finished and not d.is_split for d in documents
    )
    return {
        "document_types": list(DocumentType.objects.filter(is_active=True)) if untyped else [],
        "application": application,
        "documents": documents,
        "reading": any(not document.is_finished for document in documents),
        "is_owner": is_owner,
        "editable": is_owner and application.applicant_can_edit,
        # An open request for changes may leave the document set as submitted.
        "documents_editable": is_owner and application.applicant_can_change_documents,
        "upload_accept": UPLOAD_ACCEPT,
    }


@login_required
@require_http_methods(["GET", "POST"])
def application_detail(request, application_id: int):
    """One application: stated facts, uploads with live status, problems, and submission.

    A form from a page older than the application never ends in an error page: a move the
    status machine refuses becomes a plain message with the status now.
    """
    try:
        return _application_detail(request, application_id)
    except InvalidTransition:
        application = application_get_for_user(user=request.user, application_id=application_id)
        messages.error(
            request,
            f"That could not be done: this application is now "
            f"{application.get_status_display().lower()}. Nothing changed.",
        )
        return redirect("application_detail", application_id=application_id)


def _application_detail(request, application_id: int):
    application = application_get_for_user(user=request.user, application_id=application_id)
    upload_form = UploadForm(request.POST or None)
    upload_errors: list[str] = []
    document_errors: dict[int, str] = {}
    submit_errors: list[str] = []
    stated_form = None
    if request.method == "POST":
        if application.owner_id != request.user.pk:
            raise PermissionDenied("Only the applicant can change this application.")
        if "withdraw" in request.POST:
            try:
                application_withdraw(
                    application=application,
                    actor=request.user,
                    reason=request.POST.get("reason", ""),
                )
            except PermissionDenied as error:
                messages.error(request, error_text(error))
            else:
                messages.success(request, f"Application {application.reference} is withdrawn.")
            return redirect("application_detail", application_id=application.pk)
        if "edit_stated" in request.POST:
            stated_form = ApplicationCreateForm(request.POST, prefix="stated")
            if stated_form.is_valid():
                try:
                    application_stated_update(
                        application=application, actor=request.user, **stated_form.cleaned_data
                    )
                except PermissionDenied as error:
                    messages.error(request, error_text(error))
                else:
                    messages.success(request, "What you told us is saved.")
                return redirect("application_detail", application_id=application.pk)
        elif "upload" in request.POST or upload_refusals(request):
            upload_errors = _upload(request, application, upload_form)
            application = application_get_for_user(user=request.user, application_id=application_id)
            if upload_errors and not application.applicant_can_change_documents:
                # Submitted (or sent back for values only) since the page was opened: the
                # upload form is gone from the page as it is now, so the message goes on top.
                for error in upload_errors:
                    messages.error(request, error)
                if not _wants_json(request):
                    return redirect("application_detail", application_id=application.pk)
            if _wants_json(request):
                # The page's script uploads with progress bars and reloads (or lists errors).
                return JsonResponse({"errors": upload_errors}, status=400 if upload_errors else 200)
            if not upload_errors:
                return redirect("application_detail", application_id=application.pk)
        elif "remove" in request.POST:
            document = Document.all_objects.filter(
                pk=_int(request.POST["remove"]), application=application
            ).first()
            if document is None:
                raise Http404("No such document.")
            try:
                document_remove(
                    document=document, actor=request.user, reason=request.POST.get("reason", "")
                )
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, error_text(error))
            else:
                messages.success(
                    request,
                    f"“{document.original_name}” is removed from this application. "
                    "It is kept in the application's history.",
                )
            return redirect("application_detail", application_id=application.pk)
        elif "retry" in request.POST:
            document = _document_in(application, request, request.POST["retry"])
            try:
                document_retry(document=document, actor=request.user)
            except PermissionDenied as error:
                messages.error(request, error_text(error))
            else:
                messages.success(request, f"“{document.original_name}” will be read again.")
            return redirect("application_detail", application_id=application.pk)
        elif "set_type" in request.POST:
            document = _document_in(application, request, request.POST["set_type"])
            document_type = DocumentType.objects.filter(
                is_active=True, pk=_int(request.POST.get("document_type"))
            ).first()
            if document_type is None:
                document_errors[document.pk] = "Choose the kind of document from the list."
            else:
                try:
                    document_set_type(
                        document=document, document_type=document_type, actor=request.user
                    )
                except UploadRejected as error:
                    document_errors[document.pk] = error.message
                except PermissionDenied as error:
                    document_errors[document.pk] = error_text(error)
                else:
                    messages.success(
                        request, f"“{document.original_name}” will be read as a {document_type}."
                    )
                    return redirect("application_detail", application_id=application.pk)
        elif "replace" in request.POST:
            document = _document_in(application, request, request.POST["replace"])
            uploaded = request.FILES.get("file")
            if uploaded is None:
                document_errors[document.pk] = "Choose the new file first."
            else:
                try:
                    document_replace(document=document, uploaded_file=uploaded, actor=request.user)
                except UploadRejected as error:
                    document_errors[document.pk] = error.message
                except PermissionDenied as error:
                    document_errors[document.pk] = error_text(error)
                else:
                    messages.success(request, f"“{uploaded.name}” uploaded in its place.")
                    return redirect("application_detail", application_id=application.pk)
        elif (
            "submit" in request.POST
            and "confirm_submit" not in request.POST
            and not application.applicant_can_edit
        ):
            messages.info(
                request,
                f"Application {application.reference} was already submitted; it is now "
                f"{application.get_status_display().lower()}. Nothing changed.",
            )
            return redirect("application_detail", application_id=application.pk)
        elif "submit" in request.POST and "confirm_submit" not in request.POST:
            # First a summary of what the applicant changed; submitting needs a second click.
            submit_errors = application_submission_problems(application)
            if not submit_errors:
                return render(
                    request,
                    "applications/submit_confirm.html",
                    {
                        "application": application,
                        "changes": applicant_changes(application),
                        "nav": "applications",
                    },
                )
        elif "submit" in request.POST:
            was_editable = application.applicant_can_edit
            try:
                application = application_submit(
                    application=application,
                    actor=request.user,
                    reply=request.POST.get("reply", ""),
                )
            except ValidationError as error:
                submit_errors = error.messages
            except PermissionDenied as error:
                submit_errors = [error_text(error)]
            else:
                if was_editable:
                    messages.success(
                        request,
                        f"Application {application.reference} submitted. A reviewer will look "
                        "at it; you will see the outcome here.",
                    )
                else:
                    # Back and submit again, or a double click: submitting is idempotent.
                    messages.info(
                        request,
                        f"Application {application.reference} was already submitted; it is "
                        f"now {application.get_status_display().lower()}. Nothing changed.",
                    )
                return redirect("application_detail", application_id=application.pk)
        application = application_get_for_user(user=request.user, application_id=application_id)

    context = _documents_context(request, application, document_errors)
    latest_decision = application.decisions.select_related("reviewer").first()
    change_request = (
        latest_decision
        if latest_decision
        and latest_decision.kind == Decision.Kind.REQUEST_CHANGES
        and application.applicant_can_edit
        else None
    )
    problems = application_submission_problems(application) if context["editable"] else []
    requested_fields = []
    if change_request and application.changes_scope:
        # Exactly what the reviewer reopened, never the flags behind it.
        requested_fields = list(
            Field.objects.filter(
                document__application=application,
                pk__in=application.changes_scope.get("fields", []),
            )
            .select_related("document")
            .order_by("document__created_at", "document_id", "position", "pk")
        )
    can_edit_stated = (
        application.owner_id == request.user.pk
        and application.applicant_can_edit
        and application.submitted_at is None
        and application.changes_scope is None
    )
    if can_edit_stated and stated_form is None:
        stated_form = ApplicationCreateForm(
            prefix="stated",
            initial={name: getattr(application, name) for name in STATED_FIELDS},
        )
    context.update(
        {
            "can_edit_stated": can_edit_stated,
            "stated_form": stated_form,
            "upload_form": upload_form,
            "upload_errors": upload_errors,
            "submit_errors": submit_errors,
            "problems": problems,
            "change_request": change_request,
            "requested_fields": requested_fields,
            "latest_decision": latest_decision,
            "nav": "applications",
        }
    )
    return render(request, "applications/detail.html", context)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def applicant_changes(application) -> list[Field]:
    """The values the applicant changed from the machine's reading (or marked as not on the
    document), each with ``reason``: what the summary before submitting lists."""
    applicant_revisions = FieldRevision.objects.filter(role=Role.APPLICANT).order_by("-number")
    fields = list(
        Field.objects.filter(document__application=application, document__removed_at__isnull=True)
        .exclude(value=F("machine_value"))
        .select_related("document")
        .prefetch_related(Prefetch("revisions", queryset=applicant_revisions))
        .order_by("document__created_at", "document_id", "position", "pk")
    )
    for field in fields:
        latest = next(iter(field.revisions.all()), None)
        field.reason = latest.reason if latest else ""
        field.by_applicant = latest is not None
        field.absent = latest is not None and latest.action == "absent"
    return [field for field in fields if field.by_applicant]


def _upload(request, application, upload_form) -> list[str]:
    """Store each chosen file; a rejected file does not stop the others."""
    files = request.FILES.getlist("files")
    # Files refused while they arrived (too large); the ones before them are stored below.
    refused = upload_refusals(request)
    if not files:
        return refused or ["Choose at least one file to upload."]
    if not upload_form.is_valid():
        return ["Choose a document type from the list, or “Not sure — detect it”."]
    document_type = upload_form.cleaned_data["document_type"]
    errors = list(refused)
    stored = 0
    for uploaded in files:
        try:
            document_upload(
                application=application,
                uploaded_file=uploaded,
                actor=request.user,
                document_type=document_type,
            )
        except UploadRejected as error:
            errors.append(error.message)
        except PermissionDenied as error:
            errors.append(error_text(error))
            break
        else:
            stored += 1
    if stored:
        them = "it" if stored == 1 else "them"
        messages.success(
            request, f"{_pluralize(stored, 'file')} uploaded. We are reading {them} now."
        )
    return errors


@login_required
@require_GET
def application_documents(request, application_id: int):
    """The documents list alone, for htmx to poll while anything is being read.

    The page polls with ``?reading=1``. Once nothing is being read any more, more than the list
    has changed (the application's status, what is left to do before submitting), so htmx is
    told to reload the whole page once instead of swapping the list.
    """
    application = application_get_for_user(user=request.user, application_id=application_id)
    context = _documents_context(request, application)
    if request.htmx and request.GET.get("reading") and not context["reading"]:
        return HttpResponseClientRefresh()
    return render(request, "applications/detail.html#documents", context)


def _page_number(requested: int, pages, fields) -> int:
    numbers = [page.number for page in pages]
    if requested in numbers:
        return requested
    for field in fields:
        if field.page_id and field.status == Field.Status.PROPOSED:
            return next((p.number for p in pages if p.pk == field.page_id), numbers[0])
    return numbers[0] if numbers else 0


def _last_reasons(field_ids) -> dict[int, str]:
    """The reason the applicant gave with their latest change of each field, if they gave one,
    so that a saved reason stays in view beside its value."""
    last: dict[int, str] = {}
    rows = (
        FieldRevision.objects.filter(field_id__in=list(field_ids), role=Role.APPLICANT)
        .order_by("field_id", "number")
        .values_list("field_id", "reason")
    )
    for field_id, reason in rows:
        last[field_id] = reason
    return {field_id: reason for field_id, reason in last.items() if reason}


def _render_document(request, document, *, errors=None, typed=None, page_number=None, reasons=None):
    application = document.application
    is_owner = application.owner_id == request.user.pk
    editable = is_owner and application.applicant_can_edit
    document.page_range = page_range(document)
    pages = list(document.pages.all())
    fields = list(document.fields.select_related("page"))
    errors = errors or {}
    typed = typed or {}
    # Any value may be "not on this document", required or not.
    empty = [f.pk for f in fields if not f.value]
    absent = fields_marked_absent(empty) if empty else set()
    last_reasons = _last_reasons(f.pk for f in fields) if is_owner else {}
    reasons = reasons or {}
    for field in fields:
        field.last_reason = last_reasons.get(field.pk, "")
        field.typed_reason = reasons.get(field.pk, "")
        field.error = errors.get(field.pk, "")
        field.typed = typed.get(field.pk)
        field.absent = field.pk in absent
        field.editable = is_owner and application.applicant_can_change_field(field.pk)
        decorate_field(field, show_real_value=is_owner)
        decorate_rows(field, document.document_type)
        if field.is_rows and field.typed is not None:
            field.rows_text = field.typed
    # A value whose two readings differ is the first to check.
    fields.sort(key=lambda f: not (f.disagrees and f.status == Field.Status.PROPOSED))
    if page_number is None:
        page_number = _int(request.GET.get("page"))
    number = _page_number(page_number, pages, fields)
    page = next((p for p in pages if p.number == number), None)
    boxes = [
        field
        for field in fields
        if page is not None and field.page_id == page.pk and field.box_style
    ]
    row_boxes = [
        (field, row)
        for field in fields
        if field.is_rows and page is not None
        for row in field.row_list
        if row["page"] == page.number and row["box_style"]
    ]
    to_check = sum(1 for field in fields if field.status == Field.Status.PROPOSED)
    disagreeing = sum(1 for field in fields if field.disagrees)
    context = {
        "application": application,
        "document": document,
        "pages": pages,
        "page": page,
        "boxes": boxes,
        "row_boxes": row_boxes,
        "disagreeing": disagreeing,
        "current_page_number": page.number if page else 0,
        "fields": fields,
        "to_check": to_check,
        "is_owner": is_owner,
        "editable": editable,
        "nav": "applications",
    }
    return render(request, "documents/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def document_detail(request, document_id: int):
    """Check values: the page on the left, its fields on the right."""
    document = document_get_for_user(user=request.user, document_id=document_id)
    if request.method == "POST":
        if document.application.owner_id != request.user.pk:
            raise PermissionDenied("Only the applicant can confirm these values.")
        if "confirm_all" in request.POST:
            try:
                count = fields_confirm_remaining(document=document, actor=request.user)
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, error_text(error))
            else:
                messages.success(request, f"{_pluralize(count, 'value')} confirmed.")
        return redirect("document_detail", document_id=document.pk)
    return _render_document(request, document)


@login_required
@require_http_methods(["GET", "POST"])
def field_update(request, field_id: int):
    """Confirm or correct one value. htmx gets the field's row back; a plain form, the page."""
    field = field_get_for_user(user=request.user, field_id=field_id)
    document = field.document
    page_number = _int(request.POST.get("page") or request.GET.get("page"))
    query = f"?page={page_number}" if page_number else ""
    anchor = f"{reverse('document_detail', args=[document.pk])}{query}#field-{field.pk}"
    if request.method == "GET":
        return redirect(anchor)
    application = document.application
    if application.owner_id != request.user.pk:
        raise PermissionDenied("Only the applicant can change values here.")
    value = request.POST.get("value")
    reason = request.POST.get("reason", "")
    error = ""
    typed = value
    if "rows_text" in request.POST and "confirm" not in request.POST:
        # A rows field is corrected as text, one row a line; converted to the JSON it stores.
        typed = request.POST["rows_text"]
        value, line_errors = rows_value(typed, field, row_columns(field, document.document_type))
        if line_errors:
            error = "\n".join(line_errors)
    try:
        if error:
            pass
        elif "absent" in request.POST:
            field = field_mark_absent(field=field, actor=request.user, reason=reason)
        elif (
            "confirm" in request.POST
            and (value is None or value.strip() == field.value)
            and not reason.strip()
        ):
            field = field_confirm(field=field, actor=request.user)
        else:
            # A typed reason is kept even when the value stays: field_correct records it.
            field = field_correct(
                field=field,
                value=field.value if value is None else value,
                actor=request.user,
                reason=reason,
            )
    except (ValidationError, PermissionDenied) as exc:
        error = error_text(exc)

    if request.htmx:
        field = field_get_for_user(user=request.user, field_id=field_id)
        field.error = error
        field.typed = typed if error else None
        field.absent = bool(fields_marked_absent([field.pk])) if not field.value else False
        field.last_reason = _last_reasons([field.pk]).get(field.pk, "")
        field.typed_reason = reason if error else ""
        application = field.document.application
        field.editable = application.applicant_can_change_field(field.pk)
        decorate_field(field, show_real_value=True)
        decorate_rows(field, document.document_type)
        if field.is_rows and field.typed is not None:
            field.rows_text = field.typed
        context = {
            "field": field,
            "document": document,
            "application": application,
            "is_owner": True,
            "editable": application.applicant_can_edit,
            "current_page_number": page_number,
        }
        return render(request, "documents/detail.html#field_row", context)
    if error:
        return _render_document(
            request,
            document,
            errors={field.pk: error},
            typed={field.pk: typed},
            page_number=page_number,
            reasons={field.pk: reason},
        )
    messages.success(request, f"{field.label}: saved.")
    return redirect(anchor)
