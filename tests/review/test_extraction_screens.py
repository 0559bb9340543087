"""What the newer readings show on screens: reading cost for admins, two readings that differ,
rows fields (a statement's transactions) as a table, files split into several documents, and
the spending-cap reason."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from extraction.models import Document, ExtractionRun, Field, FieldKind
from extraction.selectors import application_cost, document_cost
from review.selectors import document_costs
from review.services import application_claim, application_submission_problems
from tests.factories import DocumentFactory, DocumentTypeFactory, FieldFactory, PageFactory

from .conftest import build_document

ROWS = [
    {"date": "01/02", "description": "Coffee shop", "amount": "-4.50"},
    {"date": "01/05", "description": "Payroll deposit", "amount": "2,100.00"},
]
ROW_EVIDENCE = [
    {"page": 1, "box": [0.1, 0.40, 0.9, 0.42], "grounded": True},
    {"page": 1, "box": [0.1, 0.44, 0.9, 0.46], "grounded": True},
]
STATEMENT_FIELDS = [
    {
        "key": "transactions",
        "label": "Transactions",
        "kind": "rows",
        "columns": [
            {"key": "date", "label": "Date", "kind": "date"},
            {"key": "description", "label": "Description", "kind": "text"},
            {"key": "amount", "label": "Amount", "kind": "money"},
        ],
    }
]


def _run(document, *, cost="0.0100", tokens_in=1000, tokens_out=200, latency_ms=900, **extra):
    return ExtractionRun.objects.create(
        document=document,
        provider="openai",
        model="gpt",
        cost=Decimal(cost),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=latency_ms,
        outcome=ExtractionRun.Outcome.OK,
        **extra,
    )


def _statement(application):
    document_type = DocumentTypeFactory(
        key="bank_statement", label="Bank statement", fields=STATEMENT_FIELDS
    )
    document = DocumentFactory(
        application=application, document_type=document_type, original_name="statement.pdf"
    )
    page = PageFactory(document=document, number=1)
    value = json.dumps(ROWS)
    field = FieldFactory(
        document=document,
        key="transactions",
        label="Transactions",
        kind=FieldKind.ROWS,
        machine_value=value,
        value=value,
        normalized=value,
        page=page,
        box=ROW_EVIDENCE[0]["box"],
        row_evidence=ROW_EVIDENCE,
    )
    return document, field


def _get(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- Cost ---------------------------------------------------------------------------------


def test_cost_figures_match_the_extraction_selectors(submitted):
    first = submitted.documents.get()
    second, _, _ = build_document(submitted)
    _run(first, cost="0.0123")
    _run(first, cost="0.0020", reading=ExtractionRun.Reading.SECOND)
    cached_from = _run(second, cost="0.0300")
    _run(second, cost="0", tokens_in=0, tokens_out=0, latency_ms=0, cached_from=cached_from)
    ExtractionRun.objects.create(
        document=second, provider="openai", outcome=ExtractionRun.Outcome.CAPPED
    )

    with CaptureQueriesContext(connection) as queries:
        costs, total = document_costs(application=submitted)
    assert len(queries.captured_queries) == 1
    assert costs[first.pk] == document_cost(document=first)
    assert costs[second.pk] == document_cost(document=second)
    assert total == application_cost(application=submitted)
    assert costs[second.pk].cached == 1 and costs[second.pk].calls == 1


def test_only_admins_see_the_reading_cost(client_for, auditor, reviewer, applicant, submitted):
    document = submitted.documents.get()
    _run(document, cost="0.01234", tokens_in=1500, tokens_out=321, latency_ms=2345)
    url = reverse("review_application", args=[submitted.pk])

    page = _get(client_for(auditor), url)
    assert "Reading cost" in page
    assert "$0.0123" in page
    assert "1,500" in page and "321" in page and "2,345 ms" in page
    assert "Application total" in page

    for person in (reviewer,):
        assert "Reading cost" not in _get(client_for(person), url)
    assert "Reading cost" not in _get(
        client_for(applicant), reverse("document_detail", args=[document.pk])
    )
    assert "Reading cost" not in _get(
        client_for(applicant), reverse("application_detail", args=[submitted.pk])
    )


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("who", ["auditor", "reviewer"])
def test_review_page_queries_stay_constant_with_costs_rows_and_parts(
    request, who, client_for, submitted, django_assert_max_num_queries
):
    client = client_for(request.getfixturevalue(who))
    url = reverse("review_application", args=[submitted.pk])
    _run(submitted.documents.get())
    few = _count(client, url)
    for _ in range(3):
        document, _field = _statement(submitted)
        _run(document)
        _run(document, reading=ExtractionRun.Reading.SECOND)
    parent = DocumentFactory(application=submitted, status=Document.Status.SPLIT)
    for first in (1, 3):
        DocumentFactory(
            application=submitted, split_from=parent, page_start=first, page_end=first + 1
        )
    with django_assert_max_num_queries(few):
        client.get(url)


# --- Two readings ------------------------------------------------------------------------------


def test_a_disagreement_is_marked_with_the_other_reading_and_listed_first(
    client_for, applicant, document
):
    gross = document.fields.get(key="gross_pay")
    gross.agreement, gross.second_value = "disagree", "$4,520.00"
    gross.save()
    pay_date = document.fields.get(key="pay_date")
    pay_date.agreement, pay_date.second_value = "agree", "01/15/2026"
    pay_date.save()

    page = _get(client_for(applicant), reverse("document_detail", args=[document.pk]))
    assert "Two readings differ" in page
    assert "$4,520.00" in page
    assert "Both readings agree" in page
    assert "1 value where two readings differ" in page
    # The disagreeing value comes first among the values to check.
    assert page.index(f'id="field-{gross.pk}"') < page.index(f'id="field-{pay_date.pk}"')


def test_the_reviewer_sees_a_disagreement_masked_when_sensitive(client_for, reviewer, submitted):
    ssn = Field.objects.get(document__application=submitted, key="employee_ssn")
    ssn.agreement, ssn.second_value = "disagree", "123-45-6780"
    ssn.save()
    page = _get(client_for(reviewer), reverse("review_application", args=[submitted.pk]))
    assert "Two readings differ" in page
    assert "123-45-6780" not in page
    assert "6780" in page


# --- Rows -------------------------------------------------------------------------------------


def test_rows_show_as_a_table_with_a_box_per_row(client_for, applicant, application):
    document, field = _statement(application)
    page = _get(client_for(applicant), reverse("document_detail", args=[document.pk]))
    assert "rows-table" in page
    assert "Coffee shop" in page and "Payroll deposit" in page
    assert f'data-row-box="{field.pk}-0"' in page and f'data-row-box="{field.pk}-1"' in page
    assert f'data-row-for="{field.pk}-1"' in page
    # The correction box holds one row a line, not JSON.
    assert "01/02 | Coffee shop | -4.50" in page
    assert "&quot;description&quot;" not in page


def test_rows_are_corrected_through_the_text_box(client_for, applicant, application):
    document, field = _statement(application)
    response = client_for(applicant).post(
        reverse("field_update", args=[field.pk]),
        {"rows_text": "01/02 | Coffee shop | -4.75\n\n01/05 | Payroll deposit | 2,100.00\n"},
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert json.loads(field.value) == [
        {"date": "01/02", "description": "Coffee shop", "amount": "-4.75"},
        {"date": "01/05", "description": "Payroll deposit", "amount": "2,100.00"},
    ]
    assert field.status == Field.Status.CORRECTED


def test_a_bad_row_line_is_named_and_what_was_typed_is_kept(client_for, applicant, application):
    document, field = _statement(application)
    typed = "01/02 | Coffee shop | -4.50\n13/45/2026 | Rent | lots\nonly two | parts"
    response = client_for(applicant).post(
        reverse("field_update", args=[field.pk]), {"rows_text": typed}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Line 2:" in page and "“13/45/2026” is not a date" in page and "“lots”" in page
    assert "Line 3: write 3 parts" in page
    assert "Line 1" not in page
    assert "13/45/2026 | Rent | lots" in page  # kept in the box
    field.refresh_from_db()
    assert json.loads(field.value) == ROWS


def test_rows_confirm_as_a_whole_and_correct_with_htmx(client_for, applicant, application):
    document, field = _statement(application)
    client = client_for(applicant)
    url = reverse("field_update", args=[field.pk])
    response = client.post(url, {"confirm": "1"}, HTTP_HX_REQUEST="true")
    assert "rows-table" in response.content.decode()
    field.refresh_from_db()
    assert field.status == Field.Status.CONFIRMED and json.loads(field.value) == ROWS

    response = client.post(url, {"rows_text": "01/02 | Coffee"}, HTTP_HX_REQUEST="true")
    assert "Line 1: write 3 parts" in response.content.decode()
    response = client.post(
        url, {"rows_text": "01/02 | Coffee shop | -4.50"}, HTTP_HX_REQUEST="true"
    )
    assert "field-error" not in response.content.decode()
    field.refresh_from_db()
    assert json.loads(field.value) == [ROWS[0]]


def test_the_reviewer_sees_and_corrects_rows_as_text(client_for, reviewer, submitted):
    document, field = _statement(submitted)
    application_claim(application=submitted, reviewer=reviewer)
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    page = _get(client, url)
    assert "Payroll deposit" in page and f'data-row-box="{field.pk}-0"' in page
    assert 'name="rows_text"' in page

    response = client.post(url, {"correct": field.pk, "rows_text": "x | y"})
    assert "Line 1: write 3 parts" in response.content.decode()
    response = client.post(
        url, {"correct": field.pk, "rows_text": "01/09 | Fee | -1.00", "reason": "Fee row"}
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert json.loads(field.value) == [{"date": "01/09", "description": "Fee", "amount": "-1.00"}]


# --- Split files and spending caps -----------------------------------------------------------


def test_a_split_file_lists_its_parts_and_does_not_block_submission(
    client_for, applicant, application
):
    parent = DocumentFactory(
        application=application,
        document_type=None,
        original_name="scan.pdf",
        status=Document.Status.SPLIT,
        page_count=4,
        reason="This file holds 2 documents; each is listed and read on its own.",
    )
    parts = [
        DocumentFactory(
            application=application,
            original_name=f"scan.pdf (pages {first}\u2013{first + 1})",
            original=parent.original.name,
            split_from=parent,
            page_start=first,
            page_end=first + 1,
            page_count=2,
        )
        for first in (1, 3)
    ]
    client = client_for(applicant)
    page = _get(client, reverse("application_detail", args=[application.pk]))
    assert "Split into 2 documents" in page
    assert "pages 1–2 of “scan.pdf”" in page and "pages 3–4 of “scan.pdf”" in page
    assert "What is this document?" not in page
    assert not any(
        "scan.pdf" in problem for problem in application_submission_problems(application)
    )

    original = client.get(reverse("document_original", args=[parts[1].pk]))
    assert original.status_code == 200
    assert b"".join(original.streaming_content).startswith(b"%PDF")


def test_the_reviewer_sees_a_split_parent_with_its_parts(client_for, reviewer, submitted):
    parent = DocumentFactory(
        application=submitted, document_type=None, status=Document.Status.SPLIT
    )
    DocumentFactory(application=submitted, split_from=parent, page_start=1, page_end=2)
    page = _get(client_for(reviewer), reverse("review_application", args=[submitted.pk]))
    assert "Split into 1 document" in page
    assert "Pages 1–2 of" in page


def test_the_spending_cap_reason_shows_and_offers_manual_entry(client_for, applicant, application):
    reason = (
        "This document reached the limit of pages we read automatically (20 pages). Please "
        "type the values in beside the page; support can raise the limit."
    )
    document = DocumentFactory(
        application=application,
        status=Document.Status.NEEDS_MANUAL_ENTRY,
        reason_code="spending_cap",
        reason=reason,
    )
    FieldFactory(document=document, key="gross_pay", machine_value="", value="", required=True)
    client = client_for(applicant)
    page = _get(client, reverse("application_detail", args=[application.pk]))
    assert "reached the limit of pages we read automatically" in page
    assert "Type in the values" in page
    detail = _get(client, reverse("document_detail", args=[document.pk]))
    assert "support can raise the limit" in detail
