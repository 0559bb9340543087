"""The history's filters at scale: a range of days is read as a range of sequences, which
holds because the trail's dates never go backwards (the head keeps the last one); the actor's
e-mail is matched through the users' trigram index; a page costs as many queries on any page."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from audit import services
from audit.models import Action, AuditEvent, AuditHead
from audit.selectors import audit_event_list, audit_event_page
from audit.services import audit_record, seal_head
from tests.factories import ReviewerFactory

pytestmark = pytest.mark.django_db

# A local time, made aware in the current time zone where used.
DAY = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001


def _record_on(monkeypatch, moment: datetime, **kwargs) -> AuditEvent:
    monkeypatch.setattr(services.timezone, "now", lambda: moment)
    try:
        return audit_record(role=Role.ADMIN, **kwargs)
    finally:
        monkeypatch.undo()


@pytest.fixture
def days(monkeypatch):
    """Four events a day for five days, from two people and the system; local dates."""
    people = [ReviewerFactory(email="kim@example.com"), ReviewerFactory(email="lou@example.com")]
    start = timezone.make_aware(DAY)
    events = []
    for day in range(5):
        for hour in (0, 5, 10, 14):  # 09:00 to 23:00, the last one just before midnight
            moment = start + timedelta(days=day, hours=hour, minutes=59 if hour == 14 else 0)
            events.append(
                _record_on(
                    monkeypatch,
                    moment,
                    action=Action.RULE_CHANGED,
                    actor=people[hour % 2] if hour < 14 else None,
                    data={"day": day, "hour": hour},
                )
            )
    return events


def _walk(**filters) -> list[int]:
    """Every page of the filtered trail, Older after Older, as sequences."""
    seen, before = [], None
    while True:
        page = audit_event_page(audit_event_list(**filters), before=before, after=None, size=3)
        seen.extend(event.sequence for event in page.rows)
        if page.older_before is None:
            return seen
        before = page.older_before


def _on_days(events, first: int | None, last: int | None) -> list[int]:
    local = [(timezone.localtime(e.created_at).date(), e.sequence) for e in events]
    start = DAY.date()
    return sorted(
        (
            sequence
            for day, sequence in local
            if (first is None or day >= start + timedelta(days=first))
            and (last is None or day <= start + timedelta(days=last))
        ),
        reverse=True,
    )


@pytest.mark.parametrize(
    ("first", "last"), [(1, 2), (0, 0), (4, 4), (1, None), (None, 2), (3, 9), (-9, -1), (6, 8)]
)
def test_a_range_of_days_lists_exactly_the_events_of_those_days(days, first, last):
    start = DAY.date()
    filters = {
        "date_from": start + timedelta(days=first) if first is not None else None,
        "date_to": start + timedelta(days=last) if last is not None else None,
    }
    expected = _on_days(days, first, last)
    if first is None:
        # Events recorded before the fixture's (the migrations', say) are in range too.
        expected += [
            e.sequence
            for e in AuditEvent.objects.filter(sequence__lt=days[0].sequence).order_by("-sequence")
        ]
    assert _walk(**filters) == expected


def test_a_range_of_days_combines_with_the_other_filters(days):
    start = DAY.date()
    found = _walk(
        actor_email="kim@", date_from=start + timedelta(days=1), date_to=start + timedelta(days=3)
    )
    expected = [
        e.sequence
        for e in reversed(days)
        if e.actor and e.actor.email == "kim@example.com" and 1 <= e.data["day"] <= 3
    ]
    assert found == expected and len(found) == 6


def test_an_event_is_never_dated_before_the_one_it_follows(monkeypatch):
    """A writer whose clock runs behind another's records at the other's time, not earlier:
    the trail's dates rise with its sequence, and the chain still verifies."""
    ahead = timezone.make_aware(DAY + timedelta(minutes=5))
    first = _record_on(monkeypatch, ahead, action=Action.RULE_CHANGED)
    assert AuditHead.objects.get(pk=1).created_at == ahead
    behind = _record_on(monkeypatch, ahead - timedelta(seconds=30), action=Action.RULE_CHANGED)
    assert behind.created_at == ahead
    later = _record_on(monkeypatch, ahead + timedelta(seconds=1), action=Action.RULE_CHANGED)
    assert later.created_at == ahead + timedelta(seconds=1)
    stored = list(
        AuditEvent.objects.filter(sequence__gte=first.sequence)
        .order_by("sequence")
        .values_list("created_at", flat=True)
    )
    assert stored == sorted(stored)
    seal_head()
    call_command("verify_history", stdout=StringIO())


def _queries(client, **query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("revision_history"), query).status_code == 200
    return len(captured)


FILTERS = [
    {},
    {"actor_email": "kim@"},
    {"date_from": "2026-03-03", "date_to": "2026-03-04"},
    {"date_to": "2026-03-04", "role": "admin"},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_a_history_page_takes_as_many_queries_on_any_page_and_in_any_size(
    monkeypatch, client_for, auditor, filters
):
    client = client_for(auditor)
    kim = ReviewerFactory(email="kim@example.com")
    start = timezone.make_aware(DAY)
    _record_on(monkeypatch, start + timedelta(days=1), action=Action.RULE_CHANGED, actor=kim)
    small = _queries(client, **filters)
    for n in range(160):
        _record_on(
            monkeypatch,
            start + timedelta(days=1, minutes=n),
            action=Action.RULE_CHANGED,
            actor=kim,
            data={"n": n},
        )
    assert _queries(client, **filters) == small
    page = client.get(reverse("revision_history"), filters).context["page"]
    assert page.older_before is not None
    assert _queries(client, **filters, before=page.older_before) == small
    older = client.get(reverse("revision_history"), {**filters, "before": page.older_before})
    assert _queries(client, **filters, after=older.context["page"].newer_after) == small


def _plan(queryset, *settings: str) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", *settings):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_range_of_days_is_one_range_of_sequences_on_postgresql(days):
    """Read newest first without a sort (as a large trail is), the page starts and stops at
    the sequences found by two probes of the (created_at, sequence) index."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    start = DAY.date()
    events = audit_event_list(
        date_from=start + timedelta(days=1), date_to=start + timedelta(days=2)
    )
    plan = _plan(events[:51], "enable_sort", "enable_bitmapscan")
    init_plans = plan.split("->  Nested Loop")[0]
    assert init_plans.count("Index Only Scan") == 2, plan
    assert init_plans.count("using audit_event_created") == 2, plan
    scan = next(line for line in plan.splitlines() if "Index Scan Backward" in line)
    assert "audit_auditevent_sequence_key" in scan, plan
    condition = plan.split(scan, 1)[1].splitlines()[1]
    assert "Index Cond: ((sequence >= $0) AND (sequence <= $1))" in condition, plan
    assert "Sort" not in plan


def test_the_actor_filter_can_be_read_through_the_users_trigram_index_on_postgresql():
    """The filter compares UPPER(accounts_user.email), the indexed expression."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    assert "kim@" in str(audit_event_list(actor_email="kim@").query)
    plan = _plan(User.objects.filter(email__icontains="kim@").order_by(), "enable_indexscan")
    assert "Bitmap Index Scan on user_email_trgm" in plan, plan
