"""The type's labelled samples and its accuracy check (admins only, like the type editor)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from extraction.models import DocumentType

from .accuracy import (
    SampleRefused,
    readers,
    scored_fields,
    shown_answers,
    type_accuracy_jobs,
    type_accuracy_start,
    type_sample_add,
    type_sample_remove,
)

admin_required = permission_required("applications.audit_history", raise_exception=True)


def sample_form_class(document_type: DocumentType) -> type[forms.Form]:
    """A file and one box per field for the value the sample shows."""
    attributes: dict = {"file": forms.FileField(label="Sample file (PDF or image)")}
    for spec in scored_fields(document_type):
        attributes[f"expected_{spec['key']}"] = forms.CharField(
            required=False,
            max_length=500,
            label=spec.get("label", spec["key"]),
            help_text=f"{spec.get('kind', 'text')}; blank when the document shows none",
        )
    return type("SampleForm", (forms.Form,), attributes)


@login_required
@admin_required
def type_accuracy_view(request, type_key: str):
    document_type = get_object_or_404(DocumentType, key=type_key)
    form_class = sample_form_class(document_type)
    form = form_class()
    status = 200
    if request.method == "POST":
        if "remove" in request.POST:
            try:
                sample_id = int(request.POST["remove"])
            except ValueError:
                sample_id = 0
            if type_sample_remove(
                actor=request.user, document_type=document_type, sample_id=sample_id
            ):
                messages.success(request, "Sample removed.")
            return redirect("type_accuracy", type_key=type_key)
        if "measure" in request.POST:
            try:
                type_accuracy_start(actor=request.user, document_type=document_type)
                messages.success(request, "The check has started; its progress shows below.")
            except SampleRefused as refusal:
                messages.error(request, refusal.message)
            return redirect("type_accuracy", type_key=type_key)
        form = form_class(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            expected = {
                name.removeprefix("expected_"): value or None
                for name, value in form.cleaned_data.items()
                if name.startswith("expected_")
            }
            try:
                type_sample_add(
                    actor=request.user,
                    document_type=document_type,
                    data=upload.read(),
                    filename=upload.name,
                    expected=expected,
                )
                messages.success(request, f"Sample {upload.name} added.")
                return redirect("type_accuracy", type_key=type_key)
            except SampleRefused as refusal:
                form.add_error("file", refusal.message)
        status = 400
    fields = scored_fields(document_type)
    samples = []
    for sample in document_type.samples.select_related("added_by"):
        shown = shown_answers(document_type, sample.expected)
        values = [(spec.get("label", spec["key"]), shown.get(spec["key"])) for spec in fields]
        samples.append({"sample": sample, "values": values})
    return render(
        request,
        "types/accuracy.html",
        {
            "document_type": document_type,
            "form": form,
            "samples": samples,
            "readers": [
                "the offline reader" if name == "local" else name for name in readers(document_type)
            ],
            "job": type_accuracy_jobs(document_type).first(),
            "nav": "types",
        },
        status=status,
    )


@login_required
@admin_required
@require_GET
def type_accuracy_job_view(request, type_key: str):
    """The latest check's progress, then its per-field result; polls itself while it runs."""
    document_type = get_object_or_404(DocumentType, key=type_key)
    return render(
        request,
        "types/accuracy_job.html",
        {"document_type": document_type, "job": type_accuracy_jobs(document_type).first()},
    )
