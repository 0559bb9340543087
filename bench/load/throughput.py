"""Documents per minute through the fake provider with 1, 2 and 4 worker processes.

Uses the machinery of ``bench.reliability``: a private redis-server on a free port, real
``celery worker`` processes (prefork, ``--concurrency C``), the fake OpenAI-compatible server of
tests/fakes answering every call after L seconds, and a throwaway database (PostgreSQL from
DATABASE_URL as ``test_<name>``, or SQLite). For each C, N one-page pay stubs (each unique, so
no reading is reused from the cache) are uploaded while no worker runs; then the worker starts
and the clock runs from its "ready" to the last document read.

The ceiling is C/L documents per second when the provider's latency is all a reading waits for
(one call per one-page document); our own CPU work per document (the rendering child, grounding,
rules, the database) bounds it too: at most cores / (CPU seconds per document).

    .venv/bin/python -m bench.load.throughput [--latency 2] [--documents 24] [--processes 1 2 4]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from bench.database import throwaway_database
from bench.reliability import RedisServer, World, _until  # sets Django and a private Redis up
from tests.builders import PAY_STUB_VALUES
from tests.fakes.llm_server import FakeLLMServer

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: set[int]) -> float:
    """User + system time of these processes and of their children that have been waited for
    (a prefork child's rendering children, the worker's own exited children)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat(5), 12-15 after "(comm)".
        total += sum(int(value) for value in fields[11:15])
    return total / TICKS


def measure(processes: int, documents: int, latency: float) -> dict:
    from extraction.models import Document

    folder = Path(tempfile.mkdtemp(prefix=f"attest-throughput-{processes}-"))
    redis_server = RedisServer(folder)
    redis_server.start()
    fake = FakeLLMServer(latency=latency).start()
    fake.expect(PAY_STUB_VALUES)
    world = World(folder, fake, redis_server, {})
    try:
        uploaded = [world.upload() for _ in range(documents)]
        ids = [d.pk for d in uploaded]
        load_before = os.getloadavg()[0]
        worker = world.worker(f"throughput-{processes}", concurrency=processes)
        started = time.monotonic()
        cpu_start = cpu_seconds(worker.pids())
        pending = Document.objects.filter(pk__in=ids)

        def done() -> bool:
            return not any(
                not d.is_finished for d in pending.only("status", "pages_done", "page_count")
            )

        _until(done, timeout=60 + documents * (latency + 30), what="documents to be read")
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(worker.pids()) - cpu_start
        read = Document.objects.filter(pk__in=ids, status=Document.Status.EXTRACTED).count()
        calls = len(fake.requests)
    finally:
        world.close()
        fake.stop()
        redis_server.stop(save=False)
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "processes": processes,
        "documents": documents,
        "read": read,
        "calls": calls,
        "seconds": elapsed,
        "per_minute": documents / elapsed * 60,
        "limit": processes / latency * 60,
        "cpu_per_document": cpu / documents,
        "load": (load_before + os.getloadavg()[0]) / 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per provider call")
    parser.add_argument("--documents", type=int, default=24, help="documents per worker count")
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2, 4])
    args = parser.parse_args()
    results = []
    with throwaway_database():
        from django.db import connection

        from extraction.catalog import document_types_sync

        document_types_sync()
        vendor = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
        for processes in args.processes:
            results.append(measure(processes, args.documents, args.latency))
    cores = os.cpu_count() or 1
    print(
        f"\n## Documents per minute: one-page pay stubs (text layer), fake provider answering "
        f"after L = {args.latency:g} s, {args.documents} documents per row, {vendor}, "
        f"{cores} cores, Python {platform.python_version()}\n"
    )
    # What one reading takes besides the provider's L seconds, from one process reading alone.
    single = next((r for r in results if r["processes"] == 1), None)
    own = single["seconds"] / single["documents"] - args.latency if single else None
    print(
        "| worker processes C | read | provider calls | wall s | documents / min | "
        "limit C/L / min | limit C/(L+S) / min | CPU s / document | CPU bound / min | "
        "load average |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        cpu_bound = cores * 60 / r["cpu_per_document"] if r["cpu_per_document"] else float("inf")
        serial = f"{r['processes'] * 60 / (args.latency + own):.0f}" if own else "-"
        print(
            f"| {r['processes']} | {r['read']}/{r['documents']} | {r['calls']} | "
            f"{r['seconds']:.1f} | {r['per_minute']:.1f} | {r['limit']:.0f} | {serial} | "
            f"{r['cpu_per_document']:.2f} | {cpu_bound:.0f} | {r['load']:.1f} |"
        )
    print(
        "\nlimit C/L: C readings in flight, each waiting L seconds for its one provider call. "
        + (
            f"S = {own:.2f} s: the rest of one reading (rendering child, grounding, rules, "
            "database, queue), from the C = 1 row. "
            if own
            else ""
        )
        + "CPU bound: the worker's own CPU seconds per document (rendering child included) "
        f"spread over {cores} cores, as if the machine were the worker's alone."
    )


if __name__ == "__main__":
    main()
