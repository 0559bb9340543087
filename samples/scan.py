"""A PDF page made to look like a flatbed scan, for measuring OCR."""

from __future__ import annotations

import io
import random

import pypdfium2 as pdfium
from PIL import Image, ImageChops, ImageFilter


def scanned_png(pdf: bytes, rng: random.Random, *, dpi: int = 200, angle: float = 1.0) -> bytes:
    """The first page as a flatbed scan: grey paper, a slight tilt, grain and a soft focus."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        document.close()
    paper = 228
    # Ink prints a little lighter than pure black and the paper is grey, not white.
    image = image.point(lambda v: 35 + v * (paper - 35) // 255)
    image = image.rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=paper - 30
    )
    grain = Image.frombytes("L", image.size, rng.randbytes(image.width * image.height))
    grain = grain.point(lambda v: 128 + (v - 128) // 9)
    image = ImageChops.add(image, grain, scale=1.0, offset=-128)
    image = image.filter(ImageFilter.GaussianBlur(0.7))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
