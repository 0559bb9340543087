"""Upload to ``extracted`` through the real pipeline, against the fake OpenAI-compatible server.

Each document is uploaded with ``document_upload`` and read by ``document_process`` (render,
store, size, read in page groups under the provider limit, validate, merge, ground, save) on a
throwaway database, with the settings' defaults except the provider: ``openai`` pointed at the
fake server, which answers each call after L seconds with the true values of the pages it was
sent (a statement's rows page by page, as a model would). The documents are generated: a bank
statement with 31 rows a page, the same statement scanned (an image-only PDF of JPEG scans,
read by OCR), and a one-page pay stub.

For each document and L it prints the wall time, when the first call left, the physical limit
L x ceil(calls / C) (C is the provider's concurrency setting), the time spent beyond it, the
wall time over the 1-page stub's, our own CPU per page (this process's, its children's, and
its sandboxed children's, which their zygote reaps and reports: ``zygote.forked_cpu_seconds``;
the fake provider's request threads are measured apart with ``time.thread_time`` and taken
out, since a real provider's work is not ours; the zygotes' own start, once per process, is
not per document), the same with the OCR engine's time on scanned pages taken out (the renderer
reports it per page), and the image bytes sent per page.
``document_process`` runs again while it says there is more to do (slices of
EXTRACTION_SLICE_SECONDS), as the Celery task would send it again; the broker's round trip is
not counted.

    .venv/bin/python -m bench.real_pipeline [--quick] [--pages 20] [--latency 0.5 2]
        [--documents statement scan stub]
"""

from __future__ import annotations

import argparse
import base64
import gc
import logging
import math
import os
import platform
import random
import re
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from applications.services import application_create  # noqa: E402
from bench.database import throwaway_database  # noqa: E402
from config.settings import base as defaults  # noqa: E402
from evals.corpus import bank_statement, pay_stub  # noqa: E402
from evals.corpus.variants import images_as_pdf, pages_as_images, scanned  # noqa: E402
from extraction import pipeline, sandbox, zygote  # noqa: E402
from extraction.catalog import document_types_sync  # noqa: E402
from extraction.models import Document  # noqa: E402
from extraction.pipeline import Outcome, document_process  # noqa: E402
from extraction.services import document_upload  # noqa: E402
from tests.builders import upload  # noqa: E402
from tests.fakes import FakeLLMServer, llm_server  # noqa: E402

ROWS_PER_PAGE = 31  # 20 pages: 620 rows, about the 624 of the statement
_PAGE = re.compile(r"^Page (\d+):", re.MULTILINE)


@dataclass
class Case:
    name: str
    filename: str
    data: bytes
    type_key: str
    fields: dict
    rows_per_page: int = 0  # the statement's rows, split by page for the fake's answers


def cases(pages: int) -> list[Case]:
    statement = bank_statement.generate(
        random.Random(7),
        inject=False,
        tamper=False,
        rows=pages * ROWS_PER_PAGE,
        rows_per_page=ROWS_PER_PAGE,
    )
    # Flatbed scans of every page in an image-only PDF, as a scanning app writes them (a TIFF
    # of 20 pages at 200 dpi is over the 25 MB upload limit).
    rng = random.Random(7)
    scan = images_as_pdf(
        [scanned(image, rng) for image in pages_as_images(statement.pdf)], jpeg_quality=72
    )
    stub = pay_stub.generate(random.Random(7), inject=False, tamper=False)
    return [
        Case(
            f"{pages}-page statement, {pages * ROWS_PER_PAGE} rows (text PDF)",
            "statement.pdf",
            statement.pdf,
            "bank_statement",
            statement.fields,
            ROWS_PER_PAGE,
        ),
        Case(
            f"{pages}-page statement, scanned (image-only PDF, OCR)",
            "statement-scan.pdf",
            scan,
            "bank_statement",
            statement.fields,
            ROWS_PER_PAGE,
        ),
        Case("1-page pay stub (text PDF)", "stub.pdf", stub.pdf, "pay_stub", stub.fields),
    ]


def answer_for(case: Case):
    """The fake model's answer to one call: the header values, and the rows of its pages."""

    def values(record) -> dict:
        answer = dict(case.fields)
        if case.rows_per_page:
            numbers = [int(n) for part in record.text_parts() for n in _PAGE.findall(part)]
            rows = case.fields["transactions"]
            answer["transactions"] = [
                row
                for n in sorted(set(numbers))
                for row in rows[(n - 1) * case.rows_per_page : n * case.rows_per_page]
            ]
        return answer

    return values


def _cpu() -> float:
    """CPU seconds of this process, its finished children, and its finished sandboxed children
    (forked by a zygote, which reaps them and reports their CPU), less the fake provider's."""
    return (
        sum(
            usage.ru_utime + usage.ru_stime
            for usage in (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
        )
        + zygote.forked_cpu_seconds()
        - _provider_cpu[0]
    )


_provider_cpu = [0.0]  # CPU seconds the fake provider's request threads spent


def _count_provider_cpu() -> None:
    dispatch = llm_server._Handler._dispatch

    def counted(handler) -> None:
        started = time.thread_time()
        try:
            dispatch(handler)
        finally:
            _provider_cpu[0] += time.thread_time() - started

    llm_server._Handler._dispatch = counted


def run(case: Case, server: FakeLLMServer, application, types) -> dict:
    server.requests.clear()
    server.answer_by(answer_for(case))
    ocr_seconds = []
    store = pipeline._store

    def noted(lease, document, rendered, stream):
        # The renderer says how long the OCR engine took on each page; the rest is ours.
        ocr_seconds.extend(page.ocr_seconds for page in rendered)
        return store(lease, document, rendered, stream)

    pipeline._store = noted
    cpu_started = _cpu()
    started = time.perf_counter()
    started_monotonic = time.monotonic()
    document = document_upload(
        application=application,
        uploaded_file=upload(case.filename, case.data),
        actor=application.owner,
        document_type=types[case.type_key],
    )
    slices = 1
    while document_process(document_id=document.pk) == Outcome.MORE:
        slices += 1
    wall = time.perf_counter() - started
    cpu = _cpu() - cpu_started
    pipeline._store = store
    images = [url for request in server.requests for url in request.image_urls()]
    image_bytes = sum(len(base64.b64decode(url.split(",", 1)[1])) for url in images)
    document = Document.objects.get(pk=document.pk)
    fields = list(document.fields.all())
    return {
        "status": document.status,
        "pages": document.pages.count(),
        "calls": len(server.requests),
        "wall": wall,
        "cpu": cpu,
        "ocr": sum(ocr_seconds),
        "image_bytes": image_bytes,
        "images": len(images),
        "first_call": min((r.received_at for r in server.requests), default=0) - started_monotonic,
        "slices": slices,
        "grounded": sum(f.grounded for f in fields),
        "fields": sum(1 for f in fields if f.value),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5-page documents, L = 0.5 s only")
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.5, 2.0])
    parser.add_argument(
        "--slice-seconds",
        type=float,
        default=defaults.EXTRACTION_SLICE_SECONDS,
        help="EXTRACTION_SLICE_SECONDS (the default's; a large one reads in one go)",
    )
    parser.add_argument(
        "--documents", nargs="+", choices=["statement", "scan", "stub"], default=None
    )
    args = parser.parse_args()
    pages, latencies = (5, [0.5]) if args.quick else (args.pages, args.latency)
    # The deployment's defaults, not the tests' shortcuts (the tests read in one slice).
    settings.EXTRACTION_SLICE_SECONDS = args.slice_seconds
    settings.EXTRACTION_PROVIDER = "openai"
    settings.LLM_API_KEY = "sk-bench"
    settings.LLM_MODEL = "gpt-4o-mini"
    concurrency = settings.EXTRACTION_PROVIDER_CONCURRENCY.get("openai", 4)
    per_call = settings.EXTRACTION_PAGES_PER_CALL
    load = os.getloadavg()
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, database {settings.DATABASES['default']['ENGINE']}"
        f"; load average at start {load[0]:.1f} (a shared machine: timings vary with it). "
        f"Defaults: {per_call} pages per call, C = {concurrency} calls at once, slices of "
        f"{settings.EXTRACTION_SLICE_SECONDS:g} s.\n"
    )
    print(
        "| document | L | pages | calls | status | fields grounded | first call after | wall "
        "| limit L x ceil(calls / C) | wall - limit | wall / 1-page wall | our CPU per page "
        "| same, OCR stage excluded | image bytes per page | slices |"
    )
    print(
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: |"
    )
    documents = [
        case
        for key, case in zip(("statement", "scan", "stub"), cases(pages), strict=True)
        if key in (args.documents or [key]) or key == "stub"  # the 1-page stub is the yardstick
    ]
    # As a worker process starts (extraction.tasks): its render zygote, and the upload-check
    # zygote a web process has after its first upload. A first, untimed document then pays for
    # this process's own first imports (no bytecode is cached on this machine).
    sandbox.prestart("render", memory_bytes=settings.RENDER_MEMORY_LIMIT_MB * 1024 * 1024)
    sandbox.prestart("inspect", memory_bytes=settings.PARSE_MEMORY_LIMIT_MB * 1024 * 1024)
    _count_provider_cpu()
    time.sleep(3)
    with throwaway_database():
        types = {t.key: t for t in document_types_sync()}
        owner = get_user_model().objects.create_user(email="bench@example.com")
        for latency in latencies:
            with FakeLLMServer(latency=latency) as server:
                settings.LLM_BASE_URL = server.base_url
                # A fresh application (and model name) per L, so that no call is served
                # from the reading cache of an earlier run.
                settings.LLM_MODEL = f"gpt-4o-mini-bench-{latency:g}"
                application = application_create(owner=owner, stated_name="Bench")
                if latency == latencies[0]:
                    model, settings.LLM_MODEL = settings.LLM_MODEL, "gpt-4o-mini-warm-up"
                    warm_up = next(c for c in documents if not c.rows_per_page)
                    run(warm_up, server, application_create(owner=owner, stated_name="Warm"), types)
                    settings.LLM_MODEL = model
                    server.requests.clear()
                    # As a Celery pool process does at its start (config/celery.py), once
                    # what a reading imports is loaded.
                    gc.freeze()
                one_page = None
                # The 1-page stub first: it is the yardstick of the others.
                for case in sorted(documents, key=lambda c: c.rows_per_page > 0):
                    r = run(case, server, application, types)
                    one_page = one_page or r["wall"]
                    limit = latency * math.ceil(r["calls"] / concurrency)
                    print(
                        f"| {case.name} | {latency:g} s | {r['pages']} | {r['calls']} "
                        f"| {r['status']} | {r['grounded']}/{r['fields']} "
                        f"| {r['first_call']:.2f} s | {r['wall']:.2f} s "
                        f"| {limit:.2f} s | {r['wall'] - limit:+.2f} s "
                        f"| {r['wall'] / one_page:.2f}x | {1000 * r['cpu'] / r['pages']:.0f} ms "
                        f"| {1000 * (r['cpu'] - r['ocr']) / r['pages']:.0f} ms "
                        f"| {r['image_bytes'] / max(r['images'], 1) / 1024:.0f} KB "
                        f"| {r['slices']} |",
                        flush=True,
                    )
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}.", file=sys.stdout)


if __name__ == "__main__":
    Path(settings.PRIVATE_STORAGE_ROOT).mkdir(parents=True, exist_ok=True)
    main()
