"""Several worker machines sharing one bucket, measured: one worker, then two, on the same work.

Starts a private redis-server, moto's S3 server and the fake OpenAI-compatible server (answering
after --latency seconds, as a real model does) on 127.0.0.1, and a throwaway database (SQLite, or
PostgreSQL from DATABASE_URL). Each round starts its `celery worker` processes, each with a local
folder of its own (PRIVATE_STORAGE_ROOT, and the audit seal), as separate machines would have,
uploads --documents one-page pay stubs from this process (the web side, with a third folder),
and waits until every one is read. It then checks, per document: read exactly once (one
provider call, one run, the expected values), original and page image in the bucket; and that no
local folder holds a file. Prints a Markdown table.

    .venv/bin/python -m bench.multi_worker [--documents 100] [--workers 1 2] [--latency 1.0]

Throughput is documents over the time from the first reading's start to the last one's end
(database timestamps), so that process start-up and uploads are not counted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tests.fakes.s3_server import FakeS3Server

# The web side's settings must point at the bucket before Django starts (bench.reliability
# starts it, with a private Redis on a free port).
S3 = FakeS3Server()
BUCKET = "attest-multi-worker"
os.environ.update(S3.env(BUCKET))
WEB_FOLDER = Path(tempfile.mkdtemp(prefix="attest-web-files-"))
os.environ["PRIVATE_STORAGE_ROOT"] = str(WEB_FOLDER)
os.environ["AUDIT_SEAL_PATH"] = str(WEB_FOLDER.parent / f"{WEB_FOLDER.name}-seal.log")

from bench.database import throwaway_database  # noqa: E402
from bench.reliability import RedisServer, World, _until, connection_vendor  # noqa: E402
from extraction.catalog import document_types_sync  # noqa: E402
from extraction.models import Document, ExtractionRun  # noqa: E402
from extraction.services import document_upload  # noqa: E402
from tests.builders import PAY_STUB_VALUES, pay_stub_pdf, upload  # noqa: E402
from tests.fakes.llm_server import FakeLLMServer  # noqa: E402


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def one_round(
    world: World, pay_stub, *, workers: int, documents: int, concurrency: int, tag: str
) -> dict:
    folders = [Path(tempfile.mkdtemp(prefix=f"attest-machine-{tag}-{i}-")) for i in range(workers)]
    processes = [
        world.worker(
            name=f"machine-{tag}-{i}",
            concurrency=concurrency,
            PRIVATE_STORAGE_ROOT=str(folder),
            AUDIT_SEAL_PATH=str(folder.parent / f"{folder.name}-seal.log"),
        )
        for i, folder in enumerate(folders)
    ]
    files = [pay_stub_pdf(f"MW-{tag}-{n}") for n in range(documents)]
    calls_before = len(world.fake.requests)
    uploaded: list[Document] = []
    for n, data in enumerate(files):
        application = world.application()
        uploaded.append(
            document_upload(
                application=application,
                uploaded_file=upload(f"stub-{tag}-{n}.pdf", data),
                actor=application.owner,
                document_type=pay_stub,
            )
        )
    ids = [d.pk for d in uploaded]
    _until(
        lambda: (
            Document.objects.filter(pk__in=ids, status__in=Document.FINISHED).count() == documents
        ),
        120 + 30 * documents,
        f"{documents} documents to be read",
    )
    for process in processes:
        process.kill()

    read_once = missing = 0
    keys = set(S3.keys(BUCKET))
    for document in Document.objects.filter(pk__in=ids).prefetch_related("pages", "fields"):
        runs = list(document.runs.values_list("outcome", flat=True))
        values = {f.key: f.value for f in document.fields.all()}
        if (
            document.status == Document.Status.EXTRACTED
            and runs == [ExtractionRun.Outcome.OK]
            and values == PAY_STUB_VALUES
        ):
            read_once += 1
        names = [document.original.name, *(p.image.name for p in document.pages.all())]
        missing += sum(1 for name in names if name not in keys) + (document.pages.count() != 1)
    started = min(
        Document.objects.filter(pk__in=ids).values_list("processing_started_at", flat=True)
    )
    ended = max(Document.objects.filter(pk__in=ids).values_list("updated_at", flat=True))
    seconds = (ended - started).total_seconds()
    local = sum(len(files_under(folder)) for folder in [*folders, WEB_FOLDER])
    return {
        "workers": workers,
        "documents": documents,
        "read_once": read_once,
        "calls": len(world.fake.requests) - calls_before,
        "missing": missing,
        "local": local,
        "shares": [p.output().count(" succeeded in ") for p in processes],
        "seconds": seconds,
        "per_minute": documents / seconds * 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, default=1, help="processes per worker")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per provider call")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="attest-multi-worker-"))
    redis_server = RedisServer(folder)
    redis_server.start()
    S3.start()
    S3.create_bucket(BUCKET)
    fake = FakeLLMServer(latency=args.latency).start()
    fake.expect(PAY_STUB_VALUES)
    rows = []
    try:
        with throwaway_database():
            types = {t.key: t for t in document_types_sync()}
            for workers in args.workers:
                world = World(folder, fake, redis_server, {})
                try:
                    rows.append(
                        one_round(
                            world,
                            types["pay_stub"],
                            workers=workers,
                            documents=args.documents,
                            concurrency=args.concurrency,
                            tag=f"w{workers}",
                        )
                    )
                finally:
                    world.close()
                print(f"[{workers} worker(s): {rows[-1]['seconds']:.1f} s]", file=sys.stderr)
            database = connection_vendor()
    finally:
        fake.stop()
        S3.stop()
        redis_server.stop(save=False)

    base = rows[0]["per_minute"]
    print(
        f"\n{len(rows)} rounds on {os.cpu_count()} cores, {database}, redis-server, moto S3 "
        f"server; fake LLM answering after {args.latency:g} s; {args.concurrency} process(es) "
        f"per worker, each worker with its own local folder\n"
    )
    print(
        "| workers | documents | read exactly once | provider calls | files missing | "
        "files in local folders | documents per worker | seconds | documents/min | vs 1 worker |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['workers']} | {row['documents']} | {row['read_once']} | {row['calls']} | "
            f"{row['missing']} | {row['local']} | {' / '.join(map(str, row['shares']))} | "
            f"{row['seconds']:.1f} | {row['per_minute']:.1f} | {row['per_minute'] / base:.2f}x |"
        )
    ok = all(
        r["read_once"] == r["documents"] == r["calls"] and not r["missing"] and not r["local"]
        for r in rows
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
