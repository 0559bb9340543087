"""Races between people's writes on one application: how often each side wins, and violations.

Runs the races of tests/review/races.py (real threads, one database connection each) in a fresh
test database on SQLite and, when reachable, on PostgreSQL, and prints a Markdown table.

    .venv/bin/python -m bench.races [--iterations 50]
        [--postgres postgres://postgres@127.0.0.1:5432/attest]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _worker(iterations: int) -> None:
    """Run every race on the database of this process's settings; one JSON line per race."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.db import connection

    from accounts.roles import staff_groups_ensure
    from bench.database import throwaway_database
    from tests.review.races import RACES, People, race_run

    with throwaway_database():
        staff_groups_ensure()
        people = People.make()
        for name in RACES:
            started = time.perf_counter()
            result = race_run(name, iterations=iterations, people=people)
            row = {
                "race": name,
                "database": connection.vendor,
                "iterations": result.iterations,
                "violations": len(result.violations),
                "first_violation": result.violations[0] if result.violations else "",
                "outcomes": dict(result.outcomes),
                "seconds": round(time.perf_counter() - started, 1),
            }
            print(json.dumps(row), flush=True)  # noqa: T201


def _run(database_url: str | None, iterations: int) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.races", "--worker", "--iterations", str(iterations)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)  # noqa: T201
    return rows


def _postgres_up(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable here"
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/attest_bench"
        ),
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.iterations)
        return
    rows = _run(None, args.iterations)
    if _postgres_up(args.postgres):
        rows += _run(args.postgres, args.iterations)
    else:
        print(f"PostgreSQL not reachable at {args.postgres}: skipped.")  # noqa: T201
    print("| race | database | iterations | violations | outcomes (writer 1 / writer 2) | s |")  # noqa: T201
    print("| --- | --- | ---: | ---: | --- | ---: |")  # noqa: T201
    for row in rows:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items()))
        print(  # noqa: T201
            f"| {row['race']} | {row['database']} | {row['iterations']} | {row['violations']} "
            f"| {outcomes} | {row['seconds']} |"
        )
    failures = [row for row in rows if row["violations"]]
    for row in failures:
        print(f"{row['race']} ({row['database']}): {row['first_violation']}")  # noqa: T201
    sys.exit(1 if failures or not rows else 0)


if __name__ == "__main__":
    main()
