"""The claim matrix: every staff write by the holder, another reviewer, an admin, on an
unclaimed application and after the final decision, with the outcome each must have."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.claims import ApplicationClosed, ClaimHeldByOther
from applications.models import Application
from audit.models import Action, AuditEvent
from review.models import Decision
from review.services import (
    application_assign,
    application_claim,
    application_decide,
    application_release,
    application_reopen,
    field_correct,
)
from review.versions import application_snapshot, application_version
from rules.models import Flag, Severity
from rules.services import flag_reopen, flag_waive, flags_waive
from tests.factories import FlagFactory, ReviewerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def riley(db):
    return ReviewerFactory(email="riley@example.com", full_name="Riley")


@pytest.fixture
def case(submitted):
    """A submitted application with an open low flag and a waived one."""
    FlagFactory(application=submitted, severity=Severity.LOW, title="Open one")
    FlagFactory(
        application=submitted,
        severity=Severity.LOW,
        title="Waived one",
        status=Flag.Status.WAIVED,
        note="Seen the bank statement.",
    )
    return submitted


def _correct(application, actor):
    field = application.documents.get().fields.get(key="gross_pay")
    field_correct(field=field, value="4,200.00", actor=actor, reason="Per the employer")


def _waive(application, actor):
    flag = application.flags.get(title="Open one")
    flag_waive(flag=flag, actor=actor, note="Known bonus")


def _waive_several(application, actor):
    flags = application.flags.filter(status=Flag.Status.OPEN).values_list("pk", flat=True)
    flags_waive(application=application, flag_ids=list(flags), actor=actor, note="Known bonus")


def _reopen_flag(application, actor):
    flag = application.flags.get(title="Waived one")
    flag_reopen(flag=flag, actor=actor, note="Statement is from the wrong month")


def _decide(kind, **extra):
    def act(application, actor):
        application_decide(
            application=application,
            reviewer=actor,
            kind=kind,
            version=application_version(application=application),
            note="Looked at everything.",
            **extra,
        )

    return act


WRITES = {
    "correct": _correct,
    "waive": _waive,
    "waive_several": _waive_several,
    "reopen_flag": _reopen_flag,
    "request_changes": _decide("request_changes", allow_uploads=True),
    "approve": _decide("approve"),
    "reject": _decide("reject"),
}

# situation -> (who acts, what must happen)
SITUATIONS = {
    "holder": ("reviewer", "done"),
    "other_reviewer": ("riley", ClaimHeldByOther),
    "admin": ("auditor", ClaimHeldByOther),
    "nobody_claimed": ("reviewer", "done_and_claimed"),
    "after_decision": ("reviewer", ApplicationClosed),
}


def _state(application):
    application.refresh_from_db()
    return (
        application.status,
        application.assigned_to_id,
        application_snapshot(application=application),
        Decision.objects.filter(application=application).count(),
        AuditEvent.objects.filter(application_id=application.pk).count(),
    )


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("write", WRITES)
def test_claim_matrix(write, situation, case, reviewer, riley, auditor):
    """Holder: done. Another reviewer or an admin while someone holds it: refused, naming the
    holder, nothing changed. Unclaimed: claimed first, and the trail says so. After the
    decision: refused until an admin reopens it."""
    people = {"reviewer": reviewer, "riley": riley, "auditor": auditor}
    actor_name, expected = SITUATIONS[situation]
    actor = people[actor_name]
    if situation in ("holder", "after_decision") or situation in ("other_reviewer", "admin"):
        application_claim(application=case, reviewer=reviewer)
    if situation == "after_decision":
        _decide("approve")(case, reviewer)

    if isinstance(expected, type):
        before = _state(case)
        with pytest.raises(expected) as excinfo:
            WRITES[write](case, actor)
        assert _state(case) == before, "A refused write changed something."
        if expected is ClaimHeldByOther:
            assert str(reviewer) in str(excinfo.value)
        else:
            assert "approved" in str(excinfo.value)
        return

    events_before = AuditEvent.objects.filter(application_id=case.pk).count()
    WRITES[write](case, actor)
    case.refresh_from_db()
    events = list(AuditEvent.objects.filter(application_id=case.pk).order_by("sequence"))[
        events_before:
    ]
    assert events, "The write left no audit event."
    claims = [e for e in events if e.action == Action.APPLICATION_CLAIMED]
    if expected == "done_and_claimed":
        assert len(claims) == 1 and claims[0].data["implicit"] is True
        assert claims[0].actor == actor
        assert events[0].action == Action.APPLICATION_CLAIMED
        if write != "request_changes":
            assert case.assigned_to == actor
    else:
        assert claims == []
    # The rules' own acts (flags raised or resolved by a change) are the system's.
    assert all(e.actor_id == actor.pk for e in events if e.role != "system")


def test_a_reviewer_releases_a_claim_and_an_admin_reassigns_both_recorded(
    case, reviewer, riley, auditor
):
    application_claim(application=case, reviewer=reviewer)
    with pytest.raises(ClaimHeldByOther):
        application_release(application=case, reviewer=riley)
    application_release(application=case, reviewer=reviewer)
    case.refresh_from_db()
    assert case.assigned_to is None
    application_assign(application=case, assignee=riley, actor=auditor)
    actions = list(
        AuditEvent.objects.filter(application_id=case.pk).values_list("action", "actor__email")
    )
    assert (Action.APPLICATION_RELEASED, "reviewer@example.com") in actions
    assert (Action.APPLICATION_REASSIGNED, "auditor@example.com") in actions
    reassigned = AuditEvent.objects.get(
        application_id=case.pk, action=Action.APPLICATION_REASSIGNED
    )
    assert reassigned.data == {"from": "", "to": "riley@example.com"}


def test_after_the_decision_only_an_admins_recorded_reopening_changes_anything(
    case, reviewer, auditor
):
    application_claim(application=case, reviewer=reviewer)
    _decide("reject")(case, reviewer)
    with pytest.raises(ApplicationClosed):
        _waive(case, auditor)
    with pytest.raises(Exception, match="Only admins"):
        application_reopen(application=case, actor=reviewer, reason="Oops")
    with pytest.raises(Exception, match="Write why"):
        application_reopen(application=case, actor=auditor, reason=" ")
    application_reopen(application=case, actor=auditor, reason="Applicant sent proof by post.")
    case.refresh_from_db()
    assert (case.status, case.assigned_to, case.decided_at) == (
        Application.Status.IN_REVIEW,
        None,
        None,
    )
    event = AuditEvent.objects.get(application_id=case.pk, action=Action.APPLICATION_REOPENED)
    assert event.data == {
        "reason": "Applicant sent proof by post.",
        "previous_status": "rejected",
    }
    _waive(case, reviewer)  # open again: the next write claims it
    case.refresh_from_db()
    assert case.assigned_to == reviewer


def test_a_waiver_is_never_overwritten(case, reviewer, riley, auditor):
    application_claim(application=case, reviewer=reviewer)
    flag = case.flags.get(title="Open one")
    flag_waive(flag=flag, actor=reviewer, note="First reason")
    with pytest.raises(Exception, match="already waived by") as excinfo:
        flag_waive(flag=flag, actor=reviewer, note="Second reason")
    assert "First reason" in str(excinfo.value)
    flag.refresh_from_db()
    assert (flag.note, flag.resolved_by) == ("First reason", reviewer)
    flag_reopen(flag=flag, actor=reviewer, note="Needs another look")
    flag_waive(flag=flag, actor=reviewer, note="Second reason")
    trail = list(
        AuditEvent.objects.filter(subject_type="flag", subject_id=str(flag.pk))
        .order_by("sequence")
        .values_list("action", "data__note")
    )
    assert trail == [
        (Action.FLAG_WAIVED, "First reason"),
        (Action.FLAG_REOPENED, "Needs another look"),
        (Action.FLAG_WAIVED, "Second reason"),
    ]


def test_the_holder_releases_from_the_review_page(client_for, case, reviewer, riley):
    url = reverse("review_application", args=[case.pk])
    application_claim(application=case, reviewer=reviewer)
    assert 'name="release"' not in client_for(riley).get(url).content.decode()
    client = client_for(reviewer)
    assert 'name="release"' in client.get(url).content.decode()
    response = client.post(url, {"release": "1"}, follow=True)
    assert "is back in the queue" in response.content.decode()
    case.refresh_from_db()
    assert case.assigned_to is None


def test_an_admin_reopens_a_decided_application_from_its_page(client_for, case, reviewer, auditor):
    url = reverse("review_application", args=[case.pk])
    _decide("approve")(case, reviewer)
    assert 'name="reopen_application"' not in client_for(reviewer).get(url).content.decode()
    client = client_for(auditor)
    assert 'name="reopen_application"' in client.get(url).content.decode()
    response = client.post(url, {"reopen_application": "1", "reason": ""}, follow=True)
    assert "Write why the application is reopened." in response.content.decode()
    response = client.post(
        url, {"reopen_application": "1", "reason": "Wrong applicant's stub"}, follow=True
    )
    assert "is open for review again" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Application.Status.IN_REVIEW
