"""`manage.py verify_history`: check the whole history; exit 1 and name the first broken row."""

from __future__ import annotations

import os
import time

from django.core.management.base import BaseCommand, CommandError

from extraction.verification import history_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed chain and seal, every field revision and every field's "
        "current value. Prints the first broken row and exits 1 when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size", type=int, default=5000, help="Rows fetched per round trip."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="Processes reading the trail at once (default: the cores, at most 4).",
        )
        parser.add_argument(
            "--quiet-progress", action="store_true", help="Print no progress lines."
        )

    def handle(self, *args, chunk_size: int, workers: int, quiet_progress: bool, **options):
        started = time.monotonic()
        tty = self.stderr.isatty()
        shown = {"percent": -1}

        def progress(done: int, total: int) -> None:
            if quiet_progress:
                return
            percent = int(100 * done / total) if total else 100
            if tty:
                self.stderr.write(
                    f"\rVerifying: {done:,} of {total:,} rows ({percent}%)", ending=""
                )
            elif percent // 10 > shown["percent"] // 10:
                self.stderr.write(f"Verifying: {done:,} of {total:,} rows ({percent}%)")
            shown["percent"] = percent

        report = history_verify(chunk_size=chunk_size, progress=progress, workers=workers)
        if tty and not quiet_progress:
            self.stderr.write("")
        seconds = time.monotonic() - started
        if report.ok:
            self.stdout.write(self.style.SUCCESS(report.summary()) + f" ({seconds:.1f} s)")
            return
        self.stderr.write(self.style.ERROR(report.summary()))
        for problem in report.problems[1:]:
            self.stderr.write(f"  also: {problem}")
        raise CommandError("The history did not verify.", returncode=1)
