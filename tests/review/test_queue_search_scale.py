"""The queue's search at scale: on PostgreSQL it is read as two parts (the application's own
columns, the applicant's), each through trigram indexes of its own, and merged; what it finds
must be what the one plain condition finds, on every page, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications.models import Application
from review.selectors import (
    _matches_applicant,
    _matches_application,
    review_queue,
    review_queue_page,
    review_queue_parts,
)
from tests.factories import ApplicationFactory, SubmittedApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = timezone.now() - timedelta(days=10)
# (stated name, applicant's full name, e-mail): ASCII only, where SQLite's LIKE and
# PostgreSQL's UPPER() agree on case; "%" and "_" must match themselves, not any text.
PEOPLE = [
    ("Dana Okafor", "", "dana.okafor@mail.test"),
    ("Lee Park", "Lee Min Park", "lee@park.test"),
    ("Sam 100% Sure", "", "sam@sure.test"),
    ("Ann_Marie Wu", "Ann Marie Wu", "ann_marie@wu.test"),
    ("Jo Li", "Joanne Li", "jo@li.test"),
    ("Robin Hood", "Robin of Locksley", "OUTLAW@Sherwood.TEST"),
]
SEARCHES = [
    "okafor",
    "OKAFOR",
    "dana.okafor@mail.test",
    "park.test",
    "Min Park",
    "  lee   park ",
    "%",
    "100%",
    "_",
    "ann_marie",
    "a_n",
    "Li",
    "wu",
    "u",
    "sherwood.test",
    "locksley",
    "@",
    "A-",
    "nobody-like-this",
]


def _expected(q: str, applications: list[Application]) -> list[Application]:
    """The search's meaning, written out: any part of the reference, stated name, applicant's
    name or e-mail, in any case, spaces squeezed (one or two characters: the start of any, or
    of a word of a name); highest risk, then longest waiting, first."""
    q = " ".join(q.split()).upper()

    def matches(a: Application) -> bool:
        texts = [t.upper() for t in (a.reference, a.stated_name, a.owner.full_name, a.owner.email)]
        if len(q) >= 3:
            return any(q in text for text in texts)
        names = texts[1:3]
        return any(text.startswith(q) for text in texts) or any(f" {q}" in t for t in names)

    found = [a for a in applications if matches(a)]
    return sorted(found, key=lambda a: (-a.risk_score, a.submitted_at, a.pk))


@pytest.fixture
def listed():
    applications = []
    for n in range(36):
        stated, full_name, email = PEOPLE[n % len(PEOPLE)]
        owner = UserFactory(email=f"{n}.{email}", full_name=full_name)
        applications.append(
            SubmittedApplicationFactory(
                owner=owner,
                stated_name=stated,
                risk_score=(n * 7) % 4 * 10,
                # Equal times too: the order leans on the id.
                submitted_at=BASE + timedelta(minutes=n // 2),
                status=Application.Status.APPROVED if n % 5 == 0 else Application.Status.SUBMITTED,
            )
        )
    # Never submitted: found by no search.
    ApplicationFactory(stated_name="Dana Okafor", owner=UserFactory(email="draft@mail.test"))
    return applications


def _walk(user, q: str, *, size: int) -> tuple[list[Application], list[Application], int]:
    """Every page forwards with Next, then backwards with Previous from the last; the count."""
    forwards, pages = [], []
    page = review_queue_page(
        review_queue(user=user, q=q), size=size, parts=review_queue_parts(user=user, q=q)
    )
    count = page.count
    while True:
        pages.append(page)
        forwards.extend(page.rows)
        if page.next is None:
            break
        page = review_queue_page(
            review_queue(user=user, q=q),
            after=page.next,
            size=size,
            parts=review_queue_parts(user=user, q=q),
        )
    backwards = list(pages[-1].rows)
    page = pages[-1]
    while page.previous is not None:
        page = review_queue_page(
            review_queue(user=user, q=q),
            before=page.previous,
            size=size,
            parts=review_queue_parts(user=user, q=q),
        )
        backwards = list(page.rows) + backwards
    return forwards, backwards, count


@pytest.mark.parametrize("q", SEARCHES)
def test_a_search_finds_what_it_always_found_on_every_page(reviewer, listed, q):
    expected = _expected(q, listed)
    forwards, backwards, count = _walk(reviewer, q, size=4)
    assert [a.pk for a in forwards] == [a.pk for a in expected]
    assert [a.pk for a in backwards] == [a.pk for a in expected]
    assert count == len(expected)
    # The plain condition (one read, no parts) agrees.
    assert [a.pk for a in review_queue(user=reviewer, q=q)] == [a.pk for a in expected]


def test_a_search_of_a_reference_finds_it_in_any_case_and_in_part(reviewer, listed):
    target = listed[17]
    for q in (target.reference, target.reference.lower(), target.reference[3:8]):
        forwards, _, _ = _walk(reviewer, q, size=4)
        assert target.pk in [a.pk for a in forwards]
        assert [a.pk for a in forwards] == [a.pk for a in _expected(q, listed)]


def test_parts_are_only_for_a_search_on_postgresql(reviewer):
    assert review_queue_parts(user=reviewer) == ()
    assert review_queue_parts(user=reviewer, q="   ") == ()
    parts = review_queue_parts(user=reviewer, q="okafor")
    assert len(parts) == (2 if connection.vendor == "postgresql" else 0)


def test_the_count_of_a_search_stops_at_its_cap(reviewer, listed):
    # "test" is in every e-mail; "o" in many names and e-mails: both parts reach the cap.
    for q, cap in (("test", 10), ("o", 10), ("test", 36), ("o", 40)):
        page = review_queue_page(
            review_queue(user=reviewer, q=q),
            size=4,
            count_cap=cap,
            parts=review_queue_parts(user=reviewer, q=q),
        )
        matching = len(_expected(q, listed))
        assert (page.count, page.count_capped) == (min(matching, cap), matching > cap), q


def _queries(client, **query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("review_queue"), query).status_code == 200
    return len(captured)


def test_a_searched_page_takes_as_many_queries_on_any_page_and_in_any_size(reviewer, client_for):
    client = client_for(reviewer)
    SubmittedApplicationFactory(stated_name="Sam Many 0")
    small = _queries(client, q="sam many")
    small_filtered = _queries(client, q="sam many", status="submitted", severity="high")
    for n in range(1, 80):
        SubmittedApplicationFactory(stated_name=f"Sam Many {n}", risk_score=n % 7)
    first = client.get(reverse("review_queue"), {"q": "sam many"}).context["page"]
    second = client.get(reverse("review_queue"), {"q": "sam many", "after": first.next})
    second = second.context["page"]
    assert second.next is not None, "a third page"
    assert _queries(client, q="sam many") == small
    assert _queries(client, q="sam many", after=first.next) == small
    assert _queries(client, q="sam many", after=second.next) == small
    assert _queries(client, q="sam many", before=second.previous) == small
    assert _queries(client, q="sam many", status="submitted", severity="high") == small_filtered


TRIGRAM_INDEXES = {
    "review_application": {
        "application_reference_trgm": "reference",
        "application_stated_name_trgm": "stated_name",
    },
    "accounts_user": {"user_full_name_trgm": "full_name", "user_email_trgm": "email"},
}


def test_the_trigram_indexes_exist_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes: SQLite has none of this kind")
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() is not None
        for table, indexes in TRIGRAM_INDEXES.items():
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table]
            )
            defined = dict(cursor.fetchall())
            for name, column in indexes.items():
                assert f"USING gin (upper(({column})::text) gin_trgm_ops)" in defined[name], (
                    defined.get(name)
                )


def _plan(queryset) -> str:
    """The plan when PostgreSQL may not read a whole table: which index can serve the query."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # Nor walk a whole b-tree and filter it: what is left is a trigram index, or nothing.
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_search_conditions_can_be_read_through_the_trigram_indexes():
    """The indexes are on UPPER(column), the very expression Django's icontains compares on
    PostgreSQL: if either side changed, the index would no longer serve the search. (Which
    index the planner picks for a whole part depends on the data: see docs/review_lists.md.)"""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    plan = _plan(
        Application.objects.filter(
            Q(reference__icontains="okafor") | Q(stated_name__icontains="okafor")
        ).order_by()
    )
    assert "Bitmap Index Scan on application_reference_trgm" in plan, plan
    assert "Bitmap Index Scan on application_stated_name_trgm" in plan, plan
    plan = _plan(
        User.objects.filter(
            Q(full_name__icontains="okafor") | Q(email__icontains="okafor")
        ).order_by()
    )
    assert "Bitmap Index Scan on user_full_name_trgm" in plan, plan
    assert "Bitmap Index Scan on user_email_trgm" in plan, plan


@pytest.mark.parametrize("q", ["zq", "o"])
def test_a_search_of_one_or_two_letters_can_be_read_through_the_trigram_indexes(q):
    """One or two letters match starts (of the column, or of a word after a space), which
    pg_trgm turns into padded trigrams; inside a word they would make it read every entry."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    applications = Application.objects.filter(_matches_application(q)).order_by()
    plan = _plan(applications)
    assert "Bitmap Index Scan on application_reference_trgm" in plan, plan
    assert "Bitmap Index Scan on application_stated_name_trgm" in plan, plan
    plan = _plan(Application.objects.filter(_matches_applicant(q)).order_by())
    assert "Bitmap Index Scan on user_full_name_trgm" in plan, plan
    assert "Bitmap Index Scan on user_email_trgm" in plan, plan
