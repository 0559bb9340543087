"""The applicant's screens: values not on the document, the summary before submitting,
uploads from the page's script, and what a request for changes concerns."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications.models import Application
from extraction.models import Field
from review.services import (
    application_submission_problems,
    field_correct,
    field_mark_absent,
    fields_confirm_remaining,
)
from tests.builders import upload
from tests.factories import FieldFactory, FlagFactory, pdf_bytes

from .conftest import build_document


@pytest.fixture
def empty_required(document):
    """A required value the machine did not find."""
    return FieldFactory(
        document=document, key="employer_name", label="Employer", required=True, machine_value=""
    )


def test_marking_a_value_absent_appends_a_revision_and_counts_as_checked(
    applicant, document, empty_required
):
    field = field_mark_absent(field=empty_required, actor=applicant, reason="Not printed.")
    assert (field.value, field.status) == ("", Field.Status.CONFIRMED)
    latest = field.revisions.order_by("-number").first()
    assert (latest.action, latest.value, latest.reason) == ("absent", "", "Not printed.")
    again = field_mark_absent(field=field, actor=applicant)
    assert again.revisions.count() == 2


def test_an_empty_required_value_is_named_until_typed_or_marked_absent(
    applicant, document, empty_required
):
    fields_confirm_remaining(document=document, actor=applicant)
    problems = application_submission_problems(document.application)
    assert problems == [
        "Employer on “pay-stub.pdf” is empty: type it in or mark it “not on this document”."
    ]
    field_mark_absent(field=empty_required, actor=applicant)
    assert application_submission_problems(document.application) == []


def test_a_value_typed_after_marking_it_absent_replaces_the_mark(
    applicant, document, empty_required
):
    field_mark_absent(field=empty_required, actor=applicant)
    field = field_correct(field=empty_required, value="Northwind", actor=applicant)
    assert field.value == "Northwind"
    fields_confirm_remaining(document=document, actor=applicant)
    assert application_submission_problems(document.application) == []


def test_another_person_cannot_mark_a_value_absent(other_applicant, empty_required):
    with pytest.raises(Exception) as error:
        field_mark_absent(field=empty_required, actor=other_applicant)
    assert not isinstance(error.value, ValidationError)
    empty_required.refresh_from_db()
    assert empty_required.status == Field.Status.PROPOSED


def test_the_not_on_this_document_button_marks_it_with_htmx(
    client_for, applicant, document, empty_required
):
    client = client_for(applicant)
    page = client.get(reverse("document_detail", args=[document.pk])).content.decode()
    assert "Not on this document" in page
    response = client.post(
        reverse("field_update", args=[empty_required.pk]),
        {"absent": "1", "value": "", "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    row = response.content.decode()
    assert "badge-absent" in row
    assert 'name="absent"' not in row


def test_a_value_of_a_kind_shows_its_keyboard_and_normalized_form(client_for, applicant, document):
    gross = document.fields.get(key="gross_pay")
    client = client_for(applicant)
    response = client.post(
        reverse("field_update", args=[gross.pk]),
        {"value": "4,100.5", "save": "1"},
        HTTP_HX_REQUEST="true",
    )
    row = response.content.decode()
    assert 'inputmode="decimal"' in row
    assert 'Saved as <span class="mono">4100.50</span>' in row


def test_submitting_first_shows_what_the_applicant_changed(client_for, applicant, document):
    client = client_for(applicant)
    gross = document.fields.get(key="gross_pay")
    field_correct(field=gross, value="4,100.00", actor=applicant, reason="Bonus left out.")
    fields_confirm_remaining(document=document, actor=applicant)
    response = client.post(
        reverse("application_detail", args=[document.application_id]), {"submit": ""}
    )
    page = response.content.decode()
    assert "What you changed" in page
    assert "$4,250.00" in page and "4,100.00" in page and "Bonus left out." in page
    assert 'name="confirm_submit"' in page
    # Confirmed values are not listed as changes.
    assert "01/15/2026" not in page
    document.application.refresh_from_db()
    assert document.application.status == Application.Status.AWAITING_APPLICANT


def test_the_page_script_uploads_and_gets_json(client_for, applicant, application):
    response = client_for(applicant).post(
        reverse("application_detail", args=[application.pk]),
        {"upload": "1", "files": [upload("a.pdf", pdf_bytes()), upload("b.txt", b"hello")]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 1 and "b.txt" in errors[0]
    assert application.documents.count() == 1


def test_the_upload_form_offers_drop_picker_and_camera(client_for, applicant, application):
    page = client_for(applicant).get(reverse("application_detail", args=[application.pk]))
    text = page.content.decode()
    assert "data-dropzone" in text
    assert 'name="files" multiple' in text
    assert 'capture="environment"' in text


def test_a_request_for_changes_lists_the_fields_it_concerns(
    client_for, applicant, reviewer, submitted
):
    field = Field.objects.get(document__application=submitted, key="gross_pay")
    FlagFactory(
        application=submitted,
        document=field.document,
        field=field,
        title="Pay stub does not add up",
    )
    client_for(reviewer).post(
        reverse("review_application", args=[submitted.pk]),
        {"decide": "request_changes", "note": "Please check the gross pay."},
    )
    page = client_for(applicant).get(reverse("application_detail", args=[submitted.pk]))
    text = page.content.decode()
    assert "What it concerns" in text
    assert f"#field-{field.pk}" in text
    assert "Gross pay" in text
    assert "Pay stub does not add up" not in text  # the flag behind a request is staff-only


def test_a_second_document_keeps_its_own_absent_marks(applicant, application):
    document, _, _ = build_document(application)
    other, _, _ = build_document(application)
    field = FieldFactory(document=other, key="x", label="X", required=True, machine_value="")
    field_mark_absent(field=field, actor=applicant)
    fields_confirm_remaining(document=document, actor=applicant)
    fields_confirm_remaining(document=other, actor=applicant)
    assert application_submission_problems(application) == []
