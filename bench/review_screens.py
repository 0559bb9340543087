"""Server time and query counts of the review screens at scale: the reviewer queue, one review
page and the filtered correction history.

Builds its data in a fresh test database (SQLite by default; PostgreSQL when DATABASE_URL
points at one, as `test_<name>`) with bulk_create, then requests each screen through Django's
test Client in-process and prints a Markdown table.

    .venv/bin/python -m bench.review_screens [--applications 100000] [--repeat 30]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attest .venv/bin/python -m bench.review_screens
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import statistics
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import ADMINS_GROUP, REVIEWERS_GROUP, Role, User  # noqa: E402
from applications.models import Application, new_reference  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from bench.database import kept_database, throwaway_database  # noqa: E402
from extraction.models import Document, DocumentType, Field, FieldRevision, Page  # noqa: E402
from review.selectors import QueueCursor, review_queue  # noqa: E402
from rules.models import Flag, Severity  # noqa: E402

FIELDS = [
    ("employee_name", "Employee name", "name", "Jordan A. Rivera"),
    ("employer_name", "Employer", "text", "Northwind Logistics LLC"),
    ("pay_date", "Pay date", "date", "01/30/2026"),
    ("gross_pay", "Gross pay", "money", "2,280.00"),
    ("net_pay", "Net pay", "money", "1,698.08"),
]
SEVERITIES = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
# Applicants' names: 40 x 40 combinations, so that a surname matches about 2.5 % of them.
FIRST_NAMES = [
    "Jordan",
    "Avery",
    "Casey",
    "Morgan",
    "Riley",
    "Taylor",
    "Quinn",
    "Harper",
    "Rowan",
    "Emerson",
    "Sage",
    "Parker",
    "Reese",
    "Dakota",
    "Skyler",
    "Jamie",
    "Alexis",
    "Cameron",
    "Drew",
    "Elliot",
    "Finley",
    "Hayden",
    "Jesse",
    "Kendall",
    "Logan",
    "Marley",
    "Noel",
    "Oakley",
    "Peyton",
    "Remy",
    "Sawyer",
    "Shawn",
    "Tatum",
    "Blair",
    "Corey",
    "Dana",
    "Frankie",
    "Gray",
    "Hollis",
    "Jules",
]
LAST_NAMES = [
    "Rivera",
    "Nguyen",
    "Okafor",
    "Schmidt",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Moreau",
    "Lindqvist",
    "Petrov",
    "Fernandes",
    "Oyelaran",
    "Castillo",
    "Novak",
    "Brennan",
    "Sato",
    "Mbeki",
    "Duarte",
    "Fischer",
    "Kaur",
    "Larsen",
    "Abbott",
    "Ibarra",
    "Quigley",
    "Whitfield",
    "Yamada",
    "Zielinski",
    "Achterberg",
    "Bianchi",
    "Delacroix",
    "Eriksen",
    "Gallagher",
    "Hoffman",
    "Iyer",
    "Jablonski",
    "Kim",
    "Lopez",
    "Mancini",
    "Ortega",
    "Pruitt",
]
# The audit events are spread over the year before the run, oldest first, this far apart: a
# date range in the past is a run of sequences deep in the trail, as in a real one.
EVENT_SPACING = timedelta(seconds=20)


def build(
    count: int, rng: random.Random, batch: int = 2000, owners: int = 200
) -> tuple[User, User, Application]:
    """``count`` submitted applications of ``owners`` applicants, each with a read pay stub, its
    fields, their machine revisions, an applicant's correction on one in ten and flags on one in
    three. The audit events it writes carry placeholder MACs (bench/load moves the head past
    them before the app writes real ones)."""
    reviewer = User.objects.create_user(email="riley@example.com", password="pw")  # noqa: S106 - bench user
    reviewer.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    admin = User.objects.create_user(email="avery@example.com", password="pw")  # noqa: S106 - bench user
    admin.groups.add(Group.objects.get(name=ADMINS_GROUP))
    owners = User.objects.bulk_create(
        [
            User(
                email=f"applicant{n}@example.com",
                full_name=f"{FIRST_NAMES[n % 40]} {LAST_NAMES[n // 40 % 40]}",
                # An unusable password: these people never sign in.
                password="!",  # noqa: S106
            )
            for n in range(owners)
        ],
        batch_size=5000,
    )
    pay_stub, _ = DocumentType.objects.get_or_create(key="pay_stub", defaults={"label": "Pay stub"})
    now = timezone.now()
    # After any event already recorded (migrations and type syncs record some).
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    sequences = itertools.count((last or 0) + 1)
    # About 5.1 events an application (five fields, a correction on one in ten): the first one
    # far enough back (a year at 300,000) that the last is just before now.
    first_event = now - EVENT_SPACING * round(count * 5.2)
    moments = (first_event + EVENT_SPACING * n for n in itertools.count())
    for start in range(0, count, batch):
        size = min(batch, count - start)
        applications = Application.objects.bulk_create(
            [
                Application(
                    owner=owners[(start + n) % len(owners)],
                    reference=new_reference(),
                    stated_name=owners[(start + n) % len(owners)].full_name,
                    status=rng.choice([Application.Status.SUBMITTED, Application.Status.IN_REVIEW]),
                    assigned_to=reviewer if rng.random() < 0.2 else None,
                    risk_score=rng.choice([0, 0, 1, 5, 20, 46, 70]),
                    submitted_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
                )
                for n in range(size)
            ]
        )
        documents = Document.objects.bulk_create(
            [
                Document(
                    application=application,
                    uploaded_by=application.owner,
                    document_type=pay_stub,
                    original=f"bench/{application.pk}.pdf",
                    original_name="pay_stub.pdf",
                    media_type="application/pdf",
                    size=1000,
                    sha256=f"{application.pk:064x}",
                    page_count=1,
                    status=Document.Status.EXTRACTED,
                )
                for application in applications
            ]
        )
        pages = Page.objects.bulk_create(
            [
                Page(document=d, number=1, image=f"bench/{d.pk}.png", width=1224, height=1584)
                for d in documents
            ]
        )
        fields = Field.objects.bulk_create(
            [
                Field(
                    document=document,
                    key=key,
                    label=label,
                    kind=kind,
                    required=True,
                    position=position,
                    machine_value=value,
                    value=value,
                    page=page,
                    box=[0.1, 0.1 * position, 0.3, 0.1 * position + 0.02],
                    grounded=True,
                    status=Field.Status.CONFIRMED,
                )
                for document, page in zip(documents, pages, strict=True)
                for position, (key, label, kind, value) in enumerate(FIELDS)
            ]
        )
        revisions = []
        for field in fields:
            revisions.append(
                FieldRevision(
                    field=field,
                    number=1,
                    value=field.value,
                    role=Role.MACHINE,
                    action="extracted",
                    created_at=next(moments),
                    hash=f"{field.pk:064x}",
                )
            )
            if field.key == "net_pay" and rng.random() < 0.1:
                revisions.append(
                    FieldRevision(
                        field=field,
                        number=2,
                        value="1,358.46",
                        actor=field.document.application.owner,
                        role=Role.APPLICANT,
                        action="corrected",
                        reason="Bonus withheld.",
                        created_at=next(moments),
                        previous_hash=f"{field.pk:064x}",
                        hash=f"{field.pk:063x}f",
                    )
                )
        revisions = FieldRevision.objects.bulk_create(revisions, batch_size=5000)
        # The history screen lists audit events: one per revision, as revision_append writes
        # them (MACs are not what this benchmark measures).
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    sequence=next(sequences),
                    created_at=revision.created_at,
                    action=f"field.{revision.action}",
                    actor=revision.actor,
                    role=revision.role,
                    application_id=revision.field.document.application_id,
                    subject_type="field",
                    subject_id=str(revision.field_id),
                    data={
                        "field": revision.field_id,
                        "key": revision.field.key,
                        "revision": revision.number,
                        "reason": revision.reason,
                    },
                    mac="0" * 64,
                )
                for revision in revisions
            ],
            batch_size=5000,
        )
        Flag.objects.bulk_create(
            [
                Flag(
                    application=application,
                    rule_key="bench",
                    title="Pay stub does not add up",
                    severity=rng.choice(SEVERITIES),
                    message="Gross minus deductions is not net pay.",
                )
                for application in applications
                if rng.random() < 0.33
            ]
        )
    application = Application.objects.order_by("-risk_score", "submitted_at").first()
    return reviewer, admin, application


def measure(client: Client, url: str, repeat: int) -> tuple[float, float, int, float]:
    """Median and p95 wall ms, the query count, and the median CPU ms this process spent (the
    view, the template, the test Client; not PostgreSQL's): on a shared machine the wall time
    also holds the wait for a core, the CPU time does not."""
    times, cpus = [], []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        queries = len(captured)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, queries, statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the test database after the run and reuse it when it already holds "
        "--applications applications (migrations are still applied): build once, measure often",
    )
    args = parser.parse_args()
    if args.keep:
        with kept_database():
            run(args)
    else:
        with throwaway_database():
            run(args)


def run(args) -> None:
    rng = random.Random(5)  # noqa: S311 - bench data, reproducible by design
    started = time.perf_counter()
    existing = Application.objects.count()
    if args.keep and existing == args.applications:
        reviewer = User.objects.get(email="riley@example.com")
        admin = User.objects.get(email="avery@example.com")
        application = Application.objects.order_by("-risk_score", "submitted_at").first()
    else:
        if existing:
            raise SystemExit(
                f"The kept database holds {existing:,} applications, not {args.applications:,}: "
                "drop it (dropdb test_<name>) or ask for that size."
            )
        reviewer, admin, application = build(
            args.applications, rng, owners=max(200, args.applications // 2)
        )
    built = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # As autovacuum leaves a table that has settled: statistics, and the visibility map
        # that lets an index be read without visiting each row (a bulk-loaded table has none,
        # and its searches then took two to three times as long).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    reviewer_client, admin_client = Client(), Client()
    reviewer_client.force_login(reviewer)
    admin_client.force_login(admin)
    # Page 3 of a filtered queue, reached as a reviewer does: by following "Next" twice.
    filtered = "/review/?severity=high&assigned=none"
    url = filtered
    for _ in range(2):
        url = f"{filtered}&after={reviewer_client.get(url).context['page'].next}"
    # A page deep in the default queue: the cursor of the row halfway down.
    middle = review_queue(user=reviewer)[Application.objects.count() // 2]
    deep = f"/review/?after={QueueCursor.of(middle).encode()}"
    # An applicant who corrected a value early on: their events lie deep in the trail.
    actor = AuditEvent.objects.filter(actor__isnull=False).order_by("sequence").first().actor.email
    owner = application.owner
    surname = owner.full_name.split()[-1]
    # A week of events ten months back: 30,000 at 300,000 applications, about 1.2 M newer ones.
    today = timezone.localdate()
    week = f"date_from={today - timedelta(days=300)}&date_to={today - timedelta(days=294)}"
    history = "/history/"
    screens = [
        ("Reviewer queue (page 1)", reviewer_client, "/review/"),
        ("Reviewer queue, high flags, unassigned, page 3", reviewer_client, url),
        ("Reviewer queue, halfway down (cursor)", reviewer_client, deep),
        (
            "Reviewer queue, search by one reference (matches 1)",
            reviewer_client,
            f"/review/?q={application.reference}",
        ),
        (
            "Reviewer queue, search by an applicant's e-mail",
            reviewer_client,
            f"/review/?q={owner.email}",
        ),
        (
            f"Reviewer queue, search by a surname ({surname}: about 2.5 %)",
            reviewer_client,
            f"/review/?q={surname}",
        ),
        (
            "Reviewer queue, search matching every application (example.com)",
            reviewer_client,
            "/review/?q=example.com",
        ),
        (
            "Reviewer queue, search of two characters (zq)",
            reviewer_client,
            "/review/?q=zq",
        ),
        ("Review page (one application)", reviewer_client, f"/review/{application.pk}/"),
        ("History (page 1)", admin_client, history),
        (
            "History, filtered (role=applicant, field=net_pay)",
            admin_client,
            f"{history}?role=applicant&field_key=net_pay",
        ),
        (
            "History, filtered (role=applicant, field=net_pay), next page",
            admin_client,
            f"{history}?role=applicant&field_key=net_pay&before="
            + str(
                admin_client.get(f"{history}?role=applicant&field_key=net_pay")
                .context["page"]
                .older_before
            ),
        ),
        (
            "History, filtered by application",
            admin_client,
            f"{history}?application_reference={application.reference}",
        ),
        (
            "History, by one actor's e-mail (their events are old)",
            admin_client,
            f"{history}?actor_email={actor}",
        ),
        (
            "History, by an actor with no events (riley@)",
            admin_client,
            f"{history}?actor_email=riley@",
        ),
        ("History, a week ten months ago", admin_client, f"{history}?{week}"),
        (
            "History, a week ten months ago, next page",
            admin_client,
            f"{history}?{week}&before="
            + str(admin_client.get(f"{history}?{week}").context["page"].older_before),
        ),
    ]
    revisions = FieldRevision.objects.count()
    print(
        f"{args.applications:,} applications, {revisions:,} revisions on {connection.vendor} "
        f"(built in {built:.0f} s); Python {platform.python_version()}; "
        f"{args.repeat} requests each, in-process Django test Client.\n"
    )
    print("| screen | median ms | p95 ms | queries | CPU ms (median) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, client, url in screens:
        median, p95, queries, cpu = measure(client, url, args.repeat)
        print(f"| {name} | {median:.1f} | {p95:.1f} | {queries} | {cpu:.1f} |")
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"\nLoad average after the run (1, 5, 15 min): {load}; {os.cpu_count()} cores.")


if __name__ == "__main__":
    main()
