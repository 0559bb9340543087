"""Bytes, image tokens and legibility of page images as sent to a provider, before and now.

The generated corpus (``evals.corpus``, seed 7, one document per type; a text PDF and a flatbed
scan of each) is rendered by the real sandboxed renderer, which also makes the image a model is
sent (``images.encoded_for_model``: a 16-colour PNG for a page drawn from a text layer, a JPEG
for a scan). Each page is compared three ways: as rendered and stored (1600 px, full-colour
PNG), as sent before this change (the stored page shrunk to 1024 px, full-colour PNG) and as
sent now. The fake provider never looks at pixels, so legibility is measured with a proxy run
here: RapidOCR reads each image, and a field counts as found when its expected value is located
in the OCR words (``grounding.locate``, the check the review screen uses to point at a value).
Also the other encodings measured before (JPEG q85 and WebP q80 for every page) for reference.

    .venv/bin/python -m bench.image_formats [--per-type 1] [--types pay_stub ...]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
django.setup()

from django.conf import settings  # noqa: E402
from django.test import override_settings  # noqa: E402
from PIL import Image  # noqa: E402

from evals.corpus import DOCUMENT_TYPES, generate_corpus  # noqa: E402
from extraction import ocr  # noqa: E402
from extraction.catalog import shipped_spec  # noqa: E402
from extraction.grounding import locate  # noqa: E402
from extraction.images import openai_image_tokens  # noqa: E402
from extraction.ingest import render_pages  # noqa: E402

MEDIA = {".pdf": "application/pdf", ".png": "image/png", ".tiff": "image/tiff"}
WAYS = ("as rendered", "sent before", "sent now")


def _before(png: bytes, max_pixels: int) -> bytes:
    """What ``images.sized_for`` sent before: the stored page shrunk, full-colour PNG."""
    image = Image.open(io.BytesIO(png))
    image.thumbnail((max_pixels, max_pixels), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _encoded(image: Image.Image, fmt: str, **options) -> int:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format=fmt, **options)
    return len(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=1)
    parser.add_argument("--types", nargs="+", choices=DOCUMENT_TYPES, default=None)
    args = parser.parse_args()
    send = settings.EXTRACTION_IMAGE_MAX_PIXELS["openai"]
    print(
        f"Load average {os.getloadavg()[0]:.1f}; OCR proxy: RapidOCR; sent at {send} px "
        "(OpenAI); generated corpus, seed 7.\n"
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-images-"))
    paths = generate_corpus(
        folder,
        per_type=args.per_type,
        types=args.types or DOCUMENT_TYPES,
        variants=("text_pdf", "scan"),
    )
    # variant -> way -> [bytes, tokens, found, wanted]; pages per variant
    totals: dict[str, dict[str, list[float]]] = {}
    pages: dict[str, int] = {}
    others: dict[str, list[int]] = {}
    encode_ms: dict[str, float] = {}
    with override_settings(EXTRACTION_OCR_ENGINE="rapidocr"):
        for path in paths:
            expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
            variant = expected["variant"]
            spec = shipped_spec(expected["document_type"])
            wanted = [
                (f.kind, expected["fields"][f.key])
                for f in spec.fields
                if not f.is_rows and expected["fields"].get(f.key)
            ]
            rendered = list(
                render_pages(
                    data=path.read_bytes(),
                    media_type=MEDIA[path.suffix],
                    max_pixels=settings.PAGE_IMAGE_MAX_PIXELS,
                    send_pixels=send,
                )
            )
            by_way = {
                "as rendered": [p.image for p in rendered],
                "sent before": [_before(p.image, send) for p in rendered],
                "sent now": [p.sent for p in rendered],
            }
            row = totals.setdefault(variant, {way: [0, 0, 0, 0] for way in WAYS})
            pages[variant] = pages.get(variant, 0) + len(rendered)
            for way, images in by_way.items():
                words_by_page = []
                for number, data in enumerate(images, start=1):
                    image = Image.open(io.BytesIO(data))
                    image.load()
                    row[way][0] += len(data)
                    row[way][1] += openai_image_tokens(*image.size)
                    words_by_page.append((number, ocr.read_page(image.convert("RGB")).words))
                    if way == "sent before":
                        started = time.perf_counter()
                        jpeg = _encoded(image, "JPEG", quality=85)
                        webp = _encoded(image, "WEBP", quality=80)
                        encode_ms[variant] = encode_ms.get(variant, 0) + (
                            time.perf_counter() - started
                        )
                        sizes = others.setdefault(variant, [0, 0])
                        sizes[0] += jpeg
                        sizes[1] += webp
                for kind, value in wanted:
                    row[way][3] += 1
                    row[way][2] += (
                        locate(
                            value=str(value),
                            kind=kind,
                            pages=words_by_page,
                            date_order=spec.date_order,
                        )
                        is not None
                    )
    print(
        "| pages | image | bytes per page | change | image tokens per page (OpenAI, high) "
        "| expected values OCR finds in it |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for variant, row in totals.items():
        count = pages[variant]
        before = row["sent before"][0] / count
        for way in WAYS:
            size, tokens, found, wanted = row[way]
            change = "" if way == "as rendered" else f"{100 * (size / count / before - 1):+.0f} %"
            share = 100 * found / max(wanted, 1)
            print(
                f"| {variant}, {count} pages | {way} | {size / count / 1024:.0f} KB | {change} "
                f"| {tokens / count:.0f} | {found}/{wanted} ({share:.0f} %) |"
            )
        jpeg, webp = others[variant]
        print(
            f"| {variant} | for reference: JPEG q85 / WebP q80 of the 'sent before' image "
            f"| {jpeg / count / 1024:.0f} / {webp / count / 1024:.0f} KB | | | |"
        )


if __name__ == "__main__":
    main()
