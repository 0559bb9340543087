"""What the document type screens cost: a preview on a sample, and the accuracy check.

In a throwaway database, with the shipped types loaded:

- the preview of a one-page text PDF (a lease, with a lease type defined as data) and of one
  real receipt photo (``../shared/data/receipts-dev``, read in place) with the shipped receipt
  type: inspection and rendering in the sandboxed child, the offline reader, grounding;
- the accuracy check of the shipped receipt type on ``--samples`` labelled receipt photos of that
  folder (attached as samples, their answers from the ``.expected.json`` beside each), run in
  this process as the Celery task runs it: per-field accuracy of the offline reader and the
  seconds per sample.

    .venv/bin/python -m bench.type_screens [--samples 10] [--receipts ../shared/data/receipts-dev]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("PRIVATE_STORAGE_ROOT", tempfile.mkdtemp(prefix="attest-bench-types-"))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
django.setup()

from accounts.models import User  # noqa: E402
from bench.database import throwaway_database  # noqa: E402
from core.models import Job  # noqa: E402
from evals.accuracy import ACCURACY_JOB, type_accuracy_run, type_sample_add  # noqa: E402
from extraction.catalog import definition_of, document_types_sync  # noqa: E402
from extraction.models import DocumentType  # noqa: E402
from extraction.ocr import engine_name  # noqa: E402
from extraction.type_services import document_type_preview  # noqa: E402
from tests.types.conftest import LEASE  # noqa: E402
from tests.types.samples import lease_pdf  # noqa: E402

RECEIPTS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "receipts-dev"


def _preview(definition: dict, data: bytes, name: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    preview = document_type_preview(data=definition, file_bytes=data, filename=name)
    seconds = time.perf_counter() - started
    if preview.error:
        raise SystemExit(f"{name}: {preview.error}")
    values = preview.readings[0].values
    return seconds, sum(1 for v in values if v.value), sum(1 for v in values if v.box)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--receipts", type=Path, default=RECEIPTS)
    args = parser.parse_args()
    photos = sorted(args.receipts.glob("*.expected.json"))[: args.samples]
    with throwaway_database():
        document_types_sync()
        admin = User.objects.create_user(email="bench@example.com")
        receipt = DocumentType.objects.get(key="receipt")
        rows = []
        seconds, found, boxed = _preview(LEASE, lease_pdf(), "lease.pdf")
        rows.append(
            (
                "preview, lease text PDF (3 fields)",
                f"{seconds:.2f} s",
                f"{found} read, {boxed} boxed",
            )
        )
        if photos:
            photo = photos[0].with_name(photos[0].name.replace(".expected.json", ".jpg"))
            seconds, found, boxed = _preview(definition_of(receipt), photo.read_bytes(), photo.name)
            rows.append(
                (
                    f"preview, receipt photo {photo.name} (4 fields)",
                    f"{seconds:.2f} s",
                    f"{found} read, {boxed} boxed",
                )
            )
        for answer in photos:
            photo = answer.with_name(answer.name.replace(".expected.json", ".jpg"))
            expected = json.loads(answer.read_text())["fields"]
            type_sample_add(
                actor=admin,
                document_type=receipt,
                data=photo.read_bytes(),
                filename=photo.name,
                expected=expected,
            )
        if photos:
            job = Job.objects.create(
                kind=ACCURACY_JOB, label="bench", arguments={"type_key": "receipt"}
            )
            started = time.perf_counter()
            type_accuracy_run(job_id=job.pk)
            seconds = time.perf_counter() - started
            job.refresh_from_db()
            if job.status != Job.Status.SUCCEEDED:
                raise SystemExit(f"The check failed: {job.message}")
            rows.append(
                (
                    f"accuracy check, {len(photos)} receipt photos, offline reader",
                    f"{seconds / len(photos):.2f} s a sample",
                    "",
                )
            )
            for field in job.result["readers"]["local"]["fields"]:
                rows.append(
                    (
                        f"  receipt {field['key']}",
                        f"{field['right']} of {field['of']}",
                        f"{field['wrong']} wrong, {field['invented']} invented",
                    )
                )
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"Machine: {machine}, Python {platform.python_version()}, OCR {engine_name()}")
    print("| what | figure | note |\n| --- | --- | --- |")
    for what, figure, note in rows:
        print(f"| {what} | {figure} | {note} |")


if __name__ == "__main__":
    main()
