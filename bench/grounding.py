"""Grounding a long statement: every value and every transaction row located on its pages.

A generated bank statement of N pages with 30 rows a page, rendered once (text layer); then
every field of its true values is grounded as ``fields_save`` does, through one ``PageWords``
index. The goal (issue #13): 50 pages and 1,500 rows in under 0.5 s.

    .venv/bin/python -m bench.grounding [--pages 50 20 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from evals.corpus import bank_statement  # noqa: E402
from extraction.catalog import shipped_spec  # noqa: E402
from extraction.grounding import PageWords, locate, locate_rows  # noqa: E402
from extraction.ingest import render_pages  # noqa: E402

ROWS_PER_PAGE = 30


def ground(spec, fields: dict, words: list) -> tuple[float, int, int]:
    """Seconds to ground every field, rows grounded, rows."""
    started = time.perf_counter()
    index = PageWords(words)
    rows_found = rows = 0
    for field in spec.fields:
        value = fields.get(field.key)
        if not value:
            continue
        if field.is_rows:
            columns = [(c.key, c.kind) for c in field.columns]
            found = locate_rows(rows=value, columns=columns, pages=index)
            rows, rows_found = len(found), sum(1 for f in found if f)
        else:
            locate(
                value=value,
                kind=field.kind,
                pages=index,
                date_order=spec.date_order,
                unsigned=field.sign == "magnitude",
            )
    return time.perf_counter() - started, rows_found, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 20, 50])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median kept)")
    args = parser.parse_args()
    spec = shipped_spec("bank_statement")
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f} (a shared "
        f"machine: timings vary with it); median of {args.repeat}\n"
    )
    print("| pages | rows | rows grounded | grounding (all fields) | per row |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for pages in args.pages:
        statement = bank_statement.generate(
            random.Random(7),
            inject=False,
            tamper=False,
            rows=pages * ROWS_PER_PAGE,
            rows_per_page=ROWS_PER_PAGE,
        )
        rendered = render_pages(data=statement.pdf, media_type="application/pdf", max_pixels=1600)
        words = [(page.number, page.words) for page in rendered]
        runs = [ground(spec, statement.fields, words) for _ in range(args.repeat)]
        seconds = statistics.median(r[0] for r in runs)
        _, found, rows = runs[0]
        print(
            f"| {len(words)} | {rows} | {found} | {seconds:.3f} s "
            f"| {1e6 * seconds / max(rows, 1):.0f} us |",
            flush=True,
        )


if __name__ == "__main__":
    main()
