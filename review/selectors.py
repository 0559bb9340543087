"""Reads on a user's behalf. Each getter answers 404 alike for "absent" and "not yours"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.http import Http404

from applications.models import Application
from applications.selectors import (
    REVIEW_PERMISSION,
    applications_visible_to,
)
from extraction.models import Document, ExtractionRun, Field, FieldRevision
from extraction.selectors import Cost
from rules.models import RULE_ERROR_PREFIX, Flag, Severity


def application_list_for_owner(*, user) -> QuerySet[Application]:
    return (
        Application.objects.filter(owner=user)
        .annotate(document_count=Count("documents", filter=Q(documents__removed_at__isnull=True)))
        .order_by("-created_at")
    )


def field_get_for_user(*, user, field_id: int) -> Field:
    field = (
        Field.objects.filter(
            pk=field_id,
            document__application__in=applications_visible_to(user),
            # A removed document's values are kept for the trail, never changed again.
            document__removed_at__isnull=True,
        )
        .select_related("document__application", "page")
        .first()
    )
    if field is None:
        raise Http404("No such field.")
    return field


def flag_get_for_staff(*, user, flag_id: int) -> Flag:
    if not user.has_perm(REVIEW_PERMISSION):
        raise Http404("No such flag.")
    flag = Flag.objects.filter(pk=flag_id).select_related("application").first()
    if flag is None:
        raise Http404("No such flag.")
    return flag


# Most serious first: the queue shows open flags counted per severity in this order.
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]


# What the queue can list: everything a reviewer has been sent, never a draft.
QUEUE_STATUSES = (
    Application.Status.SUBMITTED,
    Application.Status.IN_REVIEW,
    Application.Status.CHANGES_REQUESTED,
    Application.Status.APPROVED,
    Application.Status.REJECTED,
    # Withdrawn while a request for changes was with the applicant: submitted before.
    Application.Status.WITHDRAWN,
)


def review_queue(
    *,
    status: str = "",
    assigned: str = "",
    user,
    severity: str = "",
    document_type: str = "",
    q: str = "",
) -> QuerySet[Application]:
    """Submitted work, highest risk first, then the longest waiting.

    ``severity`` keeps applications with an open flag of that severity; ``document_type`` those
    with a document of that type (by key). ``q`` finds applications by reference, the name the
    applicant stated or gave at sign-up, or their e-mail (parts of any, any case; one or two
    characters: the start of any of them or of a word of a name, ``MIN_INSIDE_SEARCH``); with
    no status chosen a search looks through decided applications too. Only what the user may see
    (``applications_visible_to``) is ever listed. ``open_flag_counts`` adds the flag counts of
    a page.
    """
    queryset, q = _queue_unsearched(
        status=status,
        assigned=assigned,
        user=user,
        severity=severity,
        document_type=document_type,
        q=q,
    )
    if q:
        queryset = queryset.filter(_matches_application(q) | _matches_applicant(q))
    return queryset


def review_queue_parts(*, user, q: str = "", **filters: str) -> tuple[QuerySet[Application], ...]:
    """The same queue as ``review_queue`` with the same arguments, for a search on PostgreSQL
    as two querysets whose union it is: the applications whose reference or stated name
    matches ``q``, and those whose applicant's name or e-mail does. Each has trigram indexes of
    its own (applications' migration 0007, accounts' 0002), where the OR across two tables
    can use none and reads every application; ``review_queue_page`` reads each part only as
    far as a page. Empty without a search and on other databases (no such index: one read is
    as good)."""
    queryset, q = _queue_unsearched(user=user, q=q, **filters)
    if not q or connection.vendor != "postgresql":
        return ()
    return (queryset.filter(_matches_application(q)), queryset.filter(_matches_applicant(q)))


def _queue_unsearched(
    *,
    user,
    q: str = "",
    status: str = "",
    assigned: str = "",
    severity: str = "",
    document_type: str = "",
) -> tuple[QuerySet[Application], str]:
    """The queue with every filter but the search itself, and the search as it is matched."""
    q = " ".join(q.split())[:100]
    if status:
        statuses = [status]
    elif q:
        statuses = list(QUEUE_STATUSES)
    else:
        statuses = [Application.Status.SUBMITTED, Application.Status.IN_REVIEW]
    queryset = applications_visible_to(user).filter(status__in=statuses, submitted_at__isnull=False)
    if assigned == "me":
        queryset = queryset.filter(assigned_to=user)
    elif assigned == "none":
        queryset = queryset.filter(assigned_to__isnull=True)
    if severity:
        queryset = queryset.filter(
            Exists(
                Flag.objects.filter(
                    application=OuterRef("pk"), status=Flag.Status.OPEN, severity=severity
                )
            )
        )
    if document_type:
        queryset = queryset.filter(
            Exists(
                Document.objects.filter(
                    application=OuterRef("pk"), document_type__key=document_type
                )
            )
        )
    return queryset.select_related("owner", "assigned_to").order_by(*QUEUE_ORDER), q


# A search this long or longer matches inside a reference, a name or an e-mail; a shorter one
# matches their starts and the start of any word of a name ("ok" finds Dana Okafor). One or
# two letters occur inside almost every name, so "inside" would list the whole table; and the
# trigram indexes can serve a start (PostgreSQL's pg_trgm pads each word), not a middle.
MIN_INSIDE_SEARCH = 3


def _matches_application(q: str) -> Q:
    if len(q) < MIN_INSIDE_SEARCH:
        return (
            Q(reference__istartswith=q)
            | Q(stated_name__istartswith=q)
            | Q(stated_name__icontains=f" {q}")
        )
    return Q(reference__icontains=q) | Q(stated_name__icontains=q)


def _matches_applicant(q: str) -> Q:
    if len(q) < MIN_INSIDE_SEARCH:
        return (
            Q(owner__full_name__istartswith=q)
            | Q(owner__full_name__icontains=f" {q}")
            | Q(owner__email__istartswith=q)
        )
    return Q(owner__full_name__icontains=q) | Q(owner__email__icontains=q)


# The queue's order as one ascending key, (-risk_score, submitted_at, id), so that a page after
# (or before) a given row is one range of an index on these expressions (applications'
# "application_waiting_queue" and "application_queue_by_status"): as fast a thousand pages in
# as on the first, with no OFFSET and no count of the whole queue.
QUEUE_RANK = F("risk_score") * -1
QUEUE_ORDER = (QUEUE_RANK.asc(), F("submitted_at").asc(), F("pk").asc())
QUEUE_ORDER_REVERSED = (QUEUE_RANK.desc(), F("submitted_at").desc(), F("pk").desc())
# A count above this is shown as "more than": counting a whole queue costs time that grows with it.
QUEUE_COUNT_CAP = 1000
CURSOR = re.compile(r"(\d{1,10})_(\d{1,17})_(\d{1,18})")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class QueueCursor:
    """A position in the queue: the sort key of one row. Opaque to people, shown in links as
    ``<risk>_<microseconds since 1970 UTC>_<id>``; it stays valid when that row leaves the
    queue or others arrive (the next page is what comes after that key now)."""

    risk_score: int
    submitted_at: datetime
    pk: int

    @classmethod
    def of(cls, application: Application) -> QueueCursor:
        return cls(application.risk_score, application.submitted_at, application.pk)

    def encode(self) -> str:
        micros = (self.submitted_at - EPOCH) // timedelta(microseconds=1)
        return f"{self.risk_score}_{micros}_{self.pk}"

    @classmethod
    def decode(cls, text: str | None) -> QueueCursor | None:
        """The cursor in ``text``, or None when it is missing, malformed or out of range (a
        tampered link opens the first page rather than failing)."""
        match = CURSOR.fullmatch(text or "")
        if match is None:
            return None
        risk, micros, pk = (int(part) for part in match.groups())
        if risk > 2**31 - 1 or pk > 2**63 - 1:
            return None
        try:
            submitted_at = EPOCH + timedelta(microseconds=micros)
        except OverflowError:
            return None
        if submitted_at.year > 9999:
            return None
        return cls(risk, submitted_at, pk)

    def condition(self, operator: str) -> RowComparison:
        """``(-risk_score, submitted_at, id) <operator> (this cursor)`` as a row comparison,
        which the database reads as one index range."""
        return RowComparison(
            [QUEUE_RANK, F("submitted_at"), F("pk")],
            operator,
            [
                Value(-self.risk_score),
                # As the column stores it (SQLite compares datetimes as text).
                Value(self.submitted_at, output_field=DateTimeField()),
                Value(self.pk),
            ],
        )


class RowComparison(Func):
    """``(a, b, c) < (x, y, z)``: true when the left row sorts before the right one, column by
    column. Django has no row comparison; this one is an expression (unlike raw SQL), so its
    columns take the alias of their table also inside a subquery (a search's parts)."""

    output_field = BooleanField()

    def __init__(self, columns: list, operator: str, values: list):
        if operator not in ("<", ">"):
            raise ValueError(f"A row compares with < or >, not {operator!r}.")
        if len(columns) != len(values):
            raise ValueError("A row comparison needs as many values as columns.")
        super().__init__(*columns, *values)
        self.operator = operator

    def as_sql(self, compiler, connection, **extra_context):
        compiled, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            compiled.append(sql)
            params.extend(expression_params)
        half = len(compiled) // 2
        left, right = ", ".join(compiled[:half]), ", ".join(compiled[half:])
        return f"({left}) {self.operator} ({right})", params


@dataclass
class QueuePage:
    """One page of the queue: its rows, the cursors of the pages either side (None when there
    is none), and how many applications match, capped: ``count_capped`` says there are more
    than ``count``."""

    rows: list[Application]
    previous: str | None
    next: str | None
    count: int
    count_capped: bool


def review_queue_page(
    queryset: QuerySet[Application],
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = 25,
    count_cap: int = QUEUE_COUNT_CAP,
    parts: tuple[QuerySet[Application], ...] = (),
) -> QueuePage:
    """The page of ``queryset`` (a ``review_queue``) that follows the cursor ``after``, or
    precedes ``before``, or the first page; two queries whatever the queue's length (the page,
    and a count that stops at ``count_cap`` + 1). A cursor that does not parse is ignored.

    ``parts`` (``review_queue_parts``), when given, are querysets whose union is
    ``queryset``: each is read only as far as the page (or the count's cap) and the ids merged
    in the same two queries, so that an index serves each part."""
    after_cursor = QueueCursor.decode(after)
    before_cursor = QueueCursor.decode(before) if after_cursor is None else None
    if before_cursor is not None:
        rows = _first_rows(
            queryset, parts, before_cursor.condition("<"), QUEUE_ORDER_REVERSED, size + 1
        )
        has_previous = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_next = True
    else:
        condition = after_cursor.condition(">") if after_cursor is not None else None
        rows = _first_rows(queryset, parts, condition, QUEUE_ORDER, size + 1)
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = after_cursor is not None
    # COUNT over at most count_cap + 1 rows, without the page's joins.
    if parts:
        counted = _union(
            [part.select_related(None).order_by().values("pk")[: count_cap + 1] for part in parts],
            all=False,
        ).count()
    else:
        counted = queryset.select_related(None).order_by()[: count_cap + 1].count()
    return QueuePage(
        rows=rows,
        previous=QueueCursor.of(rows[0]).encode() if rows and has_previous else None,
        next=QueueCursor.of(rows[-1]).encode() if rows and has_next else None,
        count=min(counted, count_cap),
        count_capped=counted > count_cap,
    )


def _first_rows(queryset, parts, condition, order, limit: int) -> list[Application]:
    """The first ``limit`` rows of ``queryset`` in ``order`` that meet ``condition`` (None: all);
    with ``parts``, the first ``limit`` of each part, merged, so that each part stops early."""
    if parts:
        ids = _union(
            [
                (part.filter(condition) if condition is not None else part)
                .select_related(None)
                .order_by(*order)
                .values("pk")[:limit]
                for part in parts
            ],
            all=True,
        )
        queryset = queryset.filter(pk__in=ids)
    elif condition is not None:
        queryset = queryset.filter(condition)
    return list(queryset.order_by(*order)[:limit])


def _union(querysets: list[QuerySet], *, all: bool) -> QuerySet:  # noqa: A002 - Django's name
    first, *others = querysets
    return first.union(*others, all=all)


def open_flag_counts(applications) -> None:
    """Set ``open_flags`` and ``open_<severity>`` on each application of a page, in one query.

    Counted for the page's rows only: grouping flags over the whole queue costs time that
    grows with the queue, for numbers nobody sees.
    """
    applications = list(applications)
    rows = (
        Flag.objects.filter(application__in=applications, status=Flag.Status.OPEN)
        .exclude(rule_key__startswith=RULE_ERROR_PREFIX)
        .values("application_id", "severity")
        .annotate(count=Count("pk"))
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["application_id"], {})[row["severity"]] = row["count"]
    for application in applications:
        mine = counts.get(application.pk, {})
        application.open_flags = sum(mine.values())
        for level in SEVERITIES:
            setattr(application, f"open_{level}", mine.get(level, 0))


def reviewers() -> QuerySet:
    """The people an application can be assigned to."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    permission = Permission.objects.filter(
        codename="review_application", content_type__app_label="applications"
    )
    return (
        get_user_model()
        .objects.filter(
            Q(groups__permissions__in=permission)
            | Q(user_permissions__in=permission)
            | Q(is_superuser=True),
            is_active=True,
        )
        .distinct()
        .order_by("email")
    )


def revision_history(
    *,
    field_key: str = "",
    role: str = "",
    actor_email: str = "",
    application_reference: str = "",
    document_type: str = "",
    date_from=None,
    date_to=None,
) -> QuerySet[FieldRevision]:
    """Every change of every value, newest first, filtered; for admins' audit."""
    queryset = FieldRevision.objects.select_related(
        "actor", "field__document__application", "field__document__document_type"
    )
    if field_key:
        queryset = queryset.filter(field__key=field_key)
    if role:
        queryset = queryset.filter(role=role)
    if actor_email:
        queryset = queryset.filter(actor__email__icontains=actor_email)
    if application_reference:
        queryset = queryset.filter(
            field__document__application__reference__iexact=application_reference
        )
    if document_type:
        queryset = queryset.filter(field__document__document_type__key=document_type)
    if date_from:
        queryset = queryset.filter(created_at__date__gte=date_from)
    if date_to:
        queryset = queryset.filter(created_at__date__lte=date_to)
    return queryset.order_by("-created_at", "-pk")


def document_costs(*, application) -> tuple[dict[int, Cost], Cost]:
    """What reading each document of an application cost, and the application's total, in one
    query: the figures of ``extraction.selectors.document_cost`` and ``application_cost``
    (retries and second readings included; cached readings counted apart, capped ones free).
    Not permission-checked: for admins, about an application already fetched for them."""
    paid = Q(cached_from__isnull=True) & ~Q(outcome=ExtractionRun.Outcome.CAPPED)
    rows = (
        ExtractionRun.objects.filter(document__application=application)
        .order_by()
        .values("document_id")
        .annotate(
            total_cost=Sum("cost"),
            total_tokens_in=Sum("tokens_in"),
            total_tokens_out=Sum("tokens_out"),
            total_latency_ms=Sum("latency_ms"),
            paid_calls=Count("id", filter=paid),
            cached_calls=Count("id", filter=Q(cached_from__isnull=False)),
        )
    )
    costs = {
        row["document_id"]: Cost(
            cost=row["total_cost"] or Decimal("0"),
            tokens_in=row["total_tokens_in"] or 0,
            tokens_out=row["total_tokens_out"] or 0,
            calls=row["paid_calls"] or 0,
            cached=row["cached_calls"] or 0,
            latency_ms=row["total_latency_ms"] or 0,
        )
        for row in rows
    }
    total = Cost(
        cost=sum((c.cost for c in costs.values()), Decimal("0")),
        tokens_in=sum(c.tokens_in for c in costs.values()),
        tokens_out=sum(c.tokens_out for c in costs.values()),
        calls=sum(c.calls for c in costs.values()),
        cached=sum(c.cached for c in costs.values()),
        latency_ms=sum(c.latency_ms for c in costs.values()),
    )
    return costs, total
