"""Page images sized and encoded for each provider, and what a page costs in image tokens.

Pages are stored at PAGE_IMAGE_MAX_PIXELS for people; a model may need fewer pixels than that
(and bills by them), so each provider gets the page scaled to EXTRACTION_IMAGE_MAX_PIXELS and
encoded for what it shows (``encoded_for_model``): a page drawn from a text layer as a PNG of
at most 16 colours (crisp text, about a fifth of the bytes of a full-colour PNG), a scan or a
photo as a JPEG (a PNG of camera noise is several times larger). The README's "Bytes sent"
figures, from ``python -m bench.image_formats``, show that OCR reads the same values from the
images as sent as from the pages as rendered.
"""

from __future__ import annotations

import io
import math

from PIL import Image

# Colours of the palette a text page is sent in: anti-aliased black text, a logo's colour and
# a coloured stamp keep their look; 16 was the smallest that read as the full-colour page did.
TEXT_PAGE_COLOURS = 16
SCAN_JPEG_QUALITY = 85
TEXT_LAYER = "text_layer"


def sized_for(png: bytes, *, max_pixels: int, text_source: str = TEXT_LAYER) -> bytes:
    """The stored page image ``png`` as a model is sent it: long side at most ``max_pixels``
    (0: as stored), encoded by ``encoded_for_model``. ``b""`` stays ``b""``."""
    if not png:
        return png
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return encoded_for_model(_grey_again(image), max_pixels=max_pixels, text_source=text_source)


# Pages stored before grey_png wrote grey PNGs were palette PNGs whose palette is every grey in
# order (Pillow tries every row filter on each row of a grey image, and none on a palette one).
_EVERY_GREY = bytes(level for level in range(256) for _ in range(3))


def grey_png(image: Image.Image) -> bytes:
    """The grey (mode L) ``image`` as a grey PNG, written by OpenCV's libpng with no row
    filter, zlib level 1 and run-length matching only: a rendered page is runs of paper and
    ink, which filters do not shorten (on a 1,600-pixel statement page 3.9 ms and 104 KB, where
    Pillow's palette PNG of the same pixels took 4.8 ms and its grey PNG with every filter tried
    8.8). Raises ``ValueError`` if OpenCV writes nothing (and OpenCV raises ``cv2.error`` for
    an array it cannot take; a mode L image is always one it can)."""
    import cv2
    import numpy as np

    written, png = cv2.imencode(
        ".png",
        np.asarray(image),
        [
            cv2.IMWRITE_PNG_COMPRESSION,
            1,
            cv2.IMWRITE_PNG_STRATEGY,
            cv2.IMWRITE_PNG_STRATEGY_RLE,
            cv2.IMWRITE_PNG_FILTER,
            cv2.IMWRITE_PNG_FILTER_NONE,
        ],
    )
    if not written:
        raise ValueError("OpenCV could not write the page as a PNG")
    return png.tobytes()


def _grey_again(image: Image.Image) -> Image.Image:
    """A grey page stored as a palette of every grey (before ``grey_png`` wrote grey PNGs), as
    the grey image it was; any other as it is."""
    if image.mode == "P" and bytes(image.getpalette() or ()) == _EVERY_GREY:
        return image.convert("L")
    return image


def as_rgb(image: Image.Image) -> Image.Image:
    """``image`` in RGB: itself when it already is (``convert`` would copy every pixel, 2-5 ms
    a page), else converted as Pillow does."""
    return image if image.mode == "RGB" else image.convert("RGB")


def encoded_for_model(image: Image.Image, *, max_pixels: int, text_source: str) -> bytes:
    """``image`` scaled to fit ``max_pixels`` (0: as it is) and encoded for a model: a page
    drawn from a text layer (``text_source`` "text_layer") as a PNG of TEXT_PAGE_COLOURS
    colours (evenly spaced greys when ``image`` is grey, mode L), any other (a scan, a photo)
    as a JPEG at SCAN_JPEG_QUALITY. Bytes of the file."""
    if max_pixels > 0 and max(image.size) > max_pixels:
        # Lanczos keeps a text page's thin strokes crisp; a scan or a photo, about to become a
        # JPEG, is shrunk by averaging the pixels each new one covers (box): a fifth of
        # Lanczos's time and 14 ms a page less than bicubic, and it reads the same.
        resample = Image.Resampling.LANCZOS if text_source == TEXT_LAYER else Image.Resampling.BOX
        image = image.copy()
        image.thumbnail((max_pixels, max_pixels), resample)
    if text_source == TEXT_LAYER and image.mode == "L":
        return _grey_levels_png(image)
    image = as_rgb(image)
    buffer = io.BytesIO()
    if text_source == TEXT_LAYER:
        palette = image.quantize(TEXT_PAGE_COLOURS, method=Image.Quantize.FASTOCTREE)
        palette.save(buffer, format="PNG")
    else:
        image.save(buffer, format="JPEG", quality=SCAN_JPEG_QUALITY)
    return buffer.getvalue()


# A page without colour is sent in TEXT_PAGE_COLOURS evenly spaced greys: the same bytes as the
# octree's palette (which picks nearly even greys for such a page) in half the time.
_GREY_STEP = 255 // (TEXT_PAGE_COLOURS - 1)
_GREY_INDEX = [round(value / _GREY_STEP) for value in range(256)]
_GREY_PALETTE = [level * _GREY_STEP for level in range(TEXT_PAGE_COLOURS) for _ in range(3)]


def _grey_levels_png(image: Image.Image) -> bytes:
    """The grey (mode L) ``image`` as a 4-bit PNG of TEXT_PAGE_COLOURS greys, zlib level 3:
    2 ms a page less than the default 6 for 8 % more bytes (a 1024-pixel page: 33 KB)."""
    indexed = image.point(_GREY_INDEX)
    indexed.putpalette(_GREY_PALETTE)  # in place: L becomes P without a copy
    buffer = io.BytesIO()
    indexed.save(buffer, format="PNG", bits=4, compress_level=3)
    return buffer.getvalue()


def media_type_of(data: bytes) -> str:
    """The media type of an encoded page image, from its first bytes (PNG, JPEG or WebP)."""
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"


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
