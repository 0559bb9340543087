"""Flags in order of severity, and several waived with one note: each waiver its own audit
event in the reviewer's name, under the application's lock and claim; a stale page, a double
submit and a reviewer without the claim change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.claims import ClaimHeldByOther
from audit.models import Action, AuditEvent
from review.services import application_claim
from rules.models import Flag, Severity
from rules.services import FlagNotOpen, flag_waive, flags_waive
from tests.factories import FlagFactory, ReviewerFactory, SubmittedApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def riley(db):
    return ReviewerFactory(email="riley@example.com", full_name="Riley")


@pytest.fixture
def flags(submitted):
    return {
        severity: FlagFactory(application=submitted, severity=severity, title=f"{severity} flag")
        for severity in (Severity.LOW, Severity.HIGH, Severity.MEDIUM, Severity.CRITICAL)
    }


def _waivers(application):
    return AuditEvent.objects.filter(application_id=application.pk, action=Action.FLAG_WAIVED)


def test_open_flags_are_listed_most_severe_first(client_for, reviewer, submitted, flags):
    flag_waive(flag=flags[Severity.CRITICAL], actor=reviewer, note="Checked by phone")
    html = client_for(reviewer).get(reverse("review_application", args=[submitted.pk])).content
    html = html.decode()
    order = [html.index(f'id="flag-{flags[s].pk}"') for s in ("high", "medium", "low", "critical")]
    assert order == sorted(order), "open HIGH, MEDIUM, LOW, then the waived CRITICAL"


def test_waiving_several_flags_records_each_in_the_reviewers_name(
    client_for, reviewer, submitted, flags
):
    chosen = [flags[Severity.LOW].pk, flags[Severity.MEDIUM].pk, flags[Severity.HIGH].pk]
    response = client_for(reviewer).post(
        reverse("review_application", args=[submitted.pk]),
        {"waive_selected": "1", "flag": chosen, "note": "  Scans read poorly; values checked  "},
        follow=True,
    )
    assert "3 flags waived." in response.content.decode()
    for pk in chosen:
        flag = Flag.objects.get(pk=pk)
        assert (flag.status, flag.resolved_by, flag.note) == (
            Flag.Status.WAIVED,
            reviewer,
            "Scans read poorly; values checked",
        )
    assert Flag.objects.get(pk=flags[Severity.CRITICAL].pk).status == Flag.Status.OPEN
    events = list(_waivers(submitted))
    assert len(events) == 3
    assert {e.data["title"] for e in events} == {"low flag", "medium flag", "high flag"}
    assert all(e.actor_id == reviewer.pk and e.role == "reviewer" for e in events)
    assert all(e.data["note"] == "Scans read poorly; values checked" for e in events)
    submitted.refresh_from_db()
    assert submitted.assigned_to == reviewer, "the first write claims the application"
    assert submitted.risk_score == 50  # only the critical flag is still open


def test_sent_twice_the_second_changes_nothing_and_says_why(client_for, reviewer, submitted, flags):
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    data = {"waive_selected": "1", "flag": [flags["low"].pk, flags["medium"].pk], "note": "Ok"}
    client.post(url, data)
    before = _waivers(submitted).count()
    response = client.post(url, data)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing was waived" in text
    assert f"already waived by {reviewer}" in text
    assert _waivers(submitted).count() == before == 2


def test_a_stale_page_waives_nothing(reviewer, submitted, flags):
    """The page showed three open flags; another tab waived one since. None of the three is
    waived by the older page, and the message names the one already waived."""
    flag_waive(flag=flags["medium"], actor=reviewer, note="Seen the statement")
    ids = [flags["low"].pk, flags["medium"].pk, flags["high"].pk]
    with pytest.raises(FlagNotOpen, match="“medium flag”: It was already waived"):
        flags_waive(application=submitted, flag_ids=ids, actor=reviewer, note="All fine")
    assert Flag.objects.filter(pk__in=[ids[0], ids[2]], status=Flag.Status.OPEN).count() == 2
    assert _waivers(submitted).count() == 1


def test_a_flag_of_another_application_or_gone_is_refused(reviewer, submitted, flags):
    elsewhere = FlagFactory(application=SubmittedApplicationFactory())
    with pytest.raises(FlagNotOpen, match="1 chosen flag no longer exists"):
        flags_waive(
            application=submitted,
            flag_ids=[flags["low"].pk, elsewhere.pk],
            actor=reviewer,
            note="Fine",
        )
    assert not Flag.objects.filter(status=Flag.Status.WAIVED).exists()


def test_another_reviewer_without_the_claim_waives_nothing(
    client_for, reviewer, riley, submitted, flags
):
    application_claim(application=submitted, reviewer=reviewer)
    with pytest.raises(ClaimHeldByOther):
        flags_waive(
            application=submitted, flag_ids=[flags["low"].pk], actor=riley, note="Looks fine"
        )
    response = client_for(riley).post(
        reverse("review_application", args=[submitted.pk]),
        {"waive_selected": "1", "flag": [flags["low"].pk], "note": "Looks fine"},
        follow=True,
    )
    assert response.status_code == 200
    assert f"{reviewer} is working on this application" in response.content.decode()
    assert _waivers(submitted).count() == 0


def test_no_note_or_no_flag_is_a_plain_error(client_for, reviewer, submitted, flags):
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    text = client.post(url, {"waive_selected": "1", "flag": [flags["low"].pk], "note": " "})
    assert "Write a note saying why these flags can be waived." in text.content.decode()
    text = client.post(url, {"waive_selected": "1", "note": "Fine"})
    assert "Choose the flags to waive." in text.content.decode()
    text = client.post(url, {"waive_selected": "1", "flag": ["x"], "note": "Fine"})
    assert text.status_code == 200
    assert _waivers(submitted).count() == 0


def test_an_applicant_cannot_waive(client_for, applicant, submitted, flags):
    response = client_for(applicant).post(
        reverse("review_application", args=[submitted.pk]),
        {"waive_selected": "1", "flag": [flags["low"].pk], "note": "Mine"},
    )
    assert response.status_code in (403, 404)
    with pytest.raises(Exception, match="Only reviewers"):
        flags_waive(application=submitted, flag_ids=[flags["low"].pk], actor=applicant, note="x")
    assert _waivers(submitted).count() == 0
