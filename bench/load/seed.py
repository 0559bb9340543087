"""The load test's database: PostgreSQL with 100,000 submitted applications, seeded once.

Creates the database when it is missing, migrates it, and seeds it with
``bench.review_screens.build`` (bulk_create: applicants, a read pay stub per application with
its page, five fields, their revisions and audit events, flags on one in three), all in one
transaction, so that an interrupted seed leaves nothing behind. A database that already holds
the applications is reused as it is.

    .venv/bin/python -m bench.load.seed [--database-url postgres://.../attest_load]
"""

from __future__ import annotations

import argparse
import os
import random
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/attest_load"
PASSWORD = "attest-load-password"  # noqa: S105 - the load test's own throwaway accounts
# Applicants who sign in during the run (each owns two submitted applications) and reviewers.
APPLICANTS = 100
REVIEWER_EMAIL = "riley@example.com"


def applicant_email(number: int) -> str:
    return f"applicant{number}@example.com"


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')  # name from our own URL, not user input
            print(f"created database {name}")


def seed(count: int, url: str) -> None:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User
    from applications.models import Application
    from audit.models import AuditEvent, AuditHead
    from bench.review_screens import build
    from extraction.catalog import document_types_sync

    call_command("migrate", verbosity=0)
    document_types_sync()
    have = Application.objects.count()
    if have >= count:
        print(f"reusing the database: {have:,} applications already there")
        return
    if have:
        raise SystemExit(
            f"The database holds {have:,} applications, fewer than {count:,}: drop it "
            f"(dropdb -h 127.0.0.1 -U postgres {url.rsplit('/', 1)[1]}) and run again."
        )
    started = time.monotonic()
    with transaction.atomic():
        build(count, random.Random(10), owners=count // 2)  # noqa: S311 - reproducible bench data
        # The production server checks passwords with its own (PBKDF2) hasher.
        hashed = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
        emails = [applicant_email(n) for n in range(APPLICANTS)] + [REVIEWER_EMAIL]
        User.objects.filter(email__in=emails).update(password=hashed)
        # The seeded events carry placeholder MACs; the app's own events chain on from the
        # last of them, so the head must point past them.
        last = AuditEvent.objects.order_by("-sequence").first()
        AuditHead.objects.update_or_create(
            pk=1,
            defaults={"sequence": last.sequence, "mac": last.mac, "created_at": last.created_at},
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {count:,} applications in {time.monotonic() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--applications", type=int, default=100_000)
    args = parser.parse_args()
    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    seed(args.applications, args.database_url)


if __name__ == "__main__":
    main()
