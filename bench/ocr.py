"""OCR engines side by side: how often the values a person needs appear in what each engine
reads, how long a page takes and how much memory the engine needs.

Datasets:
- ``receipts``: the 50 real receipt photos of ../shared/data/receipts-dev (read in place, never
  copied): the share of receipts whose expected date and whose total appear in the OCR words
  (as whole tokens, dates read day first as those receipts print them).
- ``generated``: the generated corpus's scans and photos (evals.corpus, seed 7): the share of
  date and money values of each document that appear in the OCR words.

Each engine runs in a child process of its own, so that peak memory (the child's and its own
children's, i.e. Tesseract's, largest resident set) is the engine's alone. Time per page is
wall time on the pages as the pipeline hands them over (raw pixels, upright-finding included).

    .venv/bin/python -m bench.ocr [--engines rapidocr tesseract] [--limit 50] [--per-type 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

RECEIPTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "receipts-dev"
if not RECEIPTS.is_dir():
    RECEIPTS = Path("/work/shared/data/receipts-dev")


def _pages(path: Path):
    from PIL import Image, ImageOps

    from extraction.ingest import flatten

    if path.suffix == ".pdf":
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(path.read_bytes())
        try:
            for page in document:
                yield page.render(scale=300 / 72).to_pil().convert("RGB")
        finally:
            document.close()
        return
    with Image.open(path) as image:
        frames = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            frames.append(flatten(ImageOps.exif_transpose(image.copy())))
    yield from frames


def _found(words, value: str, kind: str, date_order: str) -> bool:
    from extraction.grounding import locate

    return locate(value=value, kind=kind, pages=[(1, words)], date_order=date_order) is not None


def child(engine: str, dataset: str, limit: int, per_type: int) -> dict:
    """Read one dataset with one engine; runs inside the child process."""
    import django

    django.setup()
    from django.test import override_settings

    from extraction import ocr

    documents = []
    if dataset == "receipts":
        for answer in sorted(RECEIPTS.glob("*.expected.json"))[:limit]:
            fields = json.loads(answer.read_text())["fields"]
            image = answer.with_name(answer.name.replace(".expected.json", ".jpg"))
            wanted = [("date", fields["date"]), ("money", fields["total"])]
            documents.append((image, wanted, "DMY"))
    else:
        from evals.corpus import generate_corpus
        from extraction.catalog import shipped_spec

        folder = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
        for path in generate_corpus(folder, per_type=per_type, variants=("scan", "photo")):
            expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
            spec = shipped_spec(expected["document_type"])
            wanted = [
                (f.kind, expected["fields"][f.key])
                for f in spec.fields
                if f.kind in {"date", "money"} and expected["fields"].get(f.key)
            ]
            documents.append((path, wanted, ""))
    hits = {"date": [0, 0], "money": [0, 0]}
    seconds, pages = 0.0, 0
    with override_settings(EXTRACTION_OCR_ENGINE=engine):
        for path, wanted, order in documents:
            words = []
            for image in _pages(path):
                started = time.perf_counter()
                words += ocr.read_page(image).words
                seconds += time.perf_counter() - started
                pages += 1
            for kind, value in wanted:
                hits[kind][1] += 1
                hits[kind][0] += _found(words, value, kind, order)
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "engine": engine,
        "dataset": dataset,
        "documents": len(documents),
        "pages": pages,
        "date": hits["date"],
        "money": hits["money"],
        "seconds_per_page": seconds / max(pages, 1),
        "peak_mb": peak / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["rapidocr", "tesseract"])
    parser.add_argument("--datasets", nargs="+", default=["receipts", "generated"])
    parser.add_argument("--limit", type=int, default=50, help="receipts to read")
    parser.add_argument("--per-type", type=int, default=1, help="generated documents per type")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.limit, args.per_type)))
        return
    rows = []
    for dataset in args.datasets:
        for engine in args.engines:
            done = subprocess.run(  # noqa: S603 - this same script, fixed arguments
                [sys.executable, "-m", "bench.ocr", "--child", engine, dataset,
                 "--limit", str(args.limit), "--per-type", str(args.per_type)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                print(f"{engine} on {dataset} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print("| dataset | engine | docs | pages | date found | money found | s/page | peak MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        date_hit, date_all = row["date"]
        money_hit, money_all = row["money"]
        print(
            f"| {row['dataset']} | {row['engine']} | {row['documents']} | {row['pages']} | "
            f"{date_hit}/{date_all} ({100 * date_hit / max(date_all, 1):.0f}%) | "
            f"{money_hit}/{money_all} ({100 * money_hit / max(money_all, 1):.0f}%) | "
            f"{row['seconds_per_page']:.2f} | {row['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
