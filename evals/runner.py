"""Running a provider over a corpus folder, as the pipeline would read each document.

For every document with an answer file beside it: render its pages (text layer or OCR), read
them with the provider in page groups (``extraction.reading``, the pipeline's own code), merge,
ground each value on the page's words and score it. Documents are read by ``concurrency``
threads, so an LLM provider sees that many calls at once; pages are rendered in worker processes
(``rendering``). Nothing is written to the database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from extraction.grounding import PageWords, locate, locate_rows
from extraction.images import sized_for
from extraction.ingest import RenderedPage
from extraction.providers.base import PageInput, Provider
from extraction.reading import merge_values, page_groups, read_groups
from extraction.schemas import DocumentTypeSpec, rows_loads

from . import scoring
from .rendering import Renderer
from .specs import SpecSource

EXPECTED_SUFFIX = ".expected.json"
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".heic": "image/heic",
}
LOCAL = "local"


@dataclass(frozen=True)
class CorpusDocument:
    path: Path
    expected: dict[str, Any]

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.path.suffix.lower()]


def discover(corpus: Path) -> list[CorpusDocument]:
    """Every document under ``corpus`` that has a ``<name>.expected.json`` beside it.

    Works for the generated corpus, ``export_corpus`` output and a folder of real documents
    with hand-written answer files alike.
    """
    found = []
    for answer in sorted(Path(corpus).rglob(f"*{EXPECTED_SUFFIX}")):
        stem = answer.name[: -len(EXPECTED_SUFFIX)]
        for candidate in sorted(answer.parent.glob(f"{stem}.*")):
            if candidate != answer and candidate.suffix.lower() in MEDIA_TYPES:
                found.append(CorpusDocument(candidate, json.loads(answer.read_text())))
                break
    return found


def _variant(document: CorpusDocument, pages: list[RenderedPage]) -> str:
    """The answer file's variant; for real documents, what the file turned out to be."""
    if document.expected.get("variant"):
        return str(document.expected["variant"])
    if document.media_type == "application/pdf":
        return "text_pdf" if any(p.text_source == "text_layer" for p in pages) else "image_pdf"
    return "image"


def _page_inputs(provider: Provider, pages: list[RenderedPage]) -> list[PageInput]:
    # As the pipeline does: the local provider reads text only; an LLM gets each page sized.
    max_pixels = settings.EXTRACTION_IMAGE_MAX_PIXELS.get(provider.name, 0)
    return [
        PageInput(
            number=page.number,
            image_png=b""
            if provider.name == LOCAL
            else sized_for(page.image, max_pixels=max_pixels, text_source=page.text_source),
            text=page.text,
        )
        for page in pages
    ]


def _grounded(spec_field, value: str, words: PageWords, date_order: str = "") -> bool:
    if spec_field.is_rows:
        columns = [(c.key, c.kind) for c in spec_field.columns]
        rows = rows_loads(value)
        return bool(rows) and all(locate_rows(rows=rows, columns=columns, pages=words))
    found = locate(
        value=value,
        kind=spec_field.kind,
        pages=words,
        date_order=date_order,
        unsigned=spec_field.sign == "magnitude",
    )
    return found is not None


def score_document(
    spec: DocumentTypeSpec,
    expected_fields: dict[str, Any],
    values: dict[str, str | None],
    words: list[tuple[int, list]],
) -> dict[str, dict[str, Any]]:
    """Each answered field's outcome, the value read, and whether it stands on the page.

    Fields the answer file leaves out (masked on export, or not known) are not scored.
    """
    expected_reference = scoring.latest_date(spec, expected_fields)
    value_reference = scoring.latest_date(spec, values)
    scored = {}
    for spec_field in spec.fields:
        if spec_field.key not in expected_fields:
            continue
        value = values.get(spec_field.key)
        result = scoring.outcome(
            spec_field,
            expected=expected_fields[spec_field.key],
            value=value,
            expected_reference=expected_reference,
            value_reference=value_reference,
        )
        scored[spec_field.key] = {
            "outcome": result,
            "required": spec_field.required,
            "expected": expected_fields[spec_field.key],
            "value": value,
            "grounded": _grounded(spec_field, value, words, spec.date_order) if value else None,
        }
    return scored


def evaluate_document(
    document: CorpusDocument,
    *,
    provider: Provider,
    spec: DocumentTypeSpec,
    pages: list[RenderedPage],
    render_seconds: float,
) -> dict[str, Any]:
    """One document's reading, scored. Provider errors are recorded, never raised."""
    inputs = _page_inputs(provider, pages)
    size = 0 if provider.name == LOCAL else settings.EXTRACTION_PAGES_PER_CALL
    groups = page_groups([page.number for page in pages], size=size)
    started = time.perf_counter()
    outcomes = read_groups(
        provider=provider,
        spec=spec,
        pages=inputs,
        groups=groups,
        slots=None,
        max_threads=settings.EXTRACTION_PROVIDER_CONCURRENCY.get(provider.name, 4),
    )
    provider_seconds = time.perf_counter() - started
    values, _ = merge_values(spec, outcomes)
    started = time.perf_counter()
    words = PageWords([(page.number, page.words) for page in pages])
    fields = score_document(spec, document.expected.get("fields", {}), values, words)
    score_seconds = time.perf_counter() - started
    results = [o.result for o in outcomes if o.result is not None]
    return {
        "document_type": spec.key,
        "variant": _variant(document, pages),
        "labels": list(document.expected.get("labels", [])),
        "pages": len(pages),
        "text_source": sorted({page.text_source for page in pages}),
        "calls": len(outcomes),
        "errors": [o.error.message for o in outcomes if o.error is not None],
        "model": next((r.model for r in results if r.model), provider.model),
        "tokens_in": sum(r.tokens_in for r in results),
        "tokens_out": sum(r.tokens_out for r in results),
        "cost": str(sum((r.cost for r in results), Decimal("0"))),
        "latency_ms": sum(r.latency_ms for r in results),
        "render_seconds": round(render_seconds, 4),
        "provider_seconds": round(provider_seconds, 4),
        "score_seconds": round(score_seconds, 4),
        "fields": fields,
    }


def _failed(document: CorpusDocument, message: str) -> dict[str, Any]:
    return {
        "document_type": document.expected.get("document_type", ""),
        "variant": document.expected.get("variant", ""),
        "labels": list(document.expected.get("labels", [])),
        "pages": 0,
        "errors": [message],
        "fields": {},
    }


def run(
    corpus: Path,
    *,
    provider: Provider,
    concurrency: int = 4,
    render_workers: int | None = None,
    specs: SpecSource | None = None,
    progress: Callable[[int, int], None] | None = None,
    rendered_pages: dict[Path, list[RenderedPage]] | None = None,
) -> dict[str, Any]:
    """Read and score every document of ``corpus``; the run as JSON-ready data.

    ``rendered_pages``: pages already rendered, by document path (a benchmark separating the
    run's own overhead from rendering); other documents are rendered as usual.
    """
    import os

    from extraction.prompts import PROMPT_VERSION

    documents = discover(corpus)
    specs = specs or SpecSource()
    # Looked up here, in the caller's thread and database connection, not in the pool's.
    for key in sorted({d.expected.get("document_type", "") for d in documents}):
        specs.get(key)
    if render_workers is None:
        render_workers = min(concurrency, os.cpu_count() or 1)
    started_at = datetime.now(tz=UTC)
    started = time.perf_counter()
    done = 0
    max_pixels = settings.PAGE_IMAGE_MAX_PIXELS
    send_pixels = (
        0 if provider.name == LOCAL else settings.EXTRACTION_IMAGE_MAX_PIXELS.get(provider.name, 0)
    )

    with Renderer(render_workers) as renderer:
        # Rendering is queued for every document up front, so pages are ready as threads free up.
        rendered = []
        for document in documents:
            if rendered_pages and document.path in rendered_pages:
                ready: Future = Future()
                ready.set_result((rendered_pages[document.path], 0.0))
                rendered.append(ready)
            else:
                data = document.path.read_bytes()
                rendered.append(renderer.submit(data, document.media_type, max_pixels, send_pixels))

        def one(index: int) -> dict[str, Any]:
            nonlocal done
            document = documents[index]
            spec = specs.get(document.expected.get("document_type", ""))
            try:
                if spec is None:
                    result = _failed(document, "Unknown document type.")
                else:
                    pages, render_seconds = rendered[index].result()
                    result = evaluate_document(
                        document,
                        provider=provider,
                        spec=spec,
                        pages=pages,
                        render_seconds=render_seconds,
                    )
            except Exception as error:  # one bad file must not end a long run
                result = _failed(document, f"{type(error).__name__}: {error}")
            result["path"] = str(document.path.relative_to(corpus))
            done += 1
            if progress:
                progress(done, len(documents))
            return result

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            results = list(pool.map(one, range(len(documents))))

    wall_seconds = time.perf_counter() - started
    return {
        "meta": {
            "provider": provider.name,
            "model": provider.model,
            "prompt_version": PROMPT_VERSION,
            "corpus": str(corpus),
            "documents": len(results),
            "pages": sum(r["pages"] for r in results),
            "concurrency": concurrency,
            "started_at": started_at.isoformat(timespec="seconds"),
            "wall_seconds": round(wall_seconds, 3),
            "schema_versions": specs.versions(),
        },
        "documents": results,
        "summary": scoring.summarize(results),
    }
