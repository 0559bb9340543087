"""The extraction engine's own costs: overhead per page, parallel wall time, image tokens.

1. Pipeline overhead per page, excluding the provider's latency: render (text layer or OCR),
   size page images, build and send the request to the fake OpenAI server answering at once,
   validate, merge and ground. For a text PDF and a scan.
2. Wall time of the parallel reading step alone (``read_groups``) for 1 and 20 pages against
   the fake server at 2 s per call, against the sum of the calls. One small pre-rendered page
   repeated: no rendering, storing, grounding or saving, so it is NOT a document's wall time;
   ``bench.real_pipeline`` times upload to ``extracted``.
3. Image tokens per page, as sent (sized per provider) against the page as rendered: OpenAI's
   tile formula (detail high and low) and Anthropic's width * height / 750.

Prints Markdown tables. ``--quick``: one run and 0.5 s calls instead of 2 s.

    .venv/bin/python -m bench.extraction [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
django.setup()
# One log line per HTTP request would bury the tables.
logging.getLogger("httpx").setLevel(logging.WARNING)

from django.conf import settings  # noqa: E402

from extraction.catalog import shipped_spec  # noqa: E402
from extraction.concurrency import ProviderSlots  # noqa: E402
from extraction.grounding import locate, locate_rows  # noqa: E402
from extraction.images import (  # noqa: E402
    anthropic_image_tokens,
    image_size,
    openai_image_tokens,
    sized_for,
)
from extraction.ingest import render_pages  # noqa: E402
from extraction.providers.base import PageInput  # noqa: E402
from extraction.providers.openai import OpenAIProvider  # noqa: E402
from extraction.reading import merge_values, page_groups, read_groups  # noqa: E402
from extraction.schemas import DocumentTypeSpec, rows_loads  # noqa: E402
from samples.generate import expected_path, generate_samples  # noqa: E402
from tests.fakes import FakeLLMServer  # noqa: E402

MEDIA = {".pdf": "application/pdf", ".png": "image/png"}
PAGES_PER_CALL = 4
CONCURRENCY = 8


def _provider(server: FakeLLMServer) -> OpenAIProvider:
    return OpenAIProvider(base_url=server.base_url, model="gpt-4o-mini", timeout_seconds=30)


def overhead(path: Path, spec: DocumentTypeSpec, server: FakeLLMServer) -> dict:
    """Seconds per page for each step of one document, the provider answering at once."""
    started = time.perf_counter()
    rendered = list(
        render_pages(
            data=path.read_bytes(),
            media_type=MEDIA[path.suffix],
            max_pixels=settings.PAGE_IMAGE_MAX_PIXELS,
        )
    )
    t_render = time.perf_counter()
    max_pixels = settings.EXTRACTION_IMAGE_MAX_PIXELS.get("openai", 0)
    pages = [
        PageInput(number=p.number, image_png=sized_for(p.image, max_pixels=max_pixels), text=p.text)
        for p in rendered
    ]
    t_size = time.perf_counter()
    outcomes = read_groups(
        provider=_provider(server),
        spec=spec,
        pages=pages,
        groups=page_groups([p.number for p in pages], size=PAGES_PER_CALL),
        slots=None,
    )
    values, _ = merge_values(spec, outcomes)
    t_call = time.perf_counter()
    words = [(p.number, p.words) for p in rendered]
    for field in spec.fields:
        value = values.get(field.key)
        if not value:
            continue
        if field.is_rows:
            columns = [(c.key, c.kind) for c in field.columns]
            locate_rows(rows=rows_loads(value), columns=columns, pages=words)
        else:
            locate(value=value, kind=field.kind, pages=words)
    t_ground = time.perf_counter()
    n = len(rendered)
    return {
        "pages": n,
        "source": rendered[0].text_source,
        "render": (t_render - started) / n,
        "size": (t_size - t_render) / n,
        "call": (t_call - t_size) / n,
        "ground": (t_ground - t_call) / n,
    }


def wall_time(server: FakeLLMServer, pages: int, per_call: int) -> dict:
    spec = shipped_spec("bank_statement")
    server.requests.clear()
    png = next(render_pages(data=_text_pdf(1), media_type="application/pdf", max_pixels=1600)).image
    inputs = [PageInput(number=n, image_png=png, text=f"Page {n}") for n in range(1, pages + 1)]
    groups = page_groups([p.number for p in inputs], size=per_call)
    slots = ProviderSlots(
        name="bench", limit=CONCURRENCY, redis_url=settings.CELERY_BROKER_URL, lease_seconds=60
    )
    started = time.perf_counter()
    outcomes = read_groups(
        provider=_provider(server),
        spec=spec,
        pages=inputs,
        groups=groups,
        slots=slots,
        max_threads=CONCURRENCY,
    )
    wall = time.perf_counter() - started
    failed = [o.error for o in outcomes if o.result is None]
    if failed:
        raise SystemExit(f"A call failed: {failed[0]}")
    calls = sum(o.result.latency_ms for o in outcomes) / 1000
    return {"calls": len(groups), "wall": wall, "sum": calls, "overlap": server.max_overlap()}


def _text_pdf(pages: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    pdf.set_font("Helvetica", size=11)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(0, 6, f"Statement page {n}")
    return bytes(pdf.output())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run, 0.5 s calls")
    args = parser.parse_args()
    repeat, latency = (1, 0.5) if args.quick else (3, 2.0)
    folder = Path(tempfile.mkdtemp(prefix="attest-bench-"))
    documents = {p.name: p for p in generate_samples(folder)}
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {'quick' if args.quick else 'full'} run\n"
    )

    print(f"### Pipeline overhead per page (fake provider answering at once; median of {repeat})")
    print()
    print(
        "| document | pages | text from | render + words | size images | call + validate "
        "| grounding | total |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    with FakeLLMServer() as server:
        # The fake model answers with each sample's true values, so that grounding has work.
        server.answer_by(
            lambda record: answers[record.body["response_format"]["json_schema"]["name"]]
        )
        answers = {}
        for name, key in [
            ("bank_statement_2026-01.pdf", "bank_statement"),
            ("pay_stub_2026-01-30.pdf", "pay_stub"),
            ("pay_stub_2026-01-16_scan.png", "pay_stub"),
        ]:
            spec = shipped_spec(key)
            answers[spec.schema_name] = json.loads(expected_path(documents[name]).read_text())[
                "fields"
            ]
            runs = [overhead(documents[name], spec, server) for _ in range(repeat)]
            steps = ("render", "size", "call", "ground")
            median = {k: statistics.median(r[k] for r in runs) for k in steps}
            print(
                f"| {name} | {runs[0]['pages']} | {runs[0]['source']} | {median['render']:.3f} s "
                f"| {median['size']:.3f} s | {median['call']:.3f} s | {median['ground']:.4f} s "
                f"| {sum(median.values()):.3f} s |"
            )

    print(
        f"\n### The reading step alone (read_groups, one pre-rendered page repeated; not a "
        f"document's wall time, see bench.real_pipeline) at {latency:g} s per call "
        f"(limit {CONCURRENCY} calls in flight)\n"
    )
    print("| pages | pages per call | calls | wall time | sum of calls | most calls at once |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    with FakeLLMServer(latency=latency) as server:
        for pages, per_call in [(1, PAGES_PER_CALL), (20, PAGES_PER_CALL), (20, 1), (20, 0)]:
            result = wall_time(server, pages, per_call)
            print(
                f"| {pages} | {per_call or 'all'} | {result['calls']} | {result['wall']:.2f} s "
                f"| {result['sum']:.2f} s | {result['overlap']} |"
            )

    print("\n### Image tokens per page: as rendered vs as sent\n")
    sent_openai = settings.EXTRACTION_IMAGE_MAX_PIXELS.get("openai", 0)
    sent_anthropic = settings.EXTRACTION_IMAGE_MAX_PIXELS.get("anthropic", 0)
    print(
        f"Rendered: long side {settings.PAGE_IMAGE_MAX_PIXELS} px. Sent: OpenAI {sent_openai} px, "
        f"Anthropic {sent_anthropic} px (EXTRACTION_IMAGE_MAX_PIXELS).\n"
    )
    print(
        "| page | rendered px | PNG KB rendered / sent to OpenAI | OpenAI high: rendered / sent "
        "| OpenAI low | Anthropic: rendered / sent |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name in [
        "pay_stub_2026-01-30.pdf",
        "bank_statement_2026-01.pdf",
        "pay_stub_2026-01-16_scan.png",
    ]:
        path = documents[name]
        page = next(
            render_pages(
                data=path.read_bytes(),
                media_type=MEDIA[path.suffix],
                max_pixels=settings.PAGE_IMAGE_MAX_PIXELS,
            )
        )
        w, h = page.width, page.height
        to_openai = sized_for(page.image, max_pixels=sent_openai)
        to_anthropic = sized_for(page.image, max_pixels=sent_anthropic)
        ow, oh = image_size(to_openai)
        aw, ah = image_size(to_anthropic)
        print(
            f"| {name} p.1 | {w}x{h} | {len(page.png) // 1024} / {len(to_openai) // 1024} "
            f"| {openai_image_tokens(w, h)} / {openai_image_tokens(ow, oh)} "
            f"| {openai_image_tokens(ow, oh, detail='low')} "
            f"| {w * h // 750} (billed {anthropic_image_tokens(w, h)}) / "
            f"{anthropic_image_tokens(aw, ah)} |"
        )


if __name__ == "__main__":
    main()
