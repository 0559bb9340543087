"""Applicants hear by e-mail when their documents are read and when a reviewer decides."""

from __future__ import annotations

import pytest
from django.core import mail

from applications.services import application_create
from extraction.models import Document
from extraction.progress import application_documents_changed
from review.services import (
    application_decide,
    application_submit,
    fields_confirm_remaining,
)
from review.versions import application_version
from tests.builders import PAY_STUB_VALUES, document_with_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(django_user_model, shipped_types, django_capture_on_commit_callbacks):
    owner = django_user_model.objects.create_user(email="jordan@example.com", password="x")
    application = application_create(owner=owner, stated_name="Jordan A. Rivera")
    document_with_fields(
        application, shipped_types["pay_stub"], PAY_STUB_VALUES, status=Document.Status.QUEUED
    )
    application_documents_changed(application=application)
    return application


def test_the_applicant_is_told_when_the_last_document_is_read(
    application, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application.documents.update(status=Document.Status.EXTRACTED)
        application_documents_changed(application=application)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jordan@example.com"]
    assert application.reference in message.subject
    assert f"/applications/{application.pk}/" in message.body


def test_the_applicant_is_told_of_a_request_for_changes_with_the_reviewers_note(
    application, django_user_model, staff_groups, django_capture_on_commit_callbacks
):
    reviewer = django_user_model.objects.create_user(email="riley@example.com", password="x")
    reviewer.groups.add(staff_groups["Reviewers"])
    application.documents.update(status=Document.Status.EXTRACTED)
    application_documents_changed(application=application)
    fields_confirm_remaining(document=application.documents.get(), actor=application.owner)
    application_submit(application=application, actor=application.owner)
    with django_capture_on_commit_callbacks(execute=True):
        application_decide(
            application=application,
            version=application_version(application=application),
            reviewer=reviewer,
            kind="request_changes",
            note="Please add your W-2 for 2025.",
            allow_uploads=True,
        )
    assert "please update" in mail.outbox[-1].subject
    assert "Please add your W-2 for 2025." in mail.outbox[-1].body


def test_one_ready_to_check_mail_per_application_not_per_upload_batch(
    application, shipped_types, django_capture_on_commit_callbacks
):
    """Three batches uploaded one after another, each read: the applicant hears once."""
    with django_capture_on_commit_callbacks(execute=True):
        application.documents.update(status=Document.Status.EXTRACTED)
        application_documents_changed(application=application)
    for key in ("w2", "bank_statement"):
        with django_capture_on_commit_callbacks(execute=True):
            document = document_with_fields(
                application, shipped_types[key], {}, status=Document.Status.QUEUED
            )
            application_documents_changed(application=application)
        with django_capture_on_commit_callbacks(execute=True):
            Document.objects.filter(pk=document.pk).update(status=Document.Status.EXTRACTED)
            application_documents_changed(application=application)
    application.refresh_from_db()
    assert application.status == "awaiting_applicant"
    assert len(mail.outbox) == 1
    assert application.ready_notified_at is not None
