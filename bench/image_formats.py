"""Bytes of a page image as sent to a provider: PNG (what is sent) against JPEG and WebP.

One generated statement page (seed 7), as a text PDF and as a flatbed scan, rendered and sized
for OpenAI as the pipeline does, then re-encoded. Bytes only: OpenAI bills image tokens by the
image's size, not its bytes, and the fake provider never looks at the pixels, so accuracy needs
a run against a real model before any switch.

    .venv/bin/python -m bench.image_formats
"""

from __future__ import annotations

import io
import os
import random
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.conf import settings  # noqa: E402
from PIL import Image  # noqa: E402

from evals.corpus import bank_statement  # noqa: E402
from evals.corpus.variants import make_variant  # noqa: E402
from extraction.images import sized_for  # noqa: E402
from extraction.ingest import render_pages  # noqa: E402

ENCODINGS = [("JPEG q85", "JPEG", {"quality": 85}), ("WebP q80", "WEBP", {"quality": 80})]
MEDIA = {"pdf": "application/pdf", "png": "image/png", "tiff": "image/tiff"}


def main() -> None:
    print(f"Load average {os.getloadavg()[0]:.1f} (a shared machine: timings vary with it)\n")
    print(
        "| page | size sent | PNG (sent today) | " + " | ".join(n for n, _, _ in ENCODINGS) + " |"
    )
    print("| --- | --- | ---: |" + " ---: |" * len(ENCODINGS))
    statement = bank_statement.generate(random.Random(7), inject=False, tamper=False)
    for variant in ("text_pdf", "scan"):
        data, extension = make_variant(statement.pdf, variant, random.Random(7))
        page = next(
            render_pages(
                data=data,
                media_type=MEDIA[extension],
                max_pixels=settings.PAGE_IMAGE_MAX_PIXELS,
            )
        )
        png = sized_for(page.png, max_pixels=settings.EXTRACTION_IMAGE_MAX_PIXELS["openai"])
        image = Image.open(io.BytesIO(png)).convert("RGB")
        cells = []
        for _, fmt, options in ENCODINGS:
            buffer = io.BytesIO()
            started = time.perf_counter()
            image.save(buffer, format=fmt, **options)
            ms = 1000 * (time.perf_counter() - started)
            cells.append(f"{len(buffer.getvalue()) // 1024} KB ({ms:.0f} ms)")
        print(
            f"| statement p.1, {variant} | {image.width}x{image.height} | {len(png) // 1024} KB "
            f"| {' | '.join(cells)} |"
        )


if __name__ == "__main__":
    main()
