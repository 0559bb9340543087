"""The reviewer's screens: queue filters, claiming and taking over, an admin's reassignment,
approving over serious flags, and the keyboard shortcuts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from applications.claims import ClaimHeldByOther
from applications.models import Application
from review.models import Decision
from review.services import (
    application_assign,
    application_claim,
    application_decide,
    field_correct,
)
from review.versions import application_version
from rules.models import Severity
from tests.factories import (
    DocumentTypeFactory,
    FlagFactory,
    ReviewerFactory,
    SubmittedApplicationFactory,
)

from .conftest import build_document, page_version


@pytest.fixture
def riley(db):
    return ReviewerFactory(email="riley@example.com", full_name="Riley")


def test_queue_filters_by_severity_and_document_type(client_for, reviewer, submitted):
    flagged = SubmittedApplicationFactory()
    FlagFactory(application=flagged, severity=Severity.CRITICAL)
    FlagFactory(application=flagged, severity=Severity.LOW)
    w2 = SubmittedApplicationFactory()
    build_document(w2)
    w2.documents.update(document_type=DocumentTypeFactory(key="w2", label="W-2"))
    client = client_for(reviewer)

    page = client.get(reverse("review_queue"), {"severity": "critical"}).content.decode()
    assert flagged.reference in page
    assert submitted.reference not in page and w2.reference not in page
    assert "1 critical" in page and "1 low" in page

    page = client.get(reverse("review_queue"), {"document_type": "w2"}).content.decode()
    assert w2.reference in page
    assert flagged.reference not in page and submitted.reference not in page


def test_queue_orders_by_risk_then_age(reviewer, client_for):
    old_low = SubmittedApplicationFactory(risk_score=1)
    high = SubmittedApplicationFactory(risk_score=70)
    new_low = SubmittedApplicationFactory(risk_score=1)
    Application.objects.filter(pk=old_low.pk).update(
        submitted_at=new_low.submitted_at.replace(year=2020)
    )
    page = client_for(reviewer).get(reverse("review_queue")).content.decode()
    positions = [page.index(a.reference) for a in (high, old_low, new_low)]
    assert positions == sorted(positions)


def test_the_waiting_queue_reads_in_the_order_of_its_own_index(reviewer):
    """The default queue (every status waiting for a reviewer) must match the partial index
    that serves it, in statuses and in order, or PostgreSQL sorts every waiting application for
    each page (222 ms for page 150 of 100,000; 26 ms in the index's order: bench/load), and a
    page after a cursor must be one range of it."""
    from django.db.models import F

    from review.selectors import QUEUE_RANK, review_queue

    index = next(i for i in Application._meta.indexes if i.name == "application_waiting_queue")
    (lookup, statuses), *_ = index.condition.children
    assert lookup == "status__in"
    assert set(statuses) == Application.REVIEWABLE
    queryset = review_queue(user=reviewer)
    assert [o.expression for o in queryset.query.order_by] == [
        QUEUE_RANK,
        F("submitted_at"),
        F("pk"),
    ]
    assert all(not o.descending for o in queryset.query.order_by)
    assert list(index.expressions) == [QUEUE_RANK, F("submitted_at"), F("id")]


def test_queue_pages_take_a_fixed_number_of_queries(
    reviewer, client_for, django_assert_max_num_queries
):
    for score in range(30):
        FlagFactory(application=SubmittedApplicationFactory(risk_score=score))
    client = client_for(reviewer)
    first = client.get(reverse("review_queue")).context["page"]
    for query in (
        {},
        {"after": first.next},
        {"before": first.next},
        {"severity": "high", "assigned": "none"},
    ):
        with django_assert_max_num_queries(8):
            assert client.get(reverse("review_queue"), query).status_code == 200


def test_only_an_admin_takes_over_a_claim(reviewer, riley, auditor, submitted):
    application_claim(application=submitted, reviewer=riley)
    with pytest.raises(ClaimHeldByOther, match="Riley is working on this"):
        application_claim(application=submitted, reviewer=reviewer)
    with pytest.raises(ClaimHeldByOther, match="Riley is working on this"):
        application_claim(application=submitted, reviewer=reviewer, take_over=True)
    submitted.refresh_from_db()
    assert submitted.assigned_to == riley
    application_claim(application=submitted, reviewer=auditor, take_over=True)
    submitted.refresh_from_db()
    assert submitted.assigned_to == auditor


def test_nobody_but_the_assignee_changes_values_or_decides(reviewer, riley, submitted):
    application_claim(application=submitted, reviewer=riley)
    field = submitted.documents.get().fields.get(key="gross_pay")
    with pytest.raises(PermissionDenied):
        field_correct(field=field, value="1.00", actor=reviewer)
    with pytest.raises(PermissionDenied):
        application_decide(
            application=submitted,
            version=application_version(application=submitted),
            reviewer=reviewer,
            kind="approve",
        )
    assert not Decision.objects.exists()


def test_the_review_page_says_who_is_working_on_it_and_offers_take_over_to_admins(
    client_for, reviewer, riley, auditor, submitted
):
    application_claim(application=submitted, reviewer=riley)
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    page = client.get(url).content.decode()
    assert "Riley is working on this" in page
    assert "Ask Riley to release it" in page
    assert 'name="take_over"' not in page
    assert 'name="decide"' not in page and 'name="correct"' not in page
    client.post(url, {"take_over": "1"})
    submitted.refresh_from_db()
    assert submitted.assigned_to == riley
    admin = client_for(auditor)
    assert 'name="take_over"' in admin.get(url).content.decode()
    admin.post(url, {"take_over": "1"})
    submitted.refresh_from_db()
    assert submitted.assigned_to == auditor


def test_an_admin_reassigns_and_a_reviewer_cannot(client_for, auditor, reviewer, riley, submitted):
    application_claim(application=submitted, reviewer=riley)
    with pytest.raises(PermissionDenied):
        application_assign(application=submitted, assignee=reviewer, actor=riley)
    url = reverse("review_application", args=[submitted.pk])
    assert 'name="assign"' not in client_for(reviewer).get(url).content.decode()
    response = client_for(auditor).post(url, {"assign": "1", "assignee": reviewer.pk})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.assigned_to == reviewer
    application_assign(application=submitted, assignee=None, actor=auditor)
    submitted.refresh_from_db()
    assert submitted.assigned_to is None


def test_an_applicant_cannot_be_assigned(auditor, applicant, submitted):
    with pytest.raises(ValidationError):
        application_assign(application=submitted, assignee=applicant, actor=auditor)


def test_approving_over_open_serious_flags_needs_confirmation_and_a_note(reviewer, submitted):
    FlagFactory(application=submitted, severity=Severity.HIGH)
    with pytest.raises(ValidationError, match="1 high or critical flag is still open"):
        application_decide(
            application=submitted,
            version=application_version(application=submitted),
            reviewer=reviewer,
            kind="approve",
        )
    with pytest.raises(ValidationError):
        application_decide(
            application=submitted,
            version=application_version(application=submitted),
            reviewer=reviewer,
            kind="approve",
            confirm_open_flags=True,
        )
    with pytest.raises(ValidationError):
        application_decide(
            application=submitted,
            version=application_version(application=submitted),
            reviewer=reviewer,
            kind="approve",
            note="Fine.",
        )
    decision = application_decide(
        application=submitted,
        version=application_version(application=submitted),
        reviewer=reviewer,
        kind="approve",
        note="Employer confirmed the bonus by phone.",
        confirm_open_flags=True,
    )
    assert decision.kind == Decision.Kind.APPROVE


def test_low_flags_do_not_need_confirmation(reviewer, submitted):
    FlagFactory(application=submitted, severity=Severity.LOW)
    application_decide(
        application=submitted,
        version=application_version(application=submitted),
        reviewer=reviewer,
        kind="approve",
    )
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.APPROVED


def test_the_review_page_asks_for_confirmation_and_lists_shortcuts(client_for, reviewer, submitted):
    FlagFactory(application=submitted, severity=Severity.CRITICAL)
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    page = client.get(url).content.decode()
    assert 'name="confirm_open_flags"' in page
    assert "Keyboard shortcuts" in page and "<kbd>j</kbd>" in page
    version = page_version(client, submitted)
    response = client.post(url, {"decide": "approve", "note": "", "version": version})
    assert "still open" in response.content.decode()
    response = client.post(
        url,
        {
            "decide": "approve",
            "note": "Checked with HR.",
            "confirm_open_flags": "1",
            "version": version,
        },
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.APPROVED
