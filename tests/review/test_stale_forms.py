"""No stale form ends in a 500: each decision form, sent from a page older than the
application, gets a plain message with the state now, and nothing changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.models import Application
from audit.models import AuditEvent
from extraction.models import Field
from review.models import Decision
from review.services import application_claim, field_confirm, field_correct
from review.versions import application_snapshot
from rules.models import Flag
from tests.builders import pdf_bytes, upload
from tests.factories import FlagFactory, ReviewerFactory

from .conftest import page_version

pytestmark = pytest.mark.django_db

DECISIONS = [
    {"decide": "approve", "note": ""},
    {"decide": "reject", "note": "Income not shown."},
    {"decide": "request_changes", "note": "Check gross pay.", "allow_uploads": "1"},
]


@pytest.fixture
def riley(db):
    return ReviewerFactory(email="riley@example.com", full_name="Riley")


def _frozen(application):
    application.refresh_from_db()
    return (
        application.status,
        application.assigned_to_id,
        application_snapshot(application=application),
        Decision.objects.filter(application=application).count(),
        AuditEvent.objects.filter(application_id=application.pk).count(),
    )


def _text(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("form", DECISIONS, ids=lambda f: f["decide"])
def test_a_decision_from_a_page_older_than_a_change_shows_what_changed(
    client_for, reviewer, submitted, form
):
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    version = page_version(client, submitted)
    # Meanwhile, in another tab: a correction, and a new finding.
    field = Field.objects.get(document__application=submitted, key="gross_pay")
    field_correct(field=field, value="4,000.00", actor=reviewer, reason="HR letter")
    FlagFactory(application=submitted, title="Deposit missing", severity="low")
    before = _frozen(submitted)

    response = client.post(url, {**form, "version": version})

    assert response.status_code == 200
    text = _text(response)
    assert "changed since you opened it" in text
    assert 'id="what-changed"' in text
    assert "Gross pay on “pay-stub.pdf” changed (now: 4,000.00, corrected)." in text
    assert "Flag “Deposit missing” was raised." in text
    assert _frozen(submitted) == before


@pytest.mark.parametrize("form", DECISIONS, ids=lambda f: f["decide"])
def test_a_decision_from_a_page_opened_before_someone_elses_claim_names_them(
    client_for, reviewer, riley, submitted, form
):
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    version = page_version(client, submitted)
    application_claim(application=submitted, reviewer=riley)
    before = _frozen(submitted)

    response = client.post(url, {**form, "version": version}, follow=True)

    assert response.status_code == 200
    assert "Riley is working on this application, so nothing was changed" in _text(response)
    assert _frozen(submitted) == before


@pytest.mark.parametrize("form", DECISIONS, ids=lambda f: f["decide"])
def test_a_decision_from_a_second_tab_after_the_decision_says_it_is_decided(
    client_for, reviewer, submitted, form
):
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    version = page_version(client, submitted)
    assert (
        client.post(url, {"decide": "approve", "note": "", "version": version}).status_code == 302
    )
    before = _frozen(submitted)

    response = client.post(url, {**form, "version": version}, follow=True)

    assert response.status_code == 200
    assert "This application is approved; the decision stands unless an admin reopens it" in _text(
        response
    )
    assert _frozen(submitted) == before


def test_a_decision_without_a_version_is_refused(client_for, reviewer, submitted):
    before = _frozen(submitted)
    response = client_for(reviewer).post(
        reverse("review_application", args=[submitted.pk]), {"decide": "approve", "note": ""}
    )
    assert response.status_code == 200
    assert "changed since you opened it" in _text(response)
    assert _frozen(submitted) == before


def test_a_correction_and_a_waiver_from_a_stale_page_name_who_holds_it(
    client_for, reviewer, riley, submitted
):
    flag = FlagFactory(application=submitted, title="Deposit missing", severity="high")
    field = Field.objects.get(document__application=submitted, key="gross_pay")
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    client.get(url)
    application_claim(application=submitted, reviewer=riley)
    before = _frozen(submitted)

    corrected = client.post(url, {"correct": field.pk, "value": "1.00", "reason": "x"})
    waived = client.post(url, {"waive": flag.pk, "note": "fine"})
    reopened = client.post(url, {"reopen_flag": flag.pk, "note": "again"})

    for response in (corrected, waived, reopened):
        assert response.status_code == 200
        assert "Riley is working on this application" in _text(response)
    assert _frozen(submitted) == before
    assert Flag.objects.get(pk=flag.pk).status == Flag.Status.OPEN


@pytest.fixture
def ready(application, document, applicant):
    """An application whose applicant has checked every value and may submit."""
    for field in document.fields.all():
        field_confirm(field=field, actor=applicant)
    return application


def test_a_double_submit_is_idempotent(client_for, applicant, ready):
    client = client_for(applicant)
    url = reverse("application_detail", args=[ready.pk])
    form = {"submit": "1", "confirm_submit": "1"}
    assert client.post(url, form).status_code == 302
    submitted_at = Application.objects.get(pk=ready.pk).submitted_at
    events = AuditEvent.objects.count()

    response = client.post(url, form, follow=True)

    assert response.status_code == 200
    assert "was already submitted; it is now submitted. Nothing changed." in _text(response)
    assert Application.objects.get(pk=ready.pk).submitted_at == submitted_at
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("confirming", [True, False], ids=["confirm_page", "first_step"])
def test_back_and_submit_after_a_reviewer_claimed_is_a_plain_message(
    client_for, applicant, reviewer, ready, confirming
):
    client = client_for(applicant)
    url = reverse("application_detail", args=[ready.pk])
    client.post(url, {"submit": "1", "confirm_submit": "1"})
    application_claim(application=ready, reviewer=reviewer)
    before = _frozen(ready)

    form = {"submit": "1", "confirm_submit": "1"} if confirming else {"submit": "1"}
    response = client.post(url, form, follow=True)

    assert response.status_code == 200
    assert "was already submitted; it is now in review. Nothing changed." in _text(response)
    assert _frozen(ready) == before


def test_an_upload_or_edit_from_a_page_opened_before_submission_is_refused_plainly(
    client_for, applicant, ready
):
    client = client_for(applicant)
    url = reverse("application_detail", args=[ready.pk])
    client.post(url, {"submit": "1", "confirm_submit": "1"})
    before = _frozen(ready)
    field = Field.objects.filter(document__application=ready).first()

    uploaded = client.post(
        url, {"upload": "1", "files": [upload("late.pdf", pdf_bytes())]}, follow=True
    )
    edited = client.post(reverse("field_update", args=[field.pk]), {"value": "x", "save": "1"})

    assert uploaded.status_code == 200
    assert "submitted, so it can no longer be changed" in _text(uploaded)
    assert edited.status_code == 200
    assert "submitted, so it can no longer be changed" in _text(edited)
    assert _frozen(ready) == before
