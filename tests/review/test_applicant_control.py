"""The applicant withdraws an application and corrects what they stated, before submitting:
each recorded in the audit trail, under the application's lock; a stale page, a second click
and another person change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from applications.models import Application
from applications.services import (
    ApplicationLocked,
    StatedLocked,
    application_stated_update,
    application_withdraw,
)
from audit.models import Action, AuditEvent
from extraction.services import document_upload
from review.services import (
    application_claim,
    application_decide,
    application_submit,
    field_correct,
)
from review.versions import application_version
from tests.builders import pdf_bytes, upload
from tests.factories import ApplicationFactory, FlagFactory, UserFactory
from tests.review.races import race

from .conftest import build_document, confirm_as_applicant


def _events(application, action):
    return AuditEvent.objects.filter(application_id=application.pk, action=action)


@pytest.mark.django_db
def test_withdrawing_is_recorded_and_final(client_for, applicant, application, document):
    client = client_for(applicant)
    url = reverse("application_detail", args=[application.pk])
    response = client.post(url, {"withdraw": "1", "reason": "Found another lender"}, follow=True)
    assert f"Application {application.reference} is withdrawn." in response.content.decode()
    assert "You withdrew this application" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    event = _events(application, Action.APPLICATION_WITHDRAWN).get()
    assert (event.actor, event.role) == (applicant, "applicant")
    assert event.data == {"previous_status": "awaiting_applicant", "reason": "Found another lender"}
    # A second click, or the page sent again, records nothing more.
    client.post(url, {"withdraw": "1"})
    assert _events(application, Action.APPLICATION_WITHDRAWN).count() == 1
    # Nothing can be changed or submitted after it.
    with pytest.raises(ApplicationLocked):
        document_upload(
            application=application, uploaded_file=upload("x.pdf", pdf_bytes()), actor=applicant
        )
    with pytest.raises(ApplicationLocked):
        field_correct(field=document.fields.first(), value="x", actor=applicant)
    with pytest.raises(PermissionDenied):
        application_submit(application=application, actor=applicant)
    assert 'name="withdraw"' not in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_submitted_application_cannot_be_withdrawn_from_an_older_page(
    client_for, applicant, application, document
):
    confirm_as_applicant(list(document.fields.all()))
    application_submit(application=application, actor=applicant)
    response = client_for(applicant).post(
        reverse("application_detail", args=[application.pk]), {"withdraw": "1"}, follow=True
    )
    assert "can no longer be changed" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert not _events(application, Action.APPLICATION_WITHDRAWN).exists()


@pytest.mark.django_db
def test_nobody_else_withdraws_or_edits(client_for, other_applicant, reviewer, application):
    for person in (other_applicant, reviewer):
        response = client_for(person).post(
            reverse("application_detail", args=[application.pk]), {"withdraw": "1"}
        )
        assert response.status_code in (403, 404)
        with pytest.raises(PermissionDenied):
            application_withdraw(application=application, actor=person)
        with pytest.raises(PermissionDenied):
            application_stated_update(application=application, actor=person, stated_name="X")
    application.refresh_from_db()
    assert application.status == Application.Status.AWAITING_APPLICANT


@pytest.mark.django_db
def test_stated_values_are_edited_before_submission_and_recorded(
    client_for, applicant, application, document
):
    client = client_for(applicant)
    url = reverse("application_detail", args=[application.pk])
    page = client.get(url).content.decode()
    assert "Change what you told us" in page
    data = {
        "edit_stated": "1",
        "stated-stated_name": "Dana Q. Example",
        "stated-stated_employer": "Acme Corp",
        "stated-stated_monthly_income": "4300.00",
    }
    response = client.post(url, data, follow=True)
    assert "What you told us is saved." in response.content.decode()
    application.refresh_from_db()
    assert (application.stated_name, application.stated_monthly_income) == (
        "Dana Q. Example",
        Decimal("4300.00"),
    )
    event = _events(application, Action.APPLICATION_STATED_CHANGED).get()
    assert event.actor == applicant
    assert set(event.data["changes"]) == {"stated_name", "stated_monthly_income"}
    assert event.data["changes"]["stated_name"] == {"from": "Dana Example", "to": "Dana Q. Example"}
    client.post(url, data)  # the same values again: nothing to record
    assert _events(application, Action.APPLICATION_STATED_CHANGED).count() == 1
    # A bad amount is explained and nothing changes.
    bad = client.post(url, {**data, "stated-stated_monthly_income": "lots"})
    assert "Enter an amount in dollars" in bad.content.decode()
    application.refresh_from_db()
    assert application.stated_monthly_income == Decimal("4300.00")


@pytest.mark.django_db
def test_stated_values_are_fixed_once_submitted(client_for, applicant, application, document):
    confirm_as_applicant(list(document.fields.all()))
    application_submit(application=application, actor=applicant)
    with pytest.raises((StatedLocked, ApplicationLocked)):
        application_stated_update(application=application, actor=applicant, stated_name="New")
    response = client_for(applicant).post(
        reverse("application_detail", args=[application.pk]),
        {"edit_stated": "1", "stated-stated_name": "New"},
        follow=True,
    )
    assert "Change what you told us" not in response.content.decode()
    application.refresh_from_db()
    assert application.stated_name == "Dana Example"


@pytest.mark.django_db(transaction=True)
def test_withdraw_racing_submit_ends_in_one_of_them(staff_groups):
    for _ in range(10):
        owner = UserFactory()
        application = ApplicationFactory(owner=owner)
        _, _, fields = build_document(application)
        confirm_as_applicant(fields)
        outcomes = race(
            lambda a=application, o=owner: application_submit(application=a, actor=o),
            lambda a=application, o=owner: application_withdraw(application=a, actor=o),
        )
        assert [kind for kind, _ in outcomes].count("error") == 0, outcomes
        application.refresh_from_db()
        submitted = _events(application, Action.APPLICATION_SUBMITTED).exists()
        withdrawn = _events(application, Action.APPLICATION_WITHDRAWN).exists()
        assert submitted != withdrawn, (application.status, outcomes)
        assert application.status == (
            Application.Status.SUBMITTED if submitted else Application.Status.WITHDRAWN
        )


@pytest.mark.django_db
def test_a_reply_to_a_request_for_changes_reaches_the_reviewer(
    client_for, applicant, reviewer, submitted
):
    application_claim(application=submitted, reviewer=reviewer)
    application_decide(
        application=submitted,
        reviewer=reviewer,
        kind="request_changes",
        version=application_version(application=submitted),
        note="Is the gross pay right?",
        reopen_fields=[submitted.documents.get().fields.get(key="gross_pay").pk],
    )
    gross = submitted.documents.get().fields.get(key="gross_pay")
    field_correct(field=gross, value="$4,250.00", actor=applicant, reason="Checked again")
    client = client_for(applicant)
    url = reverse("application_detail", args=[submitted.pk])
    confirm = client.post(url, {"submit": "1"}).content.decode()
    assert 'name="reply"' in confirm, confirm[confirm.find("Not submitted") :][:400]
    client.post(url, {"submit": "1", "confirm_submit": "1", "reply": " It is: see line 3. "})
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.SUBMITTED
    event = _events(submitted, Action.APPLICATION_SUBMITTED).order_by("-sequence").first()
    assert event.data["reply"] == "It is: see line 3."
    page = client_for(reviewer).get(reverse("review_application", args=[submitted.pk]))
    assert "The applicant replied" in page.content.decode()
    assert "It is: see line 3." in page.content.decode()


@pytest.mark.django_db
def test_a_first_submission_has_no_reply_box(client_for, applicant, application, document):
    confirm_as_applicant(list(document.fields.all()))
    url = reverse("application_detail", args=[application.pk])
    confirm = client_for(applicant).post(url, {"submit": "1"}).content.decode()
    assert 'name="reply"' not in confirm
    application_submit(application=application, actor=applicant, reply="ignored")
    event = _events(application, Action.APPLICATION_SUBMITTED).get()
    assert "reply" not in event.data


@pytest.mark.django_db
def test_a_nul_character_in_typed_text_is_no_server_error(
    client_for, applicant, reviewer, application, document, submitted
):
    """PostgreSQL stores no NUL (``\\x00``) in text or jsonb: a reason, reply or note holding
    one was a 500 there. It is taken out; the rest of what was typed is kept."""
    client = client_for(applicant)
    url = reverse("application_detail", args=[application.pk])
    other, _, fields = build_document(application)
    response = client.post(url, {"remove": other.pk, "reason": "Wrong\x00 month"})
    assert response.status_code == 302
    assert _events(application, Action.DOCUMENT_REMOVED).get().data["reason"] == "Wrong month"
    # A value's reason (the document still in it), and a reply to a request for changes.
    field = document.fields.get(key="gross_pay")
    client.post(
        reverse("field_update", args=[field.pk]), {"value": "4,100.00", "reason": "Bo\x00nus"}
    )
    assert field.revisions.order_by("-number").first().reason == "Bonus"
    # The reviewer's bulk waiver note.
    flags = [FlagFactory(application=submitted), FlagFactory(application=submitted)]
    page = reverse("review_application", args=[submitted.pk])
    response = client_for(reviewer).post(
        page,
        {"waive_selected": "1", "flag": [f.pk for f in flags], "note": "Checked\x00 by phone"},
    )
    assert response.status_code == 302
    assert {e.data["note"] for e in _events(submitted, Action.FLAG_WAIVED)} == {"Checked by phone"}
    # Withdrawing, last.
    assert client.post(url, {"withdraw": "1", "reason": "Not\x00 needed"}).status_code == 302
    assert _events(application, Action.APPLICATION_WITHDRAWN).get().data["reason"] == "Not needed"
