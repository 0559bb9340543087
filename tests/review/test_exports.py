"""Exports of approved applications: one CSV row (or JSON item) per value, with its evidence,
who confirmed it and its history; formula cells neutralised; only for staff who may view the
application, and only once it is approved."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from api.services import api_key_create, api_key_revoke
from review.exports import (
    CSV_COLUMNS,
    application_export,
    applications_export_json,
    applications_export_rows,
)
from review.services import field_correct
from tests.factories import AdminFactory, UserFactory
from tests.webhooks.helpers import decide, in_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(applicant, reviewer):
    application = in_review(applicant)
    document = application.documents.get()
    # The applicant names the file; a spreadsheet would run this name as a formula.
    type(document).objects.filter(pk=document.pk).update(
        original_name='=HYPERLINK("http://evil.example","stub")'
    )
    field_correct(
        field=document.fields.get(key="gross_pay"),
        value="4,100.00",
        actor=reviewer,
        reason="Per HR letter.",
    )
    decide(application, reviewer)
    application.refresh_from_db()
    return application


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_one_row_per_value_with_evidence_and_who_confirmed_it(
    client_for, approved, reviewer
):
    response = client_for(reviewer).get(reverse("application_export", args=[approved.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert list(rows[0]) == CSV_COLUMNS
    by_key = {row["field_key"]: row for row in rows}
    assert set(by_key) == {"pay_date", "gross_pay", "employee_ssn"}
    pay_date = by_key["pay_date"]
    assert pay_date["application"] == approved.reference
    assert pay_date["value"] == "01/15/2026" and pay_date["normalized"] == "2026-01-15"
    assert pay_date["page"] == "1" and pay_date["box"] == "0.3000 0.1000 0.4500 0.1200"
    assert pay_date["status"] == "verified"
    assert pay_date["confirmed_by"] == "applicant@example.com"
    assert pay_date["confirmed_role"] == "applicant" and pay_date["confirmed_action"] == "confirmed"
    assert pay_date["approved_by"] == "reviewer@example.com"
    assert pay_date["history"].startswith("extracted by machine (machine)")
    assert "verified by reviewer@example.com" in pay_date["history"]
    gross = by_key["gross_pay"]
    assert gross["confirmed_by"] == "reviewer@example.com"
    assert gross["confirmed_action"] == "corrected" and gross["changed_from_machine"] == "yes"
    ssn = by_key["employee_ssn"]
    assert ssn["found_on_page"] == "no" and ssn["box"] == ""
    # Masked as the staff screens mask it.
    assert ssn["value"] == "***-**-6789" and "123-45" not in ssn["normalized"]


def test_formula_cells_are_neutralised_in_the_csv(client_for, approved, reviewer):
    response = client_for(reviewer).get(reverse("application_export", args=[approved.pk]))
    names = {row["document"] for row in _csv(response)}
    assert names == {'\'=HYPERLINK("http://evil.example","stub")'}
    # The JSON keeps the name as it is: it is data, not a spreadsheet.
    data = application_export(approved)
    assert data["fields"][0]["document"].startswith("=HYPERLINK")


def test_the_json_download_has_the_same_facts(client_for, approved, reviewer):
    response = client_for(reviewer).get(
        reverse("application_export", args=[approved.pk]) + "?format=json"
    )
    data = json.loads(response.content)
    assert data["reference"] == approved.reference and data["status"] == "approved"
    pay_date = next(f for f in data["fields"] if f["key"] == "pay_date")
    assert pay_date["evidence"] == {
        "page": 1,
        "box": [0.3, 0.1, 0.45, 0.12],
        "found_on_page": True,
        "second_reading": None,
    }
    assert pay_date["confirmed_by"]["person"] == "applicant@example.com"
    ssn = next(f for f in data["fields"] if f["key"] == "employee_ssn")
    assert ssn["masked"] and ssn["value"] == "***-**-6789"


def test_a_person_allowed_to_see_sensitive_values_gets_them(approved):
    data = application_export(approved, reveal_sensitive=True)
    ssn = next(f for f in data["fields"] if f["key"] == "employee_ssn")
    assert ssn["value"] == "123-45-6789" and not ssn["masked"]


def test_only_staff_may_export_and_only_an_approved_application(
    client_for, approved, applicant, reviewer
):
    url = reverse("application_export", args=[approved.pk])
    # The owner and another applicant: refused, whatever the format.
    for person in (applicant, UserFactory(email="other@example.com")):
        for query in ("", "?format=json"):
            assert client_for(person).get(url + query).status_code == 403
    assert client_for(reviewer).post(url).status_code == 405
    assert client_for(AdminFactory(email="admin@example.com")).get(url).status_code == 200
    # Not approved: sent back to the review page with a plain message, nothing exported.
    pending = in_review(UserFactory(email="third@example.com"))
    response = client_for(reviewer).get(reverse("application_export", args=[pending.pk]))
    assert response.status_code == 302
    assert response.url == reverse("review_application", args=[pending.pk])
    assert application_export(pending) is None
    # An unknown application is a 404, not an error.
    assert client_for(reviewer).get(reverse("application_export", args=[999999])).status_code == 404


def test_the_bulk_export_streams_every_approved_application_and_nothing_else(
    client_for, approved, reviewer, applicant
):
    second = in_review(UserFactory(email="second@example.com"))
    decide(second, reviewer)
    in_review(UserFactory(email="pending@example.com"))  # not approved: left out
    response = client_for(reviewer).get(reverse("approved_export"))
    rows = _csv(response)
    assert {row["application_id"] for row in rows} == {str(approved.pk), str(second.pk)}
    assert len(rows) == 6
    assert client_for(applicant).get(reverse("approved_export")).status_code == 403

    chunks = list(applications_export_json(type(approved).objects.all()))
    data = json.loads("".join(chunks))
    assert [item["id"] for item in data["applications"]] == [approved.pk, second.pk]


def test_the_export_reads_a_batch_in_a_fixed_number_of_queries(
    approved, reviewer, django_assert_max_num_queries
):
    for n in range(5):
        decide(in_review(UserFactory(email=f"many{n}@example.com")), reviewer)
    from applications.models import Application

    with django_assert_max_num_queries(6):
        rows = list(applications_export_rows(Application.objects.all()))
    assert len(rows) == 1 + 6 * 3


def test_the_review_page_of_an_approved_application_offers_the_export(
    client_for, approved, reviewer
):
    export = reverse("application_export", args=[approved.pk])
    page = client_for(reviewer).get(reverse("review_application", args=[approved.pk]))
    assert f"{export}?format=csv" in page.content.decode()
    pending = in_review(UserFactory(email="fourth@example.com"))
    page = client_for(reviewer).get(reverse("review_application", args=[pending.pk]))
    assert reverse("application_export", args=[pending.pk]) not in page.content.decode()
    queue = client_for(reviewer).get(reverse("review_queue")).content.decode()
    assert reverse("approved_export") + "?format=csv" in queue


def _key_client(user, admin, scopes=("read",)):
    _, secret = api_key_create(name="Export", scopes=list(scopes), user=user, actor=admin)
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_an_integration_exports_the_approved_values_through_the_api(approved, reviewer):
    client = _key_client(reviewer, AdminFactory(is_superuser=True))
    url = reverse("api:approved_export")

    data = json.loads(b"".join(client.get(url).streaming_content))["applications"]
    assert [item["reference"] for item in data] == [approved.reference]
    assert data[0] == json.loads(json.dumps(application_export(approved), default=str))

    response = client.get(url, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert rows and {row["document"] for row in rows} == {
        '\'=HYPERLINK("http://evil.example","stub")'
    }


def test_the_api_export_is_refused_to_an_applicant_and_to_a_revoked_key(
    client_for, approved, applicant, reviewer
):
    url = reverse("api:approved_export")
    refused = client_for(applicant).get(url)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_allowed"

    admin = AdminFactory(is_superuser=True)
    key, secret = api_key_create(name="Old", scopes=["read"], user=reviewer, actor=admin)
    api_key_revoke(key=key, actor=admin)
    revoked = Client(headers={"Authorization": f"Bearer {secret}"}).get(url)
    assert revoked.status_code == 401
    assert set(revoked.json()) == {"code", "message"}
