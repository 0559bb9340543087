"""The reviewer queue pages by cursor: a page is "the 25 after this row", so the order holds,
nothing is listed twice or skipped while applications arrive or leave between page loads, a
tampered or stale link opens a plain page (never an error), and a page costs the same number of
queries in a small queue as in a large one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from review.selectors import QueueCursor, review_queue, review_queue_page
from review.views.staff import QUEUE_PER_PAGE
from tests.factories import SubmittedApplicationFactory

pytestmark = pytest.mark.django_db

BASE = timezone.now() - timedelta(days=30)


def _submit(*, risk: int, minutes: int, **kwargs) -> Application:
    return SubmittedApplicationFactory(
        risk_score=risk, submitted_at=BASE + timedelta(minutes=minutes), **kwargs
    )


def _key(application: Application) -> tuple:
    return (-application.risk_score, application.submitted_at, application.pk)


def _page(client, **query):
    response = client.get(reverse("review_queue"), query)
    assert response.status_code == 200
    return response, response.context["page"]


def _refs(page) -> list[str]:
    return [a.reference for a in page.rows]


def test_walking_the_pages_lists_every_application_once_in_order_while_others_arrive(
    reviewer, client_for
):
    # Few risk scores and equal submission times: the order leans on its tie-breakers.
    waiting = [_submit(risk=(n % 4) * 10, minutes=n // 3) for n in range(70)]
    client = client_for(reviewer)
    seen: list[Application] = []
    arrived_behind: list[Application] = []
    response, page = _page(client)
    steps = 0
    while True:
        seen.extend(page.rows)
        if page.next is None:
            break
        # Between two page loads: one arrives ahead of the reader (highest risk, it belongs on a
        # page already read), one behind (lowest risk, newest), and one already read is decided.
        _submit(risk=90, minutes=10_000 + steps)
        arrived_behind.append(_submit(risk=0, minutes=20_000 + steps))
        Application.objects.filter(pk=seen[0].pk).update(status=Application.Status.APPROVED)
        steps += 1
        response, page = _page(client, after=page.next)
    keys = [_key(a) for a in seen]
    assert keys == sorted(keys), "the queue's order across pages"
    assert len(keys) == len(set(keys)), "no application twice"
    assert {a.pk for a in waiting} <= {a.pk for a in seen}, "none of the first ones skipped"
    assert {a.pk for a in arrived_behind} <= {a.pk for a in seen}, "late arrivals behind, listed"
    assert steps >= 2, "at least three pages"


def test_previous_goes_back_to_the_same_rows_and_keeps_the_filters(reviewer, client_for):
    for n in range(60):
        _submit(risk=n % 3, minutes=n, stated_name=f"Sam Many {n}")
    _submit(risk=99, minutes=0, stated_name="Someone Else")
    client = client_for(reviewer)
    _, first = _page(client, q="sam many")
    response, second = _page(client, q="sam many", after=first.next)
    assert set(_refs(first)).isdisjoint(_refs(second))
    body = response.content.decode()
    assert f"q=sam+many&amp;before={second.previous}" in body
    assert f"q=sam+many&amp;after={second.next}" in body
    _, back = _page(client, q="sam many", before=second.previous)
    assert _refs(back) == _refs(first)
    assert back.previous is None, "the first page has no previous page"
    assert back.next == first.next


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "1_2",
        "1_2_3_4",
        "-5_1_1",
        "1_1_1'; DROP TABLE review_application; --",
        "99999999999_1_1",  # risk beyond any integer column
        "1_99999999999999999999_1",  # a date past year 9999
        "1_1_99999999999999999999",  # an id beyond bigint
        "1_1_9223372036854775808",
        "\x00",
        "1" * 5000,
    ],
)
def test_a_tampered_cursor_opens_the_first_page(reviewer, client_for, cursor):
    applications = [_submit(risk=n, minutes=n) for n in range(30)]
    client = client_for(reviewer)
    _, first = _page(client)
    for name in ("after", "before"):
        _, page = _page(client, **{name: cursor})
        assert _refs(page) == _refs(first)
    assert len(first.rows) == QUEUE_PER_PAGE
    assert first.rows[0].pk == applications[-1].pk


def test_a_cursor_in_range_but_forged_still_reads_a_plain_page(reviewer, client_for):
    applications = [_submit(risk=5, minutes=n) for n in range(30)]
    client = client_for(reviewer)
    # A position between two real rows, of no real application.
    forged = QueueCursor(5, applications[9].submitted_at + timedelta(seconds=1), 0).encode()
    _, page = _page(client, after=forged)
    assert page.rows[0].pk == applications[10].pk


def test_a_stale_cursor_reads_what_now_follows_its_row(reviewer, client_for):
    applications = [_submit(risk=1, minutes=n) for n in range(40)]
    client = client_for(reviewer)
    _, first = _page(client)
    # The last row of the page is decided and leaves the queue; its cursor still works.
    Application.objects.filter(pk=first.rows[-1].pk).update(status=Application.Status.REJECTED)
    _, second = _page(client, after=first.next)
    assert [a.pk for a in second.rows] == [a.pk for a in applications[QUEUE_PER_PAGE:]]


def test_a_cursor_past_the_end_says_so_and_links_back(reviewer, client_for):
    applications = [_submit(risk=1, minutes=n) for n in range(3)]
    Application.objects.filter(pk__in=[a.pk for a in applications]).update(
        status=Application.Status.APPROVED
    )
    stale = QueueCursor.of(applications[0]).encode()
    response, page = _page(reviewer and client_for(reviewer), after=stale, status="submitted")
    assert page.rows == [] and page.next is None and page.previous is None
    body = response.content.decode()
    assert "the queue has changed since it was opened" in body
    assert 'href="?status=submitted">Back to the first page' in body


def test_the_count_stops_at_a_cap(reviewer):
    for n in range(12):
        _submit(risk=1, minutes=n)
    page = review_queue_page(review_queue(user=reviewer), size=5, count_cap=10)
    assert (page.count, page.count_capped) == (10, True)
    page = review_queue_page(review_queue(user=reviewer), size=5, count_cap=12)
    assert (page.count, page.count_capped) == (12, False)


def test_the_header_says_more_than_when_the_count_is_capped(reviewer, client_for, monkeypatch):
    from review.views import staff

    for n in range(4):
        _submit(risk=1, minutes=n)

    def capped(queryset, **kwargs):
        return review_queue_page(queryset, **kwargs, count_cap=3)

    monkeypatch.setattr(staff, "review_queue_page", capped)
    response, _ = _page(client_for(reviewer))
    assert "More than 3 applications" in response.content.decode()
    monkeypatch.undo()
    response, _ = _page(client_for(reviewer))
    assert "4 applications" in response.content.decode()


def _queries(client, **query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("review_queue"), query).status_code == 200
    return len(captured)


def test_a_page_takes_as_many_queries_in_a_large_queue_as_in_a_small_one(reviewer, client_for):
    client = client_for(reviewer)
    _submit(risk=1, minutes=0)
    small = {
        "first": _queries(client),
        "filtered": _queries(client, severity="high", assigned="none"),
        "search": _queries(client, q="A-"),
    }
    for n in range(3 * QUEUE_PER_PAGE):
        _submit(risk=n % 5, minutes=n)
    _, first = _page(client)
    _, second = _page(client, after=first.next)
    large = {
        "first": _queries(client),
        "filtered": _queries(client, severity="high", assigned="none"),
        "search": _queries(client, q="A-"),
    }
    assert large == small
    assert _queries(client, after=second.next) == small["first"]
    assert _queries(client, before=second.previous) == small["first"]


def _plan(queryset) -> str:
    """PostgreSQL's plan for ``queryset`` when it may use neither a table scan nor a sort: what
    can serve it in index order, whatever the size of the table."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("status", ["", "approved"])
def test_a_page_after_a_cursor_is_one_range_of_an_index(reviewer, status):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    applications = [_submit(risk=n % 3, minutes=n) for n in range(30)]
    cursor = QueueCursor.of(applications[5])
    for operator in (">", "<"):
        plan = _plan(review_queue(user=reviewer, status=status).filter(cursor.condition(operator)))
        index = "application_queue_by_status" if status else "application_waiting_queue"
        assert f"using {index}" in plan, plan
        conditions = [line for line in plan.splitlines() if "Index Cond:" in line]
        assert any("ROW((risk_score" in line for line in conditions), (
            f"the cursor bounds the index scan, not a filter after it: {plan}"
        )
        assert "Sort" not in plan
