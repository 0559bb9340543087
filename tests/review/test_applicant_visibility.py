"""The applicant sees only what is meant for them: the reviewer's request for changes and the
fields it names; never flags, fraud signals, risk scores, staff notes or decision notes."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role
from applications.models import Application
from applications.notifications import notify_documents_read
from applications.services import application_create
from extraction.history import RevisionAction, revision_append
from review.models import Decision
from review.notifications import notify_decision
from rules.models import RULE_ERROR_PREFIX, Flag
from rules.services import flags_refresh, rules_sync, shipped_rules
from tests.builders import document_with_fields
from tests.factories import ReviewerFactory, UserFactory
from tests.rules.conftest import consistent_values

pytestmark = pytest.mark.django_db

REQUEST_NOTE = "Please upload a pay stub from this month."
RISK_SCORE = 987_654
STAFF_TEXT = [
    "STAFF-ONLY-approve-note",
    "STAFF-ONLY-reject-note",
    "STAFF-ONLY-waiver-note",
    "STAFF-ONLY-resolution-note",
    "STAFF-ONLY-reviewer-reason",
    "Rule could not run",
    str(RISK_SCORE),
    f"{RISK_SCORE:,}",
]


@pytest.fixture
def flagged(shipped_types):
    """An application carrying a flag of every shipped rule (open, waived and resolved, with
    staff notes), the flags the pack really raises, a rule-error flag, a reviewer's correction
    with its reason, and a risk score; plus another applicant holding the same file."""
    rules_sync()
    owner = UserFactory(email="jordan@example.com")
    reviewer = ReviewerFactory(email="reviewer@example.com")
    application = application_create(
        owner=owner,
        stated_name="Jordan Rivera",
        stated_employer="Someone Else Entirely",
        stated_monthly_income=100,
    )
    values = consistent_values()
    values["pay_stub"].update({"net_pay": "2,900.00", "pay_date": "2020-01-01"})
    values["drivers_license"]["expiration_date"] = "2020-01-01"
    documents = {
        key: document_with_fields(application, shipped_types[key], spec)
        for key, spec in values.items()
    }
    # A fraud signal: the same file in another applicant's application.
    other = application_create(owner=UserFactory(email="other@example.com"), stated_name="Other")
    document_with_fields(other, shipped_types["pay_stub"], {"net_pay": "1.00"})
    flags_refresh(application=application)
    assert application.flags.filter(rule_key="same_file_elsewhere", status="open").exists()

    pay_stub = documents["pay_stub"]
    field = pay_stub.fields.get(key="gross_pay")
    revision_append(
        field=field,
        value="2,600.01",
        actor=reviewer,
        role=Role.REVIEWER,
        action=RevisionAction.CORRECTED,
        reason="STAFF-ONLY-reviewer-reason",
    )
    field.value = "2,600.01"
    field.save(update_fields=["value"])

    statuses = [Flag.Status.OPEN, Flag.Status.WAIVED, Flag.Status.RESOLVED]
    for index, rule in enumerate(shipped_rules()):
        status = statuses[index % 3]
        note = {
            Flag.Status.WAIVED: "STAFF-ONLY-waiver-note",
            Flag.Status.RESOLVED: "STAFF-ONLY-resolution-note",
        }.get(status, "")
        Flag.objects.create(
            application=application,
            document=pay_stub,
            field=field if index % 2 else None,
            rule_key=f"{rule['key']}:synthetic",
            title=rule["title"],
            severity=rule["severity"],
            message=f"STAFF-ONLY-message-{rule['key']}",
            status=status,
            note=note,
            resolved_by=reviewer if note else None,
        )
    Flag.objects.create(
        application=application,
        rule_key=f"{RULE_ERROR_PREFIX}broken",
        title="Rule could not run: Broken",
        severity="info",
        message="STAFF-ONLY-message-rule-error",
    )
    Application.objects.filter(pk=application.pk).update(risk_score=RISK_SCORE)
    application.refresh_from_db()
    forbidden = set(STAFF_TEXT)
    for flag in application.flags.all():
        forbidden |= {flag.title, flag.message}
        forbidden |= {flag.note} if flag.note else set()
    return application, documents, reviewer, sorted(forbidden)


def assert_clean(text: str, forbidden: list[str], where: str) -> None:
    shown = [phrase for phrase in forbidden if phrase and phrase in text]
    assert not shown, f"{where} shows staff-only text: {shown}"


def applicant_pages(client, application, documents) -> dict[str, str]:
    pages = {
        "home": client.get(reverse("home"), follow=True),
        "list": client.get(reverse("application_list")),
        "detail": client.get(reverse("application_detail", args=[application.pk])),
        "documents partial": client.get(
            reverse("application_documents", args=[application.pk]), HTTP_HX_REQUEST="true"
        ),
    }
    for key, document in documents.items():
        pages[f"document {key}"] = client.get(reverse("document_detail", args=[document.pk]))
    return {name: response.content.decode() for name, response in pages.items()}


def test_no_applicant_page_or_email_shows_flags_notes_or_risk(
    flagged, client_for, django_capture_on_commit_callbacks
):
    application, documents, reviewer, forbidden = flagged
    client = client_for(application.owner)
    seen: dict[str, str] = {}

    # While the applicant checks values: every page, a field's partial, the submit summary.
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.AWAITING_APPLICANT
    )
    seen.update(applicant_pages(client, application, documents))
    field = documents["w2"].fields.get(key="wages")
    partial = client.post(
        reverse("field_update", args=[field.pk]),
        {"value": field.value, "confirm": "1"},
        HTTP_HX_REQUEST="true",
    )
    seen["field partial"] = partial.content.decode()
    assert f'id="field-{field.pk}"' in seen["field partial"]
    for document in documents.values():
        document.fields.filter(value="", required=True).update(value="x")
        document.fields.update(status="confirmed")
    confirm = client.post(reverse("application_detail", args=[application.pk]), {"submit": ""})
    seen["submit confirm"] = confirm.content.decode()
    assert "What you changed" in seen["submit confirm"], re.findall(
        r'role="alert">(.*?)</', seen["submit confirm"], re.S
    )

    # Changes requested: the request and its note are shown, nothing behind it.
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.CHANGES_REQUESTED
    )
    request = Decision.objects.create(
        application=application, reviewer=reviewer, kind="request_changes", note=REQUEST_NOTE
    )
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.AWAITING_APPLICANT
    )
    for name, text in applicant_pages(client, application, documents).items():
        seen[f"{name} (changes requested)"] = text
    assert REQUEST_NOTE in seen["detail (changes requested)"]

    # Decided: the outcome, never the reviewer's note.
    for kind, status in (("approve", "approved"), ("reject", "rejected")):
        decision = Decision.objects.create(
            application=application,
            reviewer=reviewer,
            kind=kind,
            note=f"STAFF-ONLY-{kind}-note",
        )
        Application.objects.filter(pk=application.pk).update(status=status)
        for name, text in applicant_pages(client, application, documents).items():
            seen[f"{name} ({status})"] = text
        assert decision.get_kind_display() in seen[f"detail ({status})"]

    # Every e-mail the applicant can receive.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for decision in Decision.objects.filter(application=application):
            notify_decision(decision=decision)
        notify_documents_read(application=application)
    assert len(mail.outbox) == 4
    for message in mail.outbox:
        seen[f"e-mail {message.subject}"] = f"{message.subject}\n{message.body}"
    assert REQUEST_NOTE in next(body for name, body in seen.items() if "please update" in name)

    assert request.pk
    assert len(seen) > 30
    for name, text in seen.items():
        assert_clean(text, forbidden, name)
