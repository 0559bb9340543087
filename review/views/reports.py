"""The admin's reports: how often people corrected the machine, and throughput and cost."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from extraction.models import DocumentType

from ..reports import bar_chart, default_window, field_accuracy, throughput


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class AccuracyFilterForm(ReportFilterForm):
    document_type = forms.ChoiceField(label="Document type", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].choices = [
            ("", "Any type"),
            *DocumentType.objects.values_list("key", "label"),
        ]


def _filters(form) -> dict:
    if not form.is_bound:
        return {}
    form.is_valid()
    return {name: value for name, value in form.cleaned_data.items() if value}


@login_required
@permission_required("applications.audit_history", raise_exception=True)
@require_GET
def accuracy_view(request):
    """Per field of each document type: how often people changed what the machine read."""
    form = AccuracyFilterForm(request.GET or None)
    rows = field_accuracy(**_filters(form))
    chart = bar_chart(
        [
            (
                f"{row.document_type_label} · {row.field_label} ({row.provider}"
                f"{' ' + row.model if row.model else ''})",
                [
                    (row.applicant_rate * 100, "bar-applicant"),
                    (row.reviewer_rate * 100, "bar-reviewer"),
                ],
                f"{row.corrected_rate:.0%} of {row.total}",
            )
            for row in rows[:40]
        ],
        width=900,
        label_width=420,
        scale=100,
    )
    return render(
        request,
        "reports/accuracy.html",
        {"form": form, "rows": rows, "chart": chart, "nav": "accuracy"},
    )


@login_required
@permission_required("applications.audit_history", raise_exception=True)
@require_GET
def throughput_view(request):
    """Documents per day, time from upload to decision, and reading cost per application."""
    form = ReportFilterForm(request.GET or None)
    filters = _filters(form)
    start, end = default_window()
    start = filters.get("date_from") or start
    end = filters.get("date_to") or end
    if start > end:
        start, end = end, start
    report = throughput(date_from=start, date_to=end)
    chart = bar_chart(
        [
            (
                day["day"].strftime("%b %-d"),
                [(day["documents"], "bar-documents")],
                str(day["documents"]),
            )
            for day in report.days[-60:]
        ],
        width=900,
        label_width=90,
        bar_height=14,
        gap=4,
    )
    return render(
        request,
        "reports/throughput.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "date_from": start,
            "date_to": end,
            "nav": "throughput",
        },
    )
