"""A document's sandboxed renderer kept between the slices of its reading.

Rendering is cut into slices (``pipeline._ingest``) so that a long file hands its worker back;
starting the sandboxed child again for every slice cost about 0.9 s of CPU each time (a fresh
interpreter, PDFium, the OCR models). When a slice ends with pages left, its renderer is
*parked* here instead of closed: the child stays blocked on its pipe, at most one page ahead,
and the next slice of the same document in the same worker process takes it back and goes on
from the next page. Everything the sandbox guarantees still holds: the child renders this one
file only (never another applicant's), under the same memory and CPU limits, and each page is
still awaited at most RENDER_PAGE_TIME_LIMIT_SECONDS.

A worker process parks at most ``MAX_PARKED`` renderers (the oldest is closed first) and closes
one that nobody took back within EXTRACTION_RENDERER_PARK_SECONDS (its next slice went to
another worker, or the reading was taken over): an idle child never outlives that. A closed
renderer kills its child (``sandbox.run`` ends it when its iteration stops).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .ingest import RenderedPage

logger = logging.getLogger(__name__)

MAX_PARKED = 1


@dataclass
class _Parked:
    key: tuple  # (document id, sha256, send_pixels): what the renderer renders, and how
    next_page: int  # the number of the page it yields next
    pages: Iterator[RenderedPage]
    parked_at: float
    token: int


_parked: dict[int, _Parked] = {}
_lock = threading.Lock()
_tokens = itertools.count(1)


def take(*, key: tuple, first: int) -> Iterator[RenderedPage] | None:
    """The renderer parked for ``key`` when its next page is ``first``, else None (and a
    renderer parked for the same document at another page is closed)."""
    with _lock:
        parked = _parked.pop(key[0], None)
    if parked is None:
        return None
    if parked.key == key and parked.next_page == first:
        return parked.pages
    _close(parked)
    return None


def park(*, key: tuple, next_page: int, pages: Iterator[RenderedPage], seconds: float) -> None:
    """Keep ``pages`` (whose next page is ``next_page``) for the next slice of the document,
    for at most ``seconds``; 0 closes it at once."""
    if seconds <= 0:
        pages.close()
        return
    token = next(_tokens)
    evicted = []
    with _lock:
        previous = _parked.pop(key[0], None)
        if previous is not None:
            evicted.append(previous)
        while len(_parked) >= MAX_PARKED:
            oldest = min(_parked.values(), key=lambda p: p.parked_at)
            evicted.append(_parked.pop(oldest.key[0]))
        _parked[key[0]] = _Parked(key, next_page, pages, time.monotonic(), token)
    for stale in evicted:
        _close(stale)
    timer = threading.Timer(seconds, _expire, args=(key[0], token))
    timer.daemon = True
    timer.start()


def parked_count() -> int:
    with _lock:
        return len(_parked)


def close_all() -> None:
    """Close every parked renderer (and so end its child): at exit, and in tests."""
    with _lock:
        parked = list(_parked.values())
        _parked.clear()
    for item in parked:
        _close(item)


def _expire(document_id: int, token: int) -> None:
    with _lock:
        parked = _parked.get(document_id)
        if parked is None or parked.token != token:
            return
        del _parked[document_id]
    logger.info("Closing the idle renderer of document %s", document_id)
    _close(parked)


def _close(parked: _Parked) -> None:
    try:
        parked.pages.close()
    except Exception:  # noqa: BLE001 - closing only kills a child; never fail the caller
        logger.exception("Closing the renderer of document %s failed", parked.key[0])


atexit.register(close_all)
