"""Prompt injection: how often it is detected, and how often clean paperwork is flagged.

Generates the labelled corpus of ``evals.corpus.injection`` (injections hidden eight ways, clean
documents that come close), reads each file as a worker would (``extraction.ingest``: text layer,
OCR for scans) and runs the detector of the ``ai_instructions`` rule on the document's text.
Prints detection per way of hiding and false alarms per kind of clean document.

    .venv/bin/python -m bench.injection [--no-scans]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections import defaultdict

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
django.setup()
# fpdf2 logs every font subset it makes.
logging.getLogger("fontTools").setLevel(logging.WARNING)

from django.conf import settings  # noqa: E402

from evals.corpus.injection import injection_corpus, missing_font  # noqa: E402
from extraction.ingest import render_pages  # noqa: E402
from extraction.injection import injection_signals, rendered_text  # noqa: E402


def document_text(data: bytes, media_type: str) -> str:
    pages = render_pages(
        data=data, media_type=media_type, max_pixels=settings.PAGE_IMAGE_MAX_PIXELS
    )
    return rendered_text(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-scans", action="store_true", help="leave out OCR'd scans (fast)")
    args = parser.parse_args()
    started = time.perf_counter()
    cases = injection_corpus(scans=not args.no_scans)
    by_mode: dict[str, list[bool]] = defaultdict(list)
    misses, alarms = [], []
    for case in cases:
        found = injection_signals(document_text(case.data, case.media_type))
        by_mode[case.mode].append(bool(found))
        if case.injected and not found:
            misses.append(case.name)
        if not case.injected and found:
            alarms.append(f"{case.name}: {found[0]}")
    print("| cases | how | detected / flagged | rate |")
    print("| --- | --- | ---: | ---: |")
    total_injected = total_detected = total_clean = total_alarms = 0
    for mode, hits in by_mode.items():
        clean = mode.startswith("clean")
        count = sum(hits)
        if clean:
            total_clean += len(hits)
            total_alarms += count
        else:
            total_injected += len(hits)
            total_detected += count
        kind = "clean (false alarms)" if clean else "injected"
        print(f"| {kind} | {mode} | {count} / {len(hits)} | {100 * count / len(hits):.1f} % |")
    print(
        f"| **injected** | all | {total_detected} / {total_injected} | "
        f"**{100 * total_detected / total_injected:.1f} %** (goal at least 95 %) |"
    )
    print(
        f"| **clean** | all | {total_alarms} / {total_clean} | "
        f"**{100 * total_alarms / total_clean:.1f} %** false alarms (goal at most 2 %) |"
    )
    if missing_font():
        print("\nDejaVu Sans is not installed: the zero-width and Cyrillic cases were left out.")
    print(f"\n{len(cases)} files read in {time.perf_counter() - started:.1f} s.")
    for name in misses:
        print(f"- missed: {name}")
    for alarm in alarms:
        print(f"- false alarm: {alarm}")


if __name__ == "__main__":
    main()
