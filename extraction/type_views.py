"""Admin screens for document types: list, create, edit (a new version), versions and their
differences, YAML export and import, and a preview of a definition on a sample file.

Every screen needs ``applications.audit_history`` (the admin role), like the rules screens.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .models import DocumentType, DocumentTypeVersion
from .type_definition import DefinitionError
from .type_forms import (
    FieldForm,
    FieldFormSet,
    ImportForm,
    KeywordFormSet,
    TypeForm,
    definition_errors_place,
)
from .type_services import (
    YAML_MAX_BYTES,
    TypeChangeRefused,
    document_type_import,
    document_type_preview,
    document_type_save,
    document_type_yaml,
    documents_per_version,
    llm_provider_name,
    version_diff,
)

admin_required = permission_required("applications.audit_history", raise_exception=True)


def _with_document_counts(types):
    """Each type with the number of documents read as it that are still part of their
    application (a removed document is kept, but not counted)."""
    return types.annotate(
        document_count=Count("documents", filter=Q(documents__removed_at__isnull=True))
    )


@login_required
@admin_required
@require_GET
def type_list_view(request):
    types = _with_document_counts(DocumentType.objects.all()).order_by("label")
    page = Paginator(types, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "types/list.html",
        {"page_obj": page, "rows": page.object_list, "nav": "types", "import_form": ImportForm()},
    )


@login_required
@admin_required
def type_create_view(request):
    return _editor(request, document_type=None)


@login_required
@admin_required
def type_edit_view(request, type_key: str):
    return _editor(request, document_type=get_object_or_404(DocumentType, key=type_key))


def _initial(document_type) -> tuple[dict, list[dict], list[dict]]:
    if document_type is None:
        return {"is_active": False}, [], []
    type_initial = {
        "key": document_type.key,
        "label": document_type.label,
        "description": document_type.description,
        "date_order": document_type.date_order,
        "currency": document_type.currency,
        "languages": ", ".join(document_type.languages or []),
        "provider": document_type.provider,
        "is_active": document_type.is_active,
        "based_on": document_type.version,
    }
    fields = [FieldForm.initial_of(spec) for spec in document_type.fields or []]
    keywords = [
        {"phrase": item.get("phrase", ""), "weight": item.get("weight", 1)}
        for item in document_type.keywords or []
        if isinstance(item, dict)
    ]
    return type_initial, fields, keywords


def _editor(request, *, document_type):
    editing = document_type is not None
    type_initial, field_initial, keyword_initial = _initial(document_type)
    context = {"document_type": document_type, "editing": editing, "nav": "types"}
    if request.method != "POST":
        type_form = TypeForm(initial=type_initial, editing=editing)
        fields = FieldFormSet(initial=field_initial, prefix="fields")
        keywords = KeywordFormSet(initial=keyword_initial, prefix="keywords")
        return _render(request, context, type_form, fields, keywords)

    data = request.POST.copy()
    if editing:
        data["key"] = document_type.key
    # One more empty row of either kind, without saving.
    for prefix in ("fields", "keywords"):
        if f"add_{prefix}" in request.POST:
            total = data.get(f"{prefix}-TOTAL_FORMS", "0")
            # A tampered count is left for the formset to refuse plainly.
            if total.isdigit() and len(total) < 4:
                data[f"{prefix}-TOTAL_FORMS"] = str(min(int(total) + 1, 200))
    type_form = TypeForm(data, initial=type_initial, editing=editing)
    fields = FieldFormSet(data, prefix="fields")
    keywords = KeywordFormSet(data, prefix="keywords")
    if "add_fields" in request.POST or "add_keywords" in request.POST:
        return _render(request, context, type_form, fields, keywords)

    valid = type_form.is_valid() & fields.is_valid() & keywords.is_valid()
    if not valid:
        messages.error(request, "Nothing was saved: correct the boxes marked below.")
        return _render(request, context, type_form, fields, keywords, status=400)
    field_rows, field_items = _rows(fields)
    keyword_rows, keyword_items = _rows(keywords)
    if any(form.errors for form in field_rows):  # YAML that does not parse
        messages.error(request, "Nothing was saved: correct the boxes marked below.")
        return _render(request, context, type_form, fields, keywords, status=400)
    definition = {**type_form.definition_part(), "fields": field_items}
    if keyword_items:
        definition["keywords"] = keyword_items
    cleaned = type_form.cleaned_data

    if "preview" in request.POST:
        return _preview(
            request, context, type_form, fields, keywords, definition, field_rows, keyword_rows
        )
    try:
        saved, version = document_type_save(
            actor=request.user,
            data=definition,
            is_active=cleaned["is_active"],
            provider=cleaned["provider"],
            note=cleaned["note"],
            based_on=cleaned["based_on"] if editing else None,
            create=not editing,
        )
    except DefinitionError as error:
        definition_errors_place(
            error, type_form=type_form, field_rows=field_rows, keyword_rows=keyword_rows
        )
        messages.error(request, "Nothing was saved: correct the boxes marked below.")
        return _render(request, context, type_form, fields, keywords, status=400)
    except TypeChangeRefused as refusal:
        messages.error(request, refusal.message)
        return _render(request, context, type_form, fields, keywords, status=409)
    if version is not None:
        messages.success(request, f"Saved as version {version.number}.")
    else:
        messages.success(request, "Saved; the definition did not change, so no new version.")
    return redirect("type_edit", type_key=saved.key)


def _rows(formset) -> tuple[list, list[dict]]:
    rows, items = [], []
    for form in formset.forms:
        item = form.item()
        if item is not None:
            rows.append(form)
            items.append(item)
    return rows, items


def _preview(request, context, type_form, fields, keywords, definition, field_rows, keyword_rows):
    sample = request.FILES.get("sample")
    if sample is None:
        messages.error(request, "Choose a sample file to preview the definition on.")
        return _render(request, context, type_form, fields, keywords, status=400)
    try:
        preview = document_type_preview(
            data=definition,
            file_bytes=sample.read(),
            filename=sample.name,
            provider=type_form.cleaned_data["provider"],
        )
    except DefinitionError as error:
        definition_errors_place(
            error, type_form=type_form, field_rows=field_rows, keyword_rows=keyword_rows
        )
        messages.error(request, "The definition has errors, marked below; nothing was read.")
        return _render(request, context, type_form, fields, keywords, status=400)
    context["preview"] = preview
    context["sample_name"] = sample.name
    return _render(request, context, type_form, fields, keywords)


def _render(request, context, type_form, fields, keywords, status=200):
    document_type = context["document_type"]
    if document_type is not None:
        read = documents_per_version(document_type)
        versions = list(document_type.versions.select_related("author")[:50])
        for version in versions:
            version.documents_read = read.get(version.number, 0)
        context["versions"] = versions
        context["documents"] = document_type.documents.count()
    context.update(
        type_form=type_form,
        fields=fields,
        keywords=keywords,
        llm_provider=llm_provider_name(document_type.provider if document_type is not None else ""),
    )
    return render(request, "types/edit.html", context, status=status)


@login_required
@admin_required
@require_GET
def type_version_view(request, type_key: str, number: int):
    version = get_object_or_404(
        DocumentTypeVersion.objects.select_related("document_type", "author"),
        document_type__key=type_key,
        number=number,
    )
    return render(
        request,
        "types/version.html",
        {
            "version": version,
            "document_type": version.document_type,
            "diff": version_diff(version),
            "nav": "types",
        },
    )


@login_required
@admin_required
@require_GET
def type_export_view(request, type_key: str):
    document_type = get_object_or_404(DocumentType, key=type_key)
    response = HttpResponse(
        document_type_yaml(document_type), content_type="application/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{document_type.key}.yaml"'
    return response


@login_required
@admin_required
@require_POST
def type_import_view(request):
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a YAML file to import.")
        return redirect("type_list")
    try:
        saved, version = document_type_import(
            actor=request.user,
            # One byte past the limit is enough to refuse it: a big upload is never read whole.
            text=form.cleaned_data["file"].read(YAML_MAX_BYTES + 1),
            note=form.cleaned_data["note"],
        )
    except DefinitionError as error:
        return render(
            request,
            "types/list.html",
            {
                "page_obj": None,
                "rows": _with_document_counts(DocumentType.objects.all()).order_by("label")[:50],
                "nav": "types",
                "import_form": form,
                "import_errors": error.messages,
            },
            status=400,
        )
    except TypeChangeRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("type_list")
    if version is None:
        messages.success(request, f"{saved.label}: the file matches version {saved.version}.")
    else:
        messages.success(request, f"{saved.label} imported as version {version.number}.")
    return redirect("type_edit", type_key=saved.key)
