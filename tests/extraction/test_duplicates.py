"""The same file (same sha256) uploaded twice to one application is refused with a message
naming the earlier upload; nothing of the second copy is stored or recorded. Another
application takes the same file, and two copies sent at once end with exactly one stored."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.services import application_create
from audit.models import Action, AuditEvent
from extraction.models import Document
from extraction.services import document_replace, document_upload
from extraction.uploads import UploadRejected
from tests.builders import pdf_bytes, upload
from tests.review.races import race

from .test_uploads import stored_files


@pytest.fixture
def application(django_user_model):
    owner = django_user_model.objects.create_user(email="ann@example.com", password="x")
    return application_create(owner=owner, stated_name="Ann Example")


def _added(application) -> int:
    return AuditEvent.objects.filter(
        application_id=application.pk, action=Action.DOCUMENT_ADDED
    ).count()


@pytest.mark.django_db
def test_the_same_file_twice_is_refused_naming_the_earlier_upload(application):
    data = pdf_bytes(2)
    document_upload(
        application=application, uploaded_file=upload("may-stub.pdf", data), actor=application.owner
    )
    files = stored_files()
    with pytest.raises(UploadRejected) as excinfo:
        document_upload(
            application=application,
            uploaded_file=upload("copy of may-stub.pdf", data),
            actor=application.owner,
        )
    assert excinfo.value.code == "duplicate"
    assert "“copy of may-stub.pdf” was not added" in excinfo.value.message
    assert "same file as “may-stub.pdf”, which you uploaded on" in excinfo.value.message
    assert application.documents.count() == 1
    assert stored_files() == files, "the refused copy left a file behind"
    assert _added(application) == 1
    # A different file is welcome, and so is the same file in another application.
    document_upload(
        application=application,
        uploaded_file=upload("june.pdf", pdf_bytes(2, title="June")),
        actor=application.owner,
    )
    other = application_create(owner=application.owner, stated_name="Ann Example")
    document_upload(application=other, uploaded_file=upload("a.pdf", data), actor=other.owner)


@pytest.mark.django_db
def test_a_failed_document_is_not_replaced_by_a_copy_of_another(application):
    first = document_upload(
        application=application,
        uploaded_file=upload("a.pdf", pdf_bytes(1)),
        actor=application.owner,
    )
    failed = document_upload(
        application=application,
        uploaded_file=upload("b.pdf", pdf_bytes(1, title="B")),
        actor=application.owner,
    )
    Document.objects.filter(pk=failed.pk).update(status=Document.Status.FAILED)
    failed.refresh_from_db()
    with pytest.raises(UploadRejected, match="same file as “a.pdf”"):
        document_replace(
            document=failed, uploaded_file=upload("c.pdf", pdf_bytes(1)), actor=first.uploaded_by
        )


@pytest.mark.django_db
def test_over_http_the_message_names_both_files(client, application):
    client.force_login(application.owner)
    url = reverse("application_detail", args=[application.pk])
    data = pdf_bytes(1, title="Stub")
    client.post(url, {"upload": "1", "files": [upload("stub.pdf", data)]})
    response = client.post(
        url,
        {"upload": "1", "files": [upload("stub (1).pdf", data)]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code in (200, 400)
    errors = response.json()["errors"]
    assert len(errors) == 1 and "same file as “stub.pdf”" in errors[0]
    assert application.documents.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_copies_sent_at_once_store_exactly_one(application):
    data = pdf_bytes(1, title="Twice")
    outcomes = race(
        *[
            lambda n=n: document_upload(
                application=application,
                uploaded_file=upload(f"copy-{n}.pdf", data),
                actor=application.owner,
            )
            for n in range(2)
        ]
    )
    assert not [o for o in outcomes if o[0] == "error" and not isinstance(o[1], UploadRejected)], (
        outcomes
    )
    assert application.documents.count() == 1
    assert _added(application) == 1
