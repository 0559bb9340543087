"""The admin's history: every kind of audit event, filtered, paged by keyset, exported as CSV
that a spreadsheet cannot run; and the accuracy report's notion of a correction."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from applications.models import Application
from audit.models import Action, AuditEvent
from audit.services import audit_record
from review.reports import field_accuracy
from review.services import field_correct
from tests.factories import ApplicationFactory

from .conftest import build_document

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def trail(submitted, reviewer, auditor):
    """Besides the machine's readings: one event of each other family, on ``submitted``."""
    for action, actor, role, data in (
        (Action.FLAG_RAISED, None, Role.MACHINE, {"rule": "income_matches"}),
        (Action.APPLICATION_CLAIMED, reviewer, Role.REVIEWER, {}),
        (Action.FLAG_WAIVED, reviewer, Role.REVIEWER, {"note": "Bonus month, see HR letter."}),
        (Action.DOCUMENT_RETYPED, reviewer, Role.REVIEWER, {"from": "w2", "to": "pay_stub"}),
        (Action.APPLICATION_APPROVED, reviewer, Role.REVIEWER, {"note": "All checked."}),
    ):
        audit_record(action=action, actor=actor, role=role, application=submitted, data=data)
    audit_record(action=Action.RULE_ENABLED, actor=auditor, role=Role.ADMIN, data={"rule": 7})
    return submitted


def test_the_history_shows_every_kind_of_event(client_for, auditor, trail):
    response = client_for(auditor).get(reverse("revision_history"))
    page = response.content.decode()
    actions = {event.action for event in response.context["rows"]}
    assert {
        "field.extracted",
        "flag.raised",
        "flag.waived",
        "application.claimed",
        "document.retyped",
        "application.approved",
        "rule.enabled",
    } <= actions
    assert "Bonus month, see HR letter." in page and "Rule enabled" in page


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"action": "flag.waived"}, {"flag.waived"}),
        ({"action": "flag."}, {"flag.raised", "flag.waived"}),
        ({"actor_email": "auditor@"}, {"rule.enabled"}),
        (
            {"role": "reviewer", "action": "application."},
            {"application.claimed", "application.approved"},
        ),
    ],
)
def test_the_history_filters_by_action_family_and_actor(
    client_for, auditor, trail, filters, expected
):
    rows = client_for(auditor).get(reverse("revision_history"), filters).context["rows"]
    assert {event.action for event in rows} == expected


def test_the_history_filters_by_application_and_date_range(client_for, auditor, trail, applicant):
    other = ApplicationFactory(owner=applicant)
    build_document(other)
    client = client_for(auditor)
    rows = client.get(reverse("revision_history"), {"application_reference": trail.reference})
    assert rows.context["rows"] and {e.application_id for e in rows.context["rows"]} == {trail.pk}
    # Typed in small letters, with spaces around it, by the phone.
    typed = f"  {trail.reference.lower()} "
    rows = client.get(reverse("revision_history"), {"application_reference": typed})
    assert {e.application_id for e in rows.context["rows"]} == {trail.pk}
    today = timezone.localdate()
    everything = client.get(
        reverse("revision_history"), {"date_from": today.isoformat(), "date_to": today.isoformat()}
    ).context["rows"]
    assert len(everything) == AuditEvent.objects.count()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert (
        list(client.get(reverse("revision_history"), {"date_from": tomorrow}).context["rows"]) == []
    )


def test_keyset_pages_walk_the_whole_trail_without_gaps_or_repeats(client_for, auditor):
    for n in range(120):
        audit_record(action=Action.RULE_CHANGED, role=Role.ADMIN, data={"n": n})
    client = client_for(auditor)
    seen, url, params = [], reverse("revision_history"), {"action": "rule.changed"}
    response = client.get(url, params)
    while True:
        page = response.context["page"]
        seen.extend(event.sequence for event in page.rows)
        if page.older_before is None:
            break
        response = client.get(url, {**params, "before": page.older_before})
    assert len(seen) == 120 and seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 120
    # Newer from the last page leads back to the page before it.
    newer = client.get(url, {**params, "after": response.context["page"].newer_after})
    assert [e.sequence for e in newer.context["rows"]] == seen[50:100]


def test_events_recorded_between_page_loads_neither_repeat_nor_hide_older_ones(client_for, auditor):
    for n in range(110):
        audit_record(action=Action.RULE_CHANGED, role=Role.ADMIN, data={"n": n})
    before = set(AuditEvent.objects.values_list("sequence", flat=True))
    client = client_for(auditor)
    url, params = reverse("revision_history"), {"role": Role.ADMIN}
    response, seen = client.get(url, params), []
    while True:
        page = response.context["page"]
        seen.extend(event.sequence for event in page.rows)
        if page.older_before is None:
            break
        # New events land on the newest page, never on the ones still to be read.
        for n in range(7):
            audit_record(action=Action.RULE_CHANGED, role=Role.ADMIN, data={"late": n})
        response = client.get(url, {**params, "before": page.older_before})
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen))
    admin_before = set(
        AuditEvent.objects.filter(sequence__in=before, role=Role.ADMIN).values_list(
            "sequence", flat=True
        )
    )
    assert admin_before <= set(seen)


@pytest.mark.parametrize(
    "cursor",
    ["x", "", "-1", "0", "1.5", "99999999999999999999999", "-99999999999999999999999", "1e9"],
)
def test_a_tampered_history_cursor_reads_a_plain_page(client_for, auditor, trail, cursor):
    client = client_for(auditor)
    for name in ("before", "after"):
        response = client.get(reverse("revision_history"), {name: cursor})
        assert response.status_code == 200
        assert "Traceback" not in response.content.decode()


def test_the_csv_neutralises_cells_a_spreadsheet_would_run(
    client_for, auditor, submitted, reviewer
):
    # "-2+3" is a formula; a plain number such as "-612.45" cannot run and stays a number.
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
    for note in hostile:
        audit_record(
            action=Action.FLAG_WAIVED,
            actor=reviewer,
            role=Role.REVIEWER,
            application=submitted,
            data={"note": note},
        )
    rows = _csv(
        client_for(auditor).get(reverse("revision_history_export"), {"action": "flag.waived"})
    )
    assert sorted(row["note"] for row in rows) == sorted(f"'{note}" for note in hostile)
    assert all(not row["note"].startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows)


def test_the_csv_holds_every_kind_of_event_the_filters_show(client_for, auditor, trail):
    rows = _csv(
        client_for(auditor).get(
            reverse("revision_history_export"), {"application_reference": trail.reference}
        )
    )
    assert len(rows) == AuditEvent.objects.filter(application_id=trail.pk).count()
    approved = next(row for row in rows if row["action"] == "application.approved")
    assert (approved["note"], approved["actor"], approved["event"]) == (
        "All checked.",
        "reviewer@example.com",
        "Application approved",
    )
    assert all(len(row["mac"]) == 64 for row in rows)


def test_the_history_page_runs_a_constant_number_of_queries(
    client_for, auditor, trail, django_assert_max_num_queries
):
    client = client_for(auditor)
    client.get(reverse("revision_history"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("revision_history"))
    for n in range(60):
        audit_record(action=Action.RULE_CHANGED, role=Role.ADMIN, data={"n": n})
    build_document(trail)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("revision_history"))


# --- The accuracy report --------------------------------------------------------------------


def _approve(application) -> None:
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.APPROVED, decided_at=timezone.now()
    )


def _accuracy() -> dict:
    return {row.field_key: row for row in field_accuracy()}


def test_an_edit_that_ends_back_at_the_machines_value_is_no_correction(submitted, applicant):
    Application.objects.filter(pk=submitted.pk).update(status=Application.Status.AWAITING_APPLICANT)
    gross = submitted.documents.get().fields.get(key="gross_pay")
    field_correct(field=gross, value="4,100.00", actor=applicant, reason="Bonus")
    field_correct(field=gross, value="$4,250.00", actor=applicant, reason="No, it was right")
    _approve(submitted)
    row = _accuracy()["gross_pay"]
    assert (row.total, row.corrected) == (1, 0)


def test_a_reviewers_change_counts_for_the_reviewer_even_after_the_applicants(
    submitted, applicant, reviewer
):
    Application.objects.filter(pk=submitted.pk).update(status=Application.Status.AWAITING_APPLICANT)
    gross = submitted.documents.get().fields.get(key="gross_pay")
    field_correct(field=gross, value="4,100.00", actor=applicant, reason="Bonus")
    Application.objects.filter(pk=submitted.pk).update(status=Application.Status.SUBMITTED)
    gross.refresh_from_db()
    field_correct(field=gross, value="4,000.00", actor=reviewer, reason="Per HR letter")
    pay_date = submitted.documents.get().fields.get(key="pay_date")
    field_correct(field=pay_date, value="01/16/2026", actor=reviewer, reason="Stub says 16th")
    _approve(submitted)
    rows = _accuracy()
    assert (rows["gross_pay"].by_reviewer, rows["gross_pay"].by_applicant) == (1, 0)
    assert (rows["pay_date"].by_reviewer, rows["pay_date"].by_applicant) == (1, 0)
    assert rows["employee_ssn"].corrected == 0


def test_a_reviewer_who_puts_the_machines_value_back_leaves_no_correction(
    submitted, applicant, reviewer
):
    Application.objects.filter(pk=submitted.pk).update(status=Application.Status.AWAITING_APPLICANT)
    gross = submitted.documents.get().fields.get(key="gross_pay")
    field_correct(field=gross, value="4,100.00", actor=applicant, reason="Bonus")
    Application.objects.filter(pk=submitted.pk).update(status=Application.Status.SUBMITTED)
    gross.refresh_from_db()
    field_correct(field=gross, value="$4,250.00", actor=reviewer, reason="The stub is right")
    _approve(submitted)
    assert _accuracy()["gross_pay"].corrected == 0


@pytest.mark.parametrize(
    ("filters", "index"),
    [({"role": Role.APPLICANT}, "audit_event_role"), ({"field_key": "net_pay"}, "field_key")],
)
def test_a_filtered_history_page_reads_an_index_newest_first(filters, index):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    from audit.selectors import audit_event_list

    events = audit_event_list(**filters).filter(sequence__lt=1000)[:51]
    sql, params = events.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan Backward using audit_event_" in plan and index in plan, plan
    assert "Sort" not in plan
