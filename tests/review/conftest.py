"""People of each role and an application with a read document, built through the ORM."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from extraction.history import RevisionAction, revision_append
from extraction.models import Field, FieldKind
from tests.factories import (
    AdminFactory,
    ApplicationFactory,
    DocumentFactory,
    FieldFactory,
    PageFactory,
    ReviewerFactory,
    SubmittedApplicationFactory,
    UserFactory,
)


@pytest.fixture
def applicant(db):
    return UserFactory(email="applicant@example.com")


@pytest.fixture
def other_applicant(db):
    return UserFactory(email="other@example.com")


@pytest.fixture
def reviewer(db):
    return ReviewerFactory(email="reviewer@example.com")


@pytest.fixture
def auditor(db):
    """A person in the Admins group: reviews, and audits the history."""
    return AdminFactory(email="auditor@example.com")


def build_document(application, *, pages: int = 2, extra_fields: int = 0):
    """A read pay stub with its pages and fields, the first two fields on page 1."""
    document = DocumentFactory(application=application, page_count=pages)
    page_rows = [PageFactory(document=document, number=n) for n in range(1, pages + 1)]
    fields = [
        FieldFactory(
            document=document,
            key="pay_date",
            label="Pay date",
            kind=FieldKind.DATE,
            required=True,
            machine_value="01/15/2026",
            normalized="2026-01-15",
            page=page_rows[0],
            box=[0.30, 0.10, 0.45, 0.12],
        ),
        FieldFactory(
            document=document,
            key="gross_pay",
            label="Gross pay",
            kind=FieldKind.MONEY,
            required=True,
            machine_value="$4,250.00",
            normalized="4250.00",
            page=page_rows[0],
            box=[0.30, 0.20, 0.42, 0.22],
        ),
        FieldFactory(
            document=document,
            key="employee_ssn",
            label="Employee SSN",
            kind=FieldKind.SSN,
            sensitive=True,
            machine_value="123-45-6789",
            normalized="123-45-6789",
            page=page_rows[-1],
            grounded=False,
            box=[],
        ),
    ]
    for n in range(extra_fields):
        fields.append(
            FieldFactory(document=document, key=f"note_{n}", label=f"Note {n}", page=page_rows[0])
        )
    return document, page_rows, fields


@pytest.fixture
def application(applicant):
    """The applicant's application, waiting for them to check one read document."""
    return ApplicationFactory(owner=applicant)


@pytest.fixture
def document(application):
    document, _, _ = build_document(application)
    return document


def page_version(client, application) -> str:
    """The version token the review page carries, as a reviewer's browser would post it."""
    page = client.get(reverse("review_application", args=[application.pk])).content.decode()
    match = re.search(r'name="version" value="([^"]+)"', page)
    assert match, "The review page carries no version."
    return match.group(1)


def confirm_as_applicant(fields) -> None:
    """The applicant checked each value as read, as they must before submitting."""
    for field in fields:
        revision_append(
            field=field,
            value=field.value,
            actor=field.document.application.owner,
            role=Role.APPLICANT,
            action=RevisionAction.CONFIRMED,
        )
        Field.objects.filter(pk=field.pk).update(status=Field.Status.CONFIRMED)


@pytest.fixture
def submitted(applicant):
    """A submitted application with a read document whose values the applicant confirmed, in
    the reviewers' queue."""
    application = SubmittedApplicationFactory(owner=applicant)
    _, _, fields = build_document(application)
    confirm_as_applicant(fields)
    return application
