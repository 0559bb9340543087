"""Django admin shows staff what Attest's own screens show them, and masks what those mask."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from applications.services import application_create
from extraction.models import DocumentType, ExtractionRun, Field
from tests.builders import document_with_fields
from tests.factories import AdminFactory, ReviewerFactory, UserFactory

pytestmark = pytest.mark.django_db

SSN = "123-45-6789"


@pytest.fixture
def applicant(staff_groups):
    return UserFactory(email="pat@example.com")


@pytest.fixture
def draft(applicant, shipped_types):
    application = application_create(owner=applicant, stated_name="Pat Draft")
    document_with_fields(application, shipped_types["w2"], {"employee_ssn": SSN})
    return application


@pytest.fixture
def submitted(applicant, shipped_types):
    application = application_create(owner=applicant, stated_name="Sam Submitted")
    document = document_with_fields(application, shipped_types["w2"], {"employee_ssn": SSN})
    ExtractionRun.objects.create(
        document=document,
        provider="openai",
        model="gpt",
        outcome=ExtractionRun.Outcome.OK,
        raw_response=f'{{"employee_ssn": "{SSN}", "digits": "123456789"}}',
        values={"employee_ssn": SSN},
    )
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.SUBMITTED, submitted_at=timezone.now()
    )
    return application


@pytest.mark.parametrize("staff", [ReviewerFactory, AdminFactory])
def test_staff_never_see_a_draft_in_the_admin(client, staff_groups, draft, submitted, staff):
    user = staff(email="staff@example.com")
    # As the demo admin: a superuser, who may open every admin page.
    user.is_superuser = staff is AdminFactory
    user.save()
    client.force_login(user)
    listing = client.get(reverse("admin:applications_application_changelist"))
    assert submitted.reference.encode() in listing.content
    assert draft.reference.encode() not in listing.content
    opened = client.get(reverse("admin:applications_application_change", args=[draft.pk]))
    assert opened.status_code == 302  # Django admin's "does not exist" redirect
    field = Field.objects.get(document__application=draft, key="employee_ssn")
    opened = client.get(reverse("admin:extraction_field_change", args=[field.pk]))
    assert opened.status_code in (302, 403)  # hidden, or no access to fields at all
    fields = client.get(reverse("admin:extraction_field_changelist"))
    assert f"document {field.document_id}".encode() not in fields.content


def test_admins_see_ssns_masked_in_fields_revisions_and_raw_responses(
    client, staff_groups, submitted
):
    # The demo admin is a superuser: holding every permission implicitly does not unmask.
    client.force_login(AdminFactory(email="admin@example.com", is_superuser=True))
    field = Field.objects.get(document__application=submitted, key="employee_ssn")
    run = ExtractionRun.objects.get(document__application=submitted)
    pages = [
        reverse("admin:extraction_field_changelist"),
        reverse("admin:extraction_field_change", args=[field.pk]),
        reverse("admin:extraction_fieldrevision_changelist"),
        reverse("admin:extraction_extractionrun_change", args=[run.pk]),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert SSN not in body and "123456789" not in body, url
    assert "***-**-6789" in client.get(pages[1]).content.decode()


def test_a_permission_unmasks_sensitive_values_for_those_who_hold_it(
    client, staff_groups, submitted
):
    admin_user = AdminFactory(email="compliance@example.com", is_superuser=True)
    admin_user.user_permissions.add(Permission.objects.get(codename="view_sensitive_values"))
    client.force_login(admin_user)
    field = Field.objects.get(document__application=submitted, key="employee_ssn")
    body = client.get(reverse("admin:extraction_field_change", args=[field.pk])).content.decode()
    assert SSN in body


def test_application_columns_are_readable_and_owners_shown_by_e_mail(
    client, staff_groups, submitted
):
    client.force_login(AdminFactory(email="admin@example.com"))
    body = client.get(reverse("admin:applications_application_changelist")).content.decode()
    assert "YOUR FULL NAME" not in body.upper().replace("APPLICANT&#x27;S STATED NAME", "")
    assert "pat@example.com" in body


def test_a_document_type_in_use_offers_no_delete_and_an_unused_one_deletes(
    admin_client, shipped_types, submitted, staff_groups
):
    used = shipped_types["w2"]
    change = admin_client.get(reverse("admin:extraction_documenttype_change", args=[used.pk]))
    assert reverse("admin:extraction_documenttype_delete", args=[used.pk]) not in (
        change.content.decode()
    )
    refused = admin_client.post(
        reverse("admin:extraction_documenttype_delete", args=[used.pk]), {"post": "yes"}
    )
    assert refused.status_code == 403
    assert DocumentType.objects.filter(pk=used.pk).exists()

    unused = DocumentType.objects.create(key="lease", label="Lease", fields=[])
    admin_client.post(
        reverse("admin:extraction_documenttype_delete", args=[unused.pk]), {"post": "yes"}
    )
    assert not DocumentType.objects.filter(pk=unused.pk).exists()
