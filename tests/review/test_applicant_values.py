"""Checking values as an applicant: "Not on this document" for any value, clearing a wrongly
read value points to it, a saved reason stays in view, a refused input never shows as saved,
and values no document could show (a tax year of 20255, a pay date in 3026) are refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from extraction.models import Field, FieldKind
from review.services import field_correct, field_mark_absent
from tests.factories import FieldFactory

pytestmark = pytest.mark.django_db


def _post(client, field, data):
    return client.post(
        reverse("field_update", args=[field.pk]), data, HTTP_HX_REQUEST="true"
    ).content.decode()


def test_any_value_can_be_marked_not_on_the_document(client_for, applicant, document):
    optional = FieldFactory(document=document, key="memo", label="Memo", machine_value="Bonus")
    page = client_for(applicant).get(reverse("document_detail", args=[document.pk]))
    html = page.content.decode()
    for field in document.fields.all():
        assert f'aria-label="{field.label}: not on this document"' in html, field.label
    field = field_mark_absent(field=optional, actor=applicant, reason="That is the header")
    assert (field.value, field.status) == ("", Field.Status.CONFIRMED)
    row = _post(client_for(applicant), optional, {"save": "1", "value": ""})
    assert "badge-absent" in row


def test_clearing_a_required_value_offers_not_on_this_document(client_for, applicant, document):
    gross = document.fields.get(key="gross_pay")
    row = _post(client_for(applicant), gross, {"save": "1", "value": "  ", "reason": ""})
    assert "is required" not in row
    assert "Gross pay cannot be left empty" in row and "Not on this document" in row
    assert 'name="absent"' in row
    gross.refresh_from_db()
    assert gross.value == "$4,250.00"


def test_a_saved_reason_stays_in_view(client_for, applicant, document):
    gross = document.fields.get(key="gross_pay")
    client = client_for(applicant)
    row = _post(client, gross, {"save": "1", "value": "4,300.00", "reason": "Stub was re-issued"})
    assert "Your reason: “Stub was re-issued”" in row
    page = client.get(reverse("document_detail", args=[document.pk])).content.decode()
    assert "Your reason: “Stub was re-issued”" in page


def test_a_refused_input_is_not_shown_as_saved_and_keeps_what_was_typed(
    client_for, applicant, document
):
    gross = document.fields.get(key="gross_pay")
    client = client_for(applicant)
    _post(client, gross, {"save": "1", "value": "4,100.5"})
    row = _post(client, gross, {"save": "1", "value": "59463.46x", "reason": "typo fixed"})
    assert 'role="alert"' in row
    assert "Saved as" not in row, "the old normalized value sits under the refused text"
    assert 'value="59463.46x"' in row and 'value="typo fixed"' in row
    gross.refresh_from_db()
    assert gross.value == "4,100.5"


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2025", True), ("1999", True), ("20255", False), ("1899", False), ("3025", False)],
)
def test_a_tax_year_is_four_digits_near_today(applicant, document, value, ok):
    year = FieldFactory(
        document=document,
        key="tax_year",
        label="Tax year",
        kind=FieldKind.INTEGER,
        machine_value="2025",
    )
    if ok:
        assert field_correct(field=year, value=value, actor=applicant).normalized == value
    else:
        with pytest.raises(ValidationError, match="Tax year is a four-digit year from 1900"):
            field_correct(field=year, value=value, actor=applicant)


@pytest.mark.parametrize("value", ["01/15/3026", "01/15/1850"])
def test_an_implausible_date_is_refused_naming_the_range(applicant, document, value):
    pay_date = document.fields.get(key="pay_date")
    with pytest.raises(ValidationError, match="Pay date should fall between"):
        field_correct(field=pay_date, value=value, actor=applicant)
    assert field_correct(field=pay_date, value="02/13/2026", actor=applicant).normalized == (
        "2026-02-13"
    )


def test_a_date_of_birth_cannot_be_in_the_future(applicant, document, shipped_types):
    document.document_type = shipped_types["drivers_license"]
    document.save()
    birth = FieldFactory(
        document=document,
        key="date_of_birth",
        label="Date of birth",
        kind=FieldKind.DATE,
        machine_value="04/02/1990",
    )
    with pytest.raises(ValidationError, match="cannot be in the future"):
        field_correct(field=birth, value="04/02/2090", actor=applicant)
    assert field_correct(field=birth, value="04/02/1991", actor=applicant).normalized == (
        "1991-04-02"
    )
