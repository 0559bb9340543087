"""Waiting for a real worker: poll the database, never sleep a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    predicate: Callable[[], object], *, timeout: float = 60, what: str = "condition", worker=None
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    log = f"\nWorker log:\n{worker.output()[-4000:]}" if worker is not None else ""
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}.{log}")


def document_finished(document, *, worker=None, timeout: float = 90):
    def finished():
        document.refresh_from_db()
        return document.is_finished

    wait_for(finished, timeout=timeout, what=f"document {document.pk} to finish", worker=worker)
    return document
