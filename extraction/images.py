"""Page images sized for each provider, and what a page costs in image tokens.

Pages are stored at PAGE_IMAGE_MAX_PIXELS for people; a model may need fewer pixels than that
(and bills by them), so each provider gets the page scaled to EXTRACTION_IMAGE_MAX_PIXELS.
"""

from __future__ import annotations

import io
import math

from PIL import Image


def sized_for(png: bytes, *, max_pixels: int) -> bytes:
    """``png`` with its long side at most ``max_pixels``; unchanged when already within it
    (or when ``max_pixels`` is 0)."""
    if not png or max_pixels <= 0:
        return png
    with Image.open(io.BytesIO(png)) as image:
        if max(image.size) <= max_pixels:
            return png
        smaller = image.copy()
    smaller.thumbnail((max_pixels, max_pixels), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    smaller.save(buffer, format="PNG")
    return buffer.getvalue()


def image_size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        return image.size


def openai_image_tokens(width: int, height: int, *, detail: str = "high") -> int:
    """OpenAI's published formula for GPT-4o-class models: 85 tokens at detail "low"; at
    "high" the image is fitted in 2048x2048, its short side scaled to 768, and each 512-pixel
    tile costs 170 on top of the base 85."""
    if detail == "low":
        return 85
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = 768 / min(width, height)
    if scale < 1:
        width, height = width * scale, height * scale
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    return 85 + 170 * tiles


def anthropic_image_tokens(width: int, height: int) -> int:
    """Anthropic's published estimate, width * height / 750, after its own downscale of images
    whose long side exceeds 1568 pixels."""
    scale = min(1.0, 1568 / max(width, height))
    return math.ceil((width * scale) * (height * scale) / 750)
