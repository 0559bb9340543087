"""Per-page cost of Attest's own reading work, without any LLM's latency.

For each generated sample: rendering pages (with the text layer or OCR), the `local` provider's
reading, and grounding every value on the page. Prints a Markdown table.

    .venv/bin/python -m bench.pipeline [--repeat N]
"""

from __future__ import annotations

import argparse
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

from extraction.catalog import shipped_spec  # noqa: E402
from extraction.grounding import locate  # noqa: E402
from extraction.ingest import render_pages  # noqa: E402
from extraction.providers.base import ExtractionRequest, PageInput  # noqa: E402
from extraction.providers.local import LocalProvider  # noqa: E402
from samples.generate import expected_path, generate_samples  # noqa: E402

MEDIA = {".pdf": "application/pdf", ".png": "image/png"}


def measure(path: Path) -> dict:
    import json

    expected = json.loads(expected_path(path).read_text())
    spec = shipped_spec(expected["document_type"])
    data = path.read_bytes()
    started = time.perf_counter()
    pages = list(render_pages(data=data, media_type=MEDIA[path.suffix], max_pixels=1600))
    rendered = time.perf_counter()
    request = ExtractionRequest(
        document_type=spec,
        pages=tuple(PageInput(number=p.number, image_png=p.image, text=p.text) for p in pages),
    )
    result = LocalProvider().extract(request)
    read = time.perf_counter()
    words = [(p.number, p.words) for p in pages]
    for spec_field in spec.fields:
        value = result.values.get(spec_field.key)
        if value:
            locate(value=value, kind=spec_field.kind, pages=words)
    grounded = time.perf_counter()
    return {
        "pages": len(pages),
        "source": pages[0].text_source,
        "render": (rendered - started) / len(pages),
        "read": (read - rendered) / len(pages),
        "ground": (grounded - read) / len(pages),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per document (median kept)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="attest-bench-"))
    documents = generate_samples(folder)
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; median of {args.repeat} runs, seconds per page\n"
    )
    print("| document | pages | text from | render + words | local reading | grounding | total |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for path in documents:
        runs = [measure(path) for _ in range(args.repeat)]
        median = {k: statistics.median(r[k] for r in runs) for k in ("render", "read", "ground")}
        total = sum(median.values())
        print(
            f"| {path.name} | {runs[0]['pages']} | {runs[0]['source']} | {median['render']:.3f} "
            f"| {median['read']:.3f} | {median['ground']:.4f} | {total:.3f} |"
        )


if __name__ == "__main__":
    main()
