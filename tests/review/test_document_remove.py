"""The applicant removes a document before submitting: it leaves the application (lists,
checks, submission, review) but its file and history stay; recorded in the audit trail;
refused after submission, for someone else, twice, and while the document is being read."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from audit.models import Action, AuditEvent
from evals.real_traffic import approved_fields
from extraction.models import Document, Field, FieldRevision
from extraction.services import document_upload
from review.reports import field_accuracy
from review.selectors import application_list_for_owner
from review.services import (
    application_submission_problems,
    application_submit,
    document_remove,
    field_correct,
)
from review.versions import application_version
from tests.builders import pdf_bytes, upload
from tests.factories import ApplicationFactory, UserFactory
from tests.review.races import race

from .conftest import build_document, confirm_as_applicant


def _removed(application):
    return AuditEvent.objects.filter(application_id=application.pk, action=Action.DOCUMENT_REMOVED)


@pytest.mark.django_db
def test_removing_a_document_keeps_its_file_and_history(
    client_for, applicant, application, document
):
    other, _, _ = build_document(application)
    confirm_as_applicant(list(document.fields.all()))
    name, stored = other.original_name, other.original.name
    values = Field.objects.filter(document=other).count()
    version = application_version(application=application)
    client = client_for(applicant)
    url = reverse("application_detail", args=[application.pk])
    page = client.get(url).content.decode()
    assert f'name="remove" value="{other.pk}"' in page
    response = client.post(url, {"remove": other.pk, "reason": "Wrong month"}, follow=True)
    assert f"“{name}” is removed from this application" in response.content.decode()
    # Out of the application...
    assert list(application.documents.all()) == [document]
    assert application_submission_problems(application) == []
    assert application_version(application=application) != version
    assert f'name="remove" value="{other.pk}"' not in client.get(url).content.decode()
    assert client.get(reverse("document_detail", args=[other.pk])).status_code == 404
    # ...but kept: the row, its values and their history, and the file.
    kept = Document.all_objects.get(pk=other.pk)
    assert (kept.removed_by, kept.original.name) == (applicant, stored)
    assert kept.original.storage.exists(stored)
    assert Field.objects.filter(document=other).count() == values
    event = _removed(application).get()
    assert (event.actor, event.role) == (applicant, "applicant")
    assert event.data["reason"] == "Wrong month" and event.data["file_kept"] is True
    assert event.data["sha256"] == kept.sha256
    # Submitting sends only what is left.
    application_submit(application=application, actor=applicant)
    submitted = AuditEvent.objects.get(
        application_id=application.pk, action=Action.APPLICATION_SUBMITTED
    )
    assert submitted.data["documents"] == 1
    assert submitted.data["values"] == len(list(document.fields.all()))


@pytest.mark.django_db
def test_the_same_file_can_be_uploaded_again_after_removing_it(applicant, application):
    data = pdf_bytes(1, title="again")
    first = document_upload(
        application=application, uploaded_file=upload("a.pdf", data), actor=applicant
    )
    Document.objects.filter(pk=first.pk).update(status=Document.Status.EXTRACTED)
    first.refresh_from_db()
    document_remove(document=first, actor=applicant)
    again = document_upload(
        application=application, uploaded_file=upload("a.pdf", data), actor=applicant
    )
    assert list(application.documents.all()) == [again]


@pytest.mark.django_db
def test_removing_is_refused_twice_when_reading_after_submission_and_for_others(
    client_for, applicant, other_applicant, reviewer, application, document
):
    with pytest.raises(PermissionDenied):
        document_remove(document=document, actor=other_applicant)
    with pytest.raises(PermissionDenied):
        document_remove(document=document, actor=reviewer)
    for person in (other_applicant, reviewer):
        response = client_for(person).post(
            reverse("application_detail", args=[application.pk]), {"remove": document.pk}
        )
        assert response.status_code in (403, 404)
    Document.objects.filter(pk=document.pk).update(status=Document.Status.PROCESSING)
    with pytest.raises(ValidationError, match="still being read"):
        document_remove(document=document, actor=applicant)
    Document.objects.filter(pk=document.pk).update(status=Document.Status.EXTRACTED)
    document_remove(document=document, actor=applicant)
    # The page sent twice: the second says so and records nothing.
    response = client_for(applicant).post(
        reverse("application_detail", args=[application.pk]), {"remove": document.pk}, follow=True
    )
    assert "was already removed. Nothing changed." in response.content.decode()
    assert _removed(application).count() == 1
    assert not _removed(application).exclude(actor=applicant).exists()


@pytest.mark.django_db
def test_a_submitted_application_keeps_its_documents(client_for, applicant, application, document):
    confirm_as_applicant(list(document.fields.all()))
    application_submit(application=application, actor=applicant)
    response = client_for(applicant).post(
        reverse("application_detail", args=[application.pk]), {"remove": document.pk}, follow=True
    )
    assert "can no longer be changed" in response.content.decode()
    assert application.documents.count() == 1
    assert not _removed(application).exists()


@pytest.mark.django_db(transaction=True)
def test_remove_racing_submit_never_submits_a_removed_document(staff_groups):
    for _ in range(8):
        owner = UserFactory()
        application = ApplicationFactory(owner=owner)
        keep, _, keep_fields = build_document(application)
        drop, _, drop_fields = build_document(application)
        confirm_as_applicant(keep_fields + drop_fields)
        outcomes = race(
            lambda a=application, o=owner: application_submit(application=a, actor=o),
            lambda d=drop, o=owner: document_remove(document=d, actor=o),
        )
        assert [kind for kind, _ in outcomes].count("error") == 0, outcomes
        application.refresh_from_db()
        removed = _removed(application).exists()
        submitted = AuditEvent.objects.filter(
            application_id=application.pk, action=Action.APPLICATION_SUBMITTED
        ).first()
        assert removed != (submitted is not None and submitted.data["documents"] == 2), outcomes
        if submitted:
            assert submitted.data["documents"] == application.documents.count()


@pytest.mark.django_db
def test_a_removed_documents_values_cannot_be_changed_from_a_stale_page(
    client_for, applicant, application, document
):
    other, _, fields = build_document(application)
    field = fields[0]
    document_remove(document=other, actor=applicant)
    revisions = FieldRevision.objects.filter(field=field).count()
    # The document's page, open in another tab before the removal, sends a correction.
    response = client_for(applicant).post(
        reverse("field_update", args=[field.pk]), {"value": "01/16/2026", "reason": "typo"}
    )
    assert FieldRevision.objects.filter(field=field).count() == revisions
    assert response.status_code == 404
    with pytest.raises(PermissionDenied, match="was removed"):
        field_correct(field=field, value="01/16/2026", actor=applicant, reason="typo")
    assert FieldRevision.objects.filter(field=field).count() == revisions


@pytest.mark.django_db
def test_a_removed_document_counts_in_no_list_or_accuracy_figure(
    client_for, applicant, application, document
):
    other, _, _ = build_document(application)
    document_remove(document=other, actor=applicant)
    # My applications counts the documents still in it.
    assert application_list_for_owner(user=applicant).get(pk=application.pk).document_count == 1
    # Never reviewed, its values would count as read right in the accuracy figures.
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.APPROVED, decided_at=timezone.now()
    )
    assert sum(row.total for row in field_accuracy()) == document.fields.count()
    assert set(approved_fields()) == set(document.fields.all())
