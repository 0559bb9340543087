"""Where the load test's time goes: each endpoint alone, in-process, on the seeded database.

For every page the locust users request: server time (median of --repeat, one request at a
time), CPU time, the number of SQL queries and the time spent in them, and the slowest query.

    .venv/bin/python -m bench.load.profile [--repeat 20] [--explain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.load.seed import DEFAULT_URL, REVIEWER_EMAIL, applicant_email


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from accounts.models import User
    from applications.models import Application
    from review.selectors import QueueCursor, review_queue

    setup_test_environment()  # the test Client's host name
    applicant = User.objects.get(email=applicant_email(0))
    reviewer = User.objects.get(email=REVIEWER_EMAIL)
    own = Application.objects.filter(owner=applicant).order_by("pk").first()
    top = Application.objects.filter(status__in=["submitted", "in_review"])
    top = top.order_by("-risk_score", "submitted_at", "pk").first()
    # Page 150 of the queue, by the cursor its "Next" link would carry.
    page_150 = review_queue(user=reviewer)[149 * 25 - 1]
    applicant_client, reviewer_client = Client(), Client()
    applicant_client.force_login(applicant)
    reviewer_client.force_login(reviewer)
    pages = [
        ("applications list", applicant_client, "/applications/"),
        ("application page", applicant_client, f"/applications/{own.pk}/"),
        ("review queue", reviewer_client, "/review/"),
        (
            "review queue, later page",
            reviewer_client,
            f"/review/?after={QueueCursor.of(page_150).encode()}",
        ),
        ("review queue, filtered", reviewer_client, "/review/?severity=high&assigned=none"),
        ("review page", reviewer_client, f"/review/{top.pk}/"),
        ("sign-in: form", Client(), "/accounts/login/"),
    ]
    uploads = upload_times(applicant, applicant_client, min(args.repeat, 5))
    print("| page | median ms | CPU ms | queries | SQL ms | slowest query ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, client, url in pages:
        walls, cpus = [], []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                walls.append((time.perf_counter() - started) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, (url, response.status_code)  # noqa: S101
        queries = captured.captured_queries
        sql = sum(float(q["time"]) for q in queries) * 1000
        slowest = max(queries, key=lambda q: float(q["time"]), default={"time": 0, "sql": ""})
        print(
            f"| {name} | {statistics.median(walls):.1f} | {statistics.median(cpus):.1f} | "
            f"{len(queries)} | {sql:.1f} | {float(slowest['time']) * 1000:.1f} |"
        )
        if args.explain and slowest["sql"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + slowest["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n<!-- {name}: {slowest['sql'][:300]}\n{plan}\n-->\n")
    print(
        f"| upload 5 MB photo (POST) | {statistics.median(u[0] for u in uploads):.1f} | "
        f"{statistics.median(u[1] for u in uploads):.1f} (+ the inspecting child's "
        f"{statistics.median(u[2] for u in uploads):.0f}) | | | |"
    )


def upload_times(applicant, client, repeat: int) -> list[tuple[float, float, float]]:
    """Wall, CPU of this process and CPU of the inspecting child, in ms, per upload."""
    import resource
    from pathlib import Path

    from applications.services import application_create
    from bench.load.files import ensure
    from bench.load.run import VAR

    photo = ensure(VAR / "pay_stub_photo.jpg")
    draft = application_create(owner=applicant, stated_name="Jordan A. Rivera")
    times = []
    for _ in range(repeat):
        with Path(photo).open("rb") as handle:
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            started, cpu = time.perf_counter(), time.process_time()
            response = client.post(
                f"/applications/{draft.pk}/",
                {"upload": "1", "document_type": "", "files": handle},
                HTTP_ACCEPT="application/json",
            )
            wall, own = time.perf_counter() - started, time.process_time() - cpu
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert response.status_code == 200, response.content  # noqa: S101
        child = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        times.append((wall * 1000, own * 1000, child * 1000))
    return times


if __name__ == "__main__":
    main()
