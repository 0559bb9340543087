"""The people's side of the workflow: corrections, submission, review and the audit trail."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from applications.models import Application
from applications.services import application_create
from extraction.history import verify_chain
from extraction.models import Field, FieldRevision
from extraction.progress import application_documents_changed
from review.models import Decision
from review.services import (
    NotReady,
    application_claim,
    application_decide,
    application_submit,
    field_confirm,
    field_correct,
    fields_confirm_remaining,
)
from review.versions import application_version
from rules.models import Flag
from rules.services import flag_waive
from tests.builders import PAY_STUB_VALUES as STUB
from tests.builders import document_with_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model, staff_groups):
    applicant = django_user_model.objects.create_user(email="jordan@example.com", password="x")
    other = django_user_model.objects.create_user(email="other@example.com", password="x")
    reviewer = django_user_model.objects.create_user(email="riley@example.com", password="x")
    reviewer.groups.add(staff_groups["Reviewers"])
    return applicant, other, reviewer


@pytest.fixture
def stub(people, shipped_types):
    applicant = people[0]
    application = application_create(owner=applicant, stated_name="Jordan A. Rivera")
    document = document_with_fields(application, shipped_types["pay_stub"], STUB)
    application_documents_changed(application=application)
    application.refresh_from_db()
    return application, document


def field(document, key) -> Field:
    return document.fields.get(key=key)


def test_a_correction_appends_a_revision_and_keeps_the_machines_value(people, stub):
    applicant = people[0]
    application, document = stub

    field_correct(
        field=field(document, "net_pay"), value="1,897.60", actor=applicant, reason="typo"
    )

    net = field(document, "net_pay")
    assert (net.value, net.normalized, net.machine_value) == ("1,897.60", "1897.60", "1,987.60")
    assert net.status == Field.Status.CORRECTED
    history = list(net.revisions.values_list("number", "value", "role", "actor__email", "reason"))
    assert history == [
        (1, "1,987.60", "machine", None, ""),
        (2, "1,897.60", "applicant", "jordan@example.com", "typo"),
    ]
    assert verify_chain(net.revisions.all())


def test_a_value_that_is_not_of_the_fields_kind_is_refused_and_nothing_changes(people, stub):
    applicant = people[0]
    _, document = stub
    with pytest.raises(ValidationError) as excinfo:
        field_correct(field=field(document, "pay_date"), value="31/31/2026", actor=applicant)
    assert "date" in " ".join(excinfo.value.messages).lower()
    pay_date = field(document, "pay_date")
    assert pay_date.value == "2026-10-20"
    assert pay_date.revisions.count() == 1


def test_another_applicant_cannot_change_a_value(people, stub):
    _, other, _ = people
    _, document = stub
    with pytest.raises(PermissionDenied):
        field_correct(field=field(document, "net_pay"), value="1.00", actor=other)
    with pytest.raises(PermissionDenied):
        field_confirm(field=field(document, "net_pay"), actor=other)


def test_submitting_needs_every_value_checked(people, stub):
    applicant = people[0]
    application, document = stub
    with pytest.raises(NotReady) as excinfo:
        application_submit(application=application, actor=applicant)
    assert "9 values still to confirm or correct." in excinfo.value.messages

    assert fields_confirm_remaining(document=document, actor=applicant) == 9
    application = application_submit(application=application, actor=applicant)
    assert application.status == Application.Status.SUBMITTED
    assert application.submitted_at is not None


def test_a_large_change_of_an_amount_raises_a_flag_that_resolves_when_undone(people, stub):
    applicant = people[0]
    application, document = stub
    field_correct(field=field(document, "gross_pay"), value="3,600.00", actor=applicant)
    flag = application.flags.get(rule_key="money_changed")
    assert flag.status == Flag.Status.OPEN
    assert "2,600.00" in flag.message and "3,600.00" in flag.message
    application.refresh_from_db()
    assert application.risk_score >= 20

    field_correct(field=field(document, "gross_pay"), value="2,600.00", actor=applicant)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED
    application.refresh_from_db()
    assert application.risk_score < 20


def test_review_request_changes_then_approve(people, stub):
    applicant, _, reviewer = people
    application, document = stub
    fields_confirm_remaining(document=document, actor=applicant)
    application_submit(application=application, actor=applicant)

    application = application_claim(application=application, reviewer=reviewer)
    assert (application.status, application.assigned_to) == ("in_review", reviewer)
    with pytest.raises(ValidationError):
        application_decide(
            application=application,
            version=application_version(application=application),
            reviewer=reviewer,
            kind="request_changes",
        )
    application_decide(
        application=application,
        version=application_version(application=application),
        reviewer=reviewer,
        kind="request_changes",
        note="Net pay?",
        reopen_fields=[field(document, "net_pay").pk],
    )
    application.refresh_from_db()
    assert application.status == Application.Status.CHANGES_REQUESTED
    # Only what the reviewer reopened can change.
    with pytest.raises(PermissionDenied, match="did not ask you to change Gross pay"):
        field_correct(field=field(document, "gross_pay"), value="1.00", actor=applicant)

    field_correct(field=field(document, "net_pay"), value="1,987.61", actor=applicant)
    application = application_submit(application=application, actor=applicant)
    assert application.status == Application.Status.SUBMITTED
    application_decide(
        application=application,
        version=application_version(application=application),
        reviewer=reviewer,
        kind="approve",
    )
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert set(document.fields.values_list("status", flat=True)) == {Field.Status.VERIFIED}
    assert list(application.decisions.values_list("kind", flat=True)) == [
        Decision.Kind.APPROVE,
        Decision.Kind.REQUEST_CHANGES,
    ]
    # Decided applications are closed to the applicant.
    with pytest.raises(PermissionDenied):
        field_correct(field=field(document, "net_pay"), value="1.00", actor=applicant)


def test_a_reviewers_correction_is_recorded_with_the_reviewer_role(people, stub):
    applicant, _, reviewer = people
    application, document = stub
    fields_confirm_remaining(document=document, actor=applicant)
    application_submit(application=application, actor=applicant)
    field_correct(
        field=field(document, "employer_name"),
        value="Northwind Logistics, LLC",
        actor=reviewer,
        reason="Matches the W-2",
    )
    last = field(document, "employer_name").revisions.order_by("-number").first()
    assert (last.role, last.actor, last.reason) == ("reviewer", reviewer, "Matches the W-2")


def test_an_applicant_cannot_review(people, stub):
    applicant = people[0]
    application, document = stub
    fields_confirm_remaining(document=document, actor=applicant)
    application_submit(application=application, actor=applicant)
    with pytest.raises(PermissionDenied):
        application_decide(
            application=application,
            version=application_version(application=application),
            reviewer=applicant,
            kind="approve",
        )


def test_waiving_a_flag_needs_a_note(people, stub):
    applicant, _, reviewer = people
    application, document = stub
    field_correct(field=field(document, "gross_pay"), value="3,600.00", actor=applicant)
    fields_confirm_remaining(document=document, actor=applicant)
    application_submit(application=application, actor=applicant)
    flag = application.flags.get(rule_key="money_changed")
    with pytest.raises(ValidationError):
        flag_waive(flag=flag, actor=reviewer, note=" ")
    flag = flag_waive(flag=flag, actor=reviewer, note="Bonus month, seen the bank deposit.")
    assert (flag.status, flag.resolved_by) == (Flag.Status.WAIVED, reviewer)


def test_history_cannot_be_rewritten_and_tampering_shows(stub):
    _, document = stub
    revision = field(document, "net_pay").revisions.get()
    revision.value = "9,999.99"
    with pytest.raises(ValidationError):
        revision.save()
    with pytest.raises(ValidationError):
        FieldRevision.objects.filter(pk=revision.pk).update(value="1")
    with pytest.raises(ValidationError):
        revision.delete()
    # Raw SQL behind the application's back is refused by the database itself
    # (tests/audit/test_verify_history.py shows what verification finds when it is not).
    from django.db import DatabaseError, connection, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE extraction_fieldrevision SET value = %s WHERE id = %s", ["1.00", revision.pk]
        )
    assert verify_chain(field(document, "net_pay").revisions.all())
