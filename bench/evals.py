"""Evals on the generated corpus: the local provider's accuracy per variant, and what an
evaluate run adds to the provider's own time.

1. Accuracy: ``--per-type`` documents of each type in every variant (text PDF, image PDF, PNG,
   scan, photo), read by the ``local`` provider; accuracy per variant and per type, and the
   values invented on required fields (the target is none).
2. Overhead: the same text PDFs read by the OpenAI provider against the fake server answering
   after a fixed latency. Baseline: only the provider calls (pages rendered beforehand), at the
   same concurrency. Evaluate: the whole run (render, read, ground, score). Overhead is the
   difference over the baseline (target < 5%).

    .venv/bin/python -m bench.evals [--per-type 2] [--latency 1.0] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

from django.test import override_settings  # noqa: E402

from evals import runner  # noqa: E402
from evals.corpus import DOCUMENT_TYPES, generate_corpus  # noqa: E402
from evals.corpus.variants import VARIANTS  # noqa: E402
from evals.rendering import render  # noqa: E402
from evals.report import percent, table  # noqa: E402
from evals.specs import SpecSource  # noqa: E402
from extraction.providers.base import ExtractionRequest  # noqa: E402
from extraction.providers.local import LocalProvider  # noqa: E402
from tests.fakes import FakeLLMServer  # noqa: E402


def accuracy(folder: Path, per_type: int, concurrency: int) -> None:
    started = time.perf_counter()
    generate_corpus(folder, per_type=per_type, seed=7)
    generated = time.perf_counter() - started
    specs = SpecSource(use_database=False)
    run = runner.run(folder, provider=LocalProvider(), concurrency=concurrency, specs=specs)
    summary = run["summary"]
    print(
        f"### Local provider accuracy by variant\n\n{per_type} documents per type x "
        f"{len(DOCUMENT_TYPES)} types x {len(VARIANTS)} variants, seed 7 (corpus made in "
        f"{generated:.0f} s, read in {run['meta']['wall_seconds']:.0f} s). Accuracy counts "
        "correct blanks; match = value read and right, over fields the document shows.\n"
    )
    rows = []
    for variant in VARIANTS:
        group = summary["by_variant"].get(variant)
        if group is None:
            continue
        fields, required = group["fields"], group["required_fields"]
        rows.append(
            [
                variant,
                group["documents"],
                percent(fields["accuracy"]),
                percent(fields["match_rate"]),
                percent(required["match_rate"]),
                percent(fields["empty_rate"]),
                fields["wrong"],
                fields["invented"],
                required["invented"],
                required["wrong"],
                percent(fields["grounded_rate"]),
            ]
        )
    headers = (
        "variant", "docs", "accuracy", "match", "match (required)", "empty", "wrong",
        "invented", "invented (required)", "wrong (required)", "grounded",
    )  # fmt: skip
    print(table(headers, rows, markdown=True))
    print("\n### Local provider accuracy by type and variant\n")
    by_type_variant: dict[tuple[str, str], list[dict]] = {}
    for document in run["documents"]:
        key = (document["document_type"], document["variant"])
        by_type_variant.setdefault(key, []).append(document)
    from evals.scoring import summarize

    rows = []
    for document_type in DOCUMENT_TYPES:
        cells = [document_type]
        for variant in VARIANTS:
            documents = by_type_variant.get((document_type, variant), [])
            fields = summarize(documents)["overall"]["fields"] if documents else None
            cells.append(percent(fields["accuracy"]) if fields else "-")
        rows.append(cells)
    print(table(("type", *VARIANTS), rows, markdown=True))
    worst = sorted(summary["by_field"], key=lambda r: r["accuracy"] or 0)[:8]
    print("\nLeast accurate fields (all variants):\n")
    print(
        table(
            ("type", "field", "accuracy", "empty", "wrong", "invented"),
            [
                [
                    r["document_type"],
                    r["field"],
                    percent(r["accuracy"]),
                    percent(r["empty_rate"]),
                    r["wrong"],
                    r["invented"],
                ]  # fmt: skip
                for r in worst
            ],
            markdown=True,
        )
    )


def overhead(folder: Path, per_type: int, latency: float, concurrency: int) -> None:
    from extraction.providers.openai import OpenAIProvider

    generate_corpus(folder, per_type=per_type, seed=8, variants=("text_pdf",))
    documents = runner.discover(folder)
    specs = SpecSource(use_database=False)
    with FakeLLMServer(latency=latency) as server, override_settings(
        LLM_BASE_URL=server.base_url, LLM_API_KEY="sk-bench", LLM_MODEL="gpt-4o-mini",
        EXTRACTION_PAGES_PER_CALL=8,
    ):  # fmt: skip
        provider = OpenAIProvider.from_settings()
        # Baseline: the provider calls alone, with every request built beforehand.
        pages = {}
        requests = []
        for document in documents:
            pages[document.path], _ = render(document.path.read_bytes(), document.media_type, 1600)
            spec = specs.get(document.expected["document_type"])
            inputs = tuple(runner._page_inputs(provider, pages[document.path]))
            requests.append(ExtractionRequest(document_type=spec, pages=inputs))
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(provider.extract, requests))
        baseline = time.perf_counter() - started
        prerendered = runner.run(
            folder, provider=provider, concurrency=concurrency, specs=specs, rendered_pages=pages
        )
        run = runner.run(folder, provider=provider, concurrency=concurrency, specs=specs)
    wall = run["meta"]["wall_seconds"]
    own_wall = prerendered["meta"]["wall_seconds"]
    own = sum(d["score_seconds"] for d in run["documents"])
    calls = sum(d.get("calls", 0) for d in run["documents"])
    print(
        f"\n### Evaluate overhead\n\n{len(documents)} text PDFs ({run['meta']['pages']} pages, "
        f"{calls} calls) read by the OpenAI provider against the fake server answering after "
        f"{latency:.1f} s, {concurrency} at a time.\n"
    )
    print(
        table(
            ("run", "wall s", "vs provider calls alone"),
            [
                ["provider calls alone (requests built beforehand)", f"{baseline:.2f}", "-"],
                [
                    "evaluate, pages already rendered (size images, read, ground, score)",
                    f"{own_wall:.2f}",
                    f"{100 * (own_wall - baseline) / baseline:+.1f}%",
                ],
                [
                    "evaluate from the files (render pages too)",
                    f"{wall:.2f}",
                    f"{100 * (wall - baseline) / baseline:+.1f}%",
                ],
            ],
            markdown=True,
        )
    )
    print(
        f"\nGrounding and scoring took {own:.3f} s in all "
        f"({100 * own / baseline:.2f}% of the provider's time); rendering runs in worker "
        "processes while earlier documents wait on the provider."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=2, help="documents per type (accuracy)")
    parser.add_argument("--overhead-per-type", type=int, default=4)
    # Two seconds a call, as in the extraction benchmark: a fast vision model on one page.
    parser.add_argument("--latency", type=float, default=2.0, help="fake server seconds per call")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attest-evals-") as folder:
        if not args.skip_accuracy:
            accuracy(Path(folder) / "accuracy", args.per_type, min(args.concurrency, 2))
        if not args.skip_overhead:
            overhead(
                Path(folder) / "overhead", args.overhead_per_type, args.latency, args.concurrency
            )


if __name__ == "__main__":
    main()
