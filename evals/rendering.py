"""Rendering corpus documents into pages, in worker processes.

PDFium is not thread-safe, and OCR is CPU-bound: pages are rendered in a small process pool
while the runner's threads wait on the provider. The pool forks: a spawned or forkserver
worker re-imports the main module (Django and all) and took seconds to start, which is more
than rendering a small corpus. The runner submits every file before it starts its own threads,
so the workers are forked from a process that is not in the middle of a provider call.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import replace

from extraction.images import sized_for
from extraction.ingest import RenderedPage, render_pages


def render(
    data: bytes, media_type: str, max_pixels: int, send_pixels: int = 0
) -> tuple[list[RenderedPage], float]:
    """Every page of one file, and the seconds it took.

    ``send_pixels``: also size each page image as the provider will be sent it, here in the
    worker process, so that the threads waiting on the provider do no image work.
    """
    started = time.perf_counter()
    pages = list(render_pages(data=data, media_type=media_type, max_pixels=max_pixels))
    if send_pixels:
        pages = [
            replace(
                page,
                image=sized_for(page.image, max_pixels=send_pixels, text_source=page.text_source),
            )
            for page in pages
        ]
    return pages, time.perf_counter() - started


class Renderer:
    """Renders in-process with one worker, else in a pool of ``workers`` processes."""

    def __init__(self, workers: int) -> None:
        self._pool: Executor | None = None
        if workers > 1:
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)

    def submit(self, data: bytes, media_type: str, max_pixels: int, send_pixels: int = 0) -> Future:
        if self._pool is None:
            future: Future = Future()
            try:
                future.set_result(render(data, media_type, max_pixels, send_pixels))
            except Exception as error:  # handed to the caller through the future, as a pool does
                future.set_exception(error)
            return future
        return self._pool.submit(render, data, media_type, max_pixels, send_pixels)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
