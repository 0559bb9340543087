"""Decisions cover exactly what the person saw; values are verified only by a person's act;
the history says what people did, with every reason they typed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from applications.models import Application
from applications.services import ApplicationLocked, DocumentsLocked
from audit.models import Action, AuditEvent
from extraction.models import Field
from extraction.services import document_upload
from review.services import (
    NotReady,
    StaleVersion,
    application_claim,
    application_decide,
    application_submit,
    field_confirm,
    field_correct,
    field_mark_absent,
)
from review.versions import application_changes, application_version
from rules.services import flag_waive
from tests.builders import pdf_bytes, upload
from tests.factories import FieldFactory, FlagFactory

from .conftest import build_document

pytestmark = pytest.mark.django_db


def gross(application) -> Field:
    return Field.objects.get(document__application=application, key="gross_pay")


def revisions(field):
    return list(field.revisions.order_by("number").values_list("action", "value", "reason"))


# --- what the history records ----------------------------------------------------------------


def test_a_change_is_corrected_even_when_the_machine_read_the_old_value(
    application, document, applicant
):
    """625.50 -> 625.55 with no reason is a correction, never a confirmation."""
    field = FieldFactory(
        document=document, key="net", label="Net", kind="money", machine_value="625.50"
    )
    field_correct(field=field, value="625.55", actor=applicant)
    field_correct(field=field, value="625.50", actor=applicant)
    assert [a for a, _, _ in revisions(field)] == ["extracted", "corrected", "corrected"]


def test_saving_the_same_value_again_confirms_and_keeps_a_new_reason(
    application, document, applicant
):
    field = gross(application)
    field_correct(field=field, value=field.value, actor=applicant)
    field_correct(field=field, value=field.value, actor=applicant)  # nothing new: no-op
    field_correct(field=field, value=field.value, actor=applicant, reason="Matches my bank")
    assert revisions(field)[1:] == [
        ("confirmed", "$4,250.00", ""),
        ("confirmed", "$4,250.00", "Matches my bank"),
    ]


def test_staff_corrections_need_a_reason(submitted, reviewer):
    field = gross(submitted)
    with pytest.raises(ValidationError, match="reason"):
        field_correct(field=field, value="4,000.00", actor=reviewer)
    assert gross(submitted).value == "$4,250.00"
    field_correct(field=field, value="4,000.00", actor=reviewer, reason="HR letter")
    event = AuditEvent.objects.filter(action=Action.FIELD_CORRECTED).last()
    assert (event.actor, event.role, event.data["from"], event.data["to"]) == (
        reviewer,
        "reviewer",
        "$4,250.00",
        "4,000.00",
    )
    assert event.data["reason"] == "HR letter"


def test_a_sensitive_values_audit_event_carries_no_value(submitted, reviewer):
    ssn = Field.objects.get(document__application=submitted, key="employee_ssn")
    field_correct(field=ssn, value="123-45-6780", actor=reviewer, reason="Card")
    event = AuditEvent.objects.filter(action=Action.FIELD_CORRECTED).last()
    assert event.data["sensitive"] is True
    assert "123-45-6780" not in str(event.data) and "123-45-6789" not in str(event.data)


def test_every_applicant_act_is_an_audit_event(application, document, applicant):
    fields = list(document.fields.all())
    field_confirm(field=fields[0], actor=applicant)
    field_correct(field=fields[1], value="4,000.00", actor=applicant, reason="Typo")
    field_mark_absent(field=fields[2], actor=applicant, reason="Not printed")
    application_submit(application=application, actor=applicant)
    actions = list(
        AuditEvent.objects.filter(application_id=application.pk)
        .exclude(role="system")  # flags the rules raised or resolved meanwhile
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions[-4:] == [
        Action.FIELD_CONFIRMED,
        Action.FIELD_CORRECTED,
        Action.FIELD_ABSENT,
        Action.APPLICATION_SUBMITTED,
    ]


# --- verified only by a person ---------------------------------------------------------------


def test_approval_verifies_each_value_in_the_reviewers_name(submitted, reviewer):
    application_decide(
        application=submitted,
        reviewer=reviewer,
        kind="approve",
        version=application_version(application=submitted),
    )
    for field in Field.objects.filter(document__application=submitted):
        last = field.revisions.order_by("-number").first()
        assert (field.status, last.action, last.actor, last.role) == (
            "verified",
            "verified",
            reviewer,
            "reviewer",
        )
    assert AuditEvent.objects.filter(action=Action.FIELD_VERIFIED).count() == 3


def test_a_value_nobody_checked_is_never_verified(submitted, reviewer):
    """A document that slipped in unchecked blocks the approval instead of being verified."""
    build_document(submitted)  # three values as read by the machine, checked by nobody
    with pytest.raises(NotReady, match="No person has checked 3 values"):
        application_decide(
            application=submitted,
            reviewer=reviewer,
            kind="approve",
            version=application_version(application=submitted),
        )
    assert not Field.objects.filter(status="verified").exists()
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.SUBMITTED  # the implicit claim rolled back


# --- the version of what the reviewer saw ----------------------------------------------------


def test_a_decision_on_a_page_older_than_the_application_is_refused_with_what_changed(
    submitted, reviewer
):
    seen = application_version(application=submitted)
    field_correct(field=gross(submitted), value="4,000.00", actor=reviewer, reason="HR")
    FlagFactory(application=submitted, title="New finding")
    with pytest.raises(StaleVersion) as excinfo:
        application_decide(application=submitted, reviewer=reviewer, kind="approve", version=seen)
    changes = excinfo.value.changes
    assert any("Gross pay" in c and "4,000.00" in c for c in changes)
    assert "Flag “New finding” was raised." in changes
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.IN_REVIEW
    assert not submitted.decisions.exists()


def test_the_version_hides_values_and_refuses_forgeries(submitted):
    version = application_version(application=submitted)
    assert "4,250" not in version and "123-45" not in version
    assert application_changes(application=submitted, version=version) == []
    assert application_changes(application=submitted, version=version[:-2] + "xx") != []
    assert application_changes(application=submitted, version="") != []


def test_a_sensitive_change_is_named_without_its_value(submitted, reviewer):
    seen = application_version(application=submitted)
    ssn = Field.objects.get(document__application=submitted, key="employee_ssn")
    field_correct(field=ssn, value="123-45-6780", actor=reviewer, reason="Card")
    changes = application_changes(application=submitted, version=seen)
    assert "Employee SSN on “pay-stub.pdf” changed (now: hidden, sensitive, corrected)." in changes
    assert not any("123-45" in change for change in changes)


# --- submission freezes; a request for changes reopens what the reviewer chose ----------------


def test_after_submission_uploads_and_edits_are_refused_plainly(application, document, applicant):
    for field in document.fields.all():
        field_confirm(field=field, actor=applicant)
    application_submit(application=application, actor=applicant)
    with pytest.raises(ApplicationLocked, match="submitted, so it can no longer be changed"):
        document_upload(
            application=application,
            uploaded_file=upload("late.pdf", pdf_bytes()),
            actor=applicant,
        )
    with pytest.raises(ApplicationLocked):
        field_correct(field=gross(application), value="1.00", actor=applicant)
    with pytest.raises(ApplicationLocked):
        field_mark_absent(field=gross(application), actor=applicant)
    assert application.documents.count() == 1


def test_a_double_submit_is_idempotent(application, document, applicant, reviewer):
    for field in document.fields.all():
        field_confirm(field=field, actor=applicant)
    first = application_submit(application=application, actor=applicant)
    application_claim(application=application, reviewer=reviewer)
    again = application_submit(application=application, actor=applicant)
    assert (again.status, again.submitted_at) == (Application.Status.IN_REVIEW, first.submitted_at)
    assert AuditEvent.objects.filter(action=Action.APPLICATION_SUBMITTED).count() == 1


def test_a_request_for_changes_reopens_exactly_what_the_reviewer_chose(
    submitted, reviewer, applicant
):
    net = gross(submitted)
    ssn = Field.objects.get(document__application=submitted, key="employee_ssn")
    with pytest.raises(ValidationError, match="Choose what the applicant should change"):
        application_decide(
            application=submitted,
            reviewer=reviewer,
            kind="request_changes",
            note="Check",
            version=application_version(application=submitted),
        )
    application_decide(
        application=submitted,
        reviewer=reviewer,
        kind="request_changes",
        note="Gross pay looks off.",
        reopen_fields=[net.pk],
        version=application_version(application=submitted),
    )
    net.refresh_from_db()
    submitted.refresh_from_db()
    assert net.status == Field.Status.PROPOSED  # to be checked again
    with pytest.raises(PermissionDenied, match="did not ask you to change Employee SSN"):
        field_correct(field=ssn, value="123-45-6780", actor=applicant)
    with pytest.raises(DocumentsLocked):
        document_upload(
            application=submitted, uploaded_file=upload("x.pdf", pdf_bytes()), actor=applicant
        )
    with pytest.raises(NotReady, match="1 value still to confirm"):
        application_submit(application=submitted, actor=applicant)
    field_correct(field=net, value="4,300.00", actor=applicant, reason="Bonus")
    application_submit(application=submitted, actor=applicant)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.changes_scope) == (Application.Status.SUBMITTED, None)
    event = AuditEvent.objects.get(action=Action.APPLICATION_CHANGES_REQUESTED)
    assert event.data["reopened_fields"] == [net.pk]
    assert event.data["note"] == "Gross pay looks off."


def test_a_flag_waived_from_a_stale_page_names_who_waived_it(submitted, reviewer):
    flag = FlagFactory(application=submitted, title="Deposit missing")
    flag_waive(flag=flag, actor=reviewer, note="Seen it")
    with pytest.raises(ValidationError, match="already waived by"):
        flag_waive(flag=flag, actor=reviewer, note="Me too")


def test_a_reason_typed_beside_confirm_is_kept(client_for, application, document, applicant):
    field = gross(application)
    client = client_for(applicant)
    url = reverse("field_update", args=[field.pk])
    client.post(url, {"confirm": "1", "value": field.value, "reason": "Matches my bank"})
    client.post(url, {"save": "1", "value": field.value, "reason": "Checked twice"})
    assert revisions(field)[1:] == [
        ("confirmed", "$4,250.00", "Matches my bank"),
        ("confirmed", "$4,250.00", "Checked twice"),
    ]
