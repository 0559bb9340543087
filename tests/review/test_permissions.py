"""Every screen answers only the people it is for: 404 for someone else's things, 403 for roles."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _object_urls(document) -> list[str]:
    application = document.application
    field = document.fields.first()
    return [
        reverse("application_detail", args=[application.pk]),
        reverse("application_documents", args=[application.pk]),
        reverse("document_detail", args=[document.pk]),
        reverse("page_image", args=[document.pk, 1]),
        reverse("document_original", args=[document.pk]),
        reverse("field_update", args=[field.pk]),
    ]


def test_owner_opens_each_of_their_urls(client_for, applicant, document):
    """The success case that the wrong-user tests below mirror."""
    client = client_for(applicant)
    for url in _object_urls(document):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        if response.status_code == 302:
            assert reverse("document_detail", args=[document.pk]) in response["Location"]


def test_another_applicant_gets_404_for_every_url_of_someone_elses_application(
    client_for, other_applicant, document
):
    client = client_for(other_applicant)
    for url in _object_urls(document):
        assert client.get(url).status_code == 404, url


def test_another_applicant_cannot_post_to_someone_elses_application(
    client_for, other_applicant, document
):
    client = client_for(other_applicant)
    application = document.application
    field = document.fields.first()
    posts = [
        (reverse("application_detail", args=[application.pk]), {"submit": ""}),
        (reverse("application_detail", args=[application.pk]), {"retry": document.pk}),
        (reverse("document_detail", args=[document.pk]), {"confirm_all": ""}),
        (reverse("field_update", args=[field.pk]), {"value": "x", "save": "1"}),
        (reverse("field_update", args=[field.pk]), {"confirm": "1"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    field.refresh_from_db()
    assert field.status == "proposed"
    assert field.revisions.count() == 1


def test_a_document_of_another_application_cannot_be_retried_through_mine(
    client_for, other_applicant, document
):
    from tests.factories import ApplicationFactory

    mine = ApplicationFactory(owner=other_applicant)
    response = client_for(other_applicant).post(
        reverse("application_detail", args=[mine.pk]), {"retry": document.pk}
    )
    assert response.status_code == 404


def test_absent_objects_are_404(client_for, applicant, document):
    client = client_for(applicant)
    for url in [
        reverse("application_detail", args=[999999]),
        reverse("document_detail", args=[999999]),
        reverse("page_image", args=[document.pk, 99]),
        reverse("document_original", args=[999999]),
        reverse("field_update", args=[999999]),
    ]:
        assert client.get(url).status_code == 404, url


def test_applicant_gets_403_on_staff_screens(client_for, applicant, submitted):
    client = client_for(applicant)
    for url in [
        reverse("review_queue"),
        reverse("review_application", args=[submitted.pk]),
        reverse("revision_history"),
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "You cannot open this page" in response.content.decode()


def test_reviewer_gets_403_on_history(client_for, reviewer):
    assert client_for(reviewer).get(reverse("revision_history")).status_code == 403


def test_reviewer_cannot_open_an_application_before_it_is_submitted(client_for, reviewer, document):
    client = client_for(reviewer)
    application = document.application
    assert client.get(reverse("review_application", args=[application.pk])).status_code == 404
    assert client.get(reverse("document_original", args=[document.pk])).status_code == 404


def test_reviewer_cannot_post_on_the_applicants_page(client_for, reviewer, submitted):
    """Staff may look at a submitted application's page but not act as its applicant."""
    url = reverse("application_detail", args=[submitted.pk])
    client = client_for(reviewer)
    assert client.get(url).status_code == 200
    assert client.post(url, {"submit": ""}).status_code == 403


def test_anonymous_is_sent_to_login(client, submitted):
    document = submitted.documents.first()
    urls = [
        reverse("home"),
        reverse("application_list"),
        reverse("review_queue"),
        reverse("review_application", args=[submitted.pk]),
        reverse("revision_history"),
        *_object_urls(document),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_files_are_served_privately_with_their_type(client_for, applicant, document):
    client = client_for(applicant)
    original = client.get(reverse("document_original", args=[document.pk]))
    assert original["Content-Type"] == "application/pdf"
    assert original["Content-Disposition"].startswith("attachment")
    assert original["X-Content-Type-Options"] == "nosniff"
    assert original["Cache-Control"] == "no-store"
    assert "sandbox" in original["Content-Security-Policy"]
    assert "script-src" not in original["Content-Security-Policy"]  # default-src 'none' holds
    assert b"".join(original.streaming_content).startswith(b"%PDF")

    image = client.get(reverse("page_image", args=[document.pk, 2]))
    assert image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image["Cache-Control"] == "no-store"
    assert "sandbox" in image["Content-Security-Policy"]
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
