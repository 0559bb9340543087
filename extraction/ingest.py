"""Turning an uploaded original into pages: an image for people and models, words with boxes.

A PDF page keeps the words of its own text layer; a page without one (a scan saved as PDF) and
every photo or scan image are read by OCR. Word boxes are fractions of the page, origin top-left,
so that a box found on one rendering can be drawn on any other.
"""

from __future__ import annotations

import ctypes
import functools
import io
import itertools
import logging
import math
import re
import resource
import statistics
import time
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.conf import settings
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from . import digit_check, ocr, sandbox
from . import text_layer_calls as calls
from .images import as_rgb, encoded_for_model, grey_png

logger = logging.getLogger(__name__)

PDF_TYPES = frozenset({"application/pdf"})
IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/tiff", "image/webp", "image/heic", "image/heif"}
)
SUPPORTED_TYPES = PDF_TYPES | IMAGE_TYPES
# Pages are rendered for OCR at about 300 dpi, whatever size the stored image has.
OCR_DPI = 300
# A text layer with fewer letters and digits than this is a stamp or a page number on a scan.
MIN_TEXT_LAYER_CHARS = 10
# A text-layer character is taken as shown on the page only with its centre on the page, in
# type whose line (ascent to descent, about 1.15 times its size) is at least this many points
# (fine print is 4 points and more; text hidden in "tiny" type is 1.5), and not squashed
# thinner than this share of its width (condensed type is about a half). In points, not in
# pixels of the stored image: a long or large page shows its type small there, not hidden.
# Anything else is in the file but not visible, and is not read as the page's text
# (``_shown``).
MIN_TYPE_POINTS = 2.5
MIN_HORIZONTAL_SCALE = 0.1
# Signs set raised after an amount to mark a footnote, as digits are.
FOOTNOTE_MARKS = "*\u2020\u2021\u00a7"


class UnreadableDocument(Exception):
    """The file cannot be turned into pages. ``message`` is plain language for the applicant."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RenderedPage:
    number: int  # 1-based
    # The page image as stored for people, long side <= max_pixels: a PNG for a page drawn
    # from a PDF's own content, a JPEG for a scan or a photo (``_page``).
    image: bytes
    width: int  # of the PNG
    height: int
    text: str  # the page's text in reading order, columns kept apart by runs of spaces
    words: list[list]  # [[text, x0, y0, x1, y1], ...] fractions of the page, origin top-left
    text_source: str  # "text_layer" | "ocr" | "none"
    # What a person should know about how the text was had: "ocr_unavailable" (no engine
    # here), "ocr_failed" (the engine failed on this page: out of memory on a huge one), or
    # "text_layer_disagrees" with the disagreements [{"layer": "7,905.55", "seen": "2,450.00"}],
    # "hidden_text": the text layer's characters the page does not show (``LayerWords``).
    notes: dict = field(default_factory=dict)
    # The page as a model is sent it (``images.encoded_for_model``), made from the same
    # rendering when ``render_pages`` was given ``send_pixels``; else b"".
    sent: bytes = b""
    # CPU seconds of the OCR stage on the whole page (``ocr.read_page``: orientation, deskew
    # and the engine, Tesseract's own process included; 0 for a text-layer page), so that
    # benchmarks can tell it from the rest.
    ocr_seconds: float = 0.0
    # A text-layer page's digit characters as the digit check knows their glyphs
    # (``digit_check.packed``), sent by the child to the worker, which checks them against
    # the stored image (``render_pages``) and empties this; {} for any other page.
    digits: dict = field(default_factory=dict)


# A stored scan or photo: above what its source JPEG kept, so that nothing visible is lost again.
STORED_JPEG_QUALITY = 90

_PAGE_FIELDS = tuple(f.name for f in dataclass_fields(RenderedPage))

# The child renders one file per process, so the size a model is sent is a setting of the job.
_SEND_PIXELS = 0


def render_pages(
    *,
    data: bytes,
    media_type: str,
    max_pixels: int,
    first: int = 1,
    send_pixels: int = 0,
    processes: int = 1,
) -> Iterator[RenderedPage]:
    """The pages of one uploaded file from page ``first`` (1-based) on, rendered one at a time
    so that memory stays flat and a reading can stop after any page and go on later.
    ``send_pixels`` (> 0): each page also carries the image a model is sent (``sent``), sized
    to that long side and encoded from the same rendering, so that it is never decoded again.
    ``processes`` (> 1): the pages are split across that many sandboxed children, page by
    page in turn (first, first + 2, ... in one; first + 1, first + 3, ... in the other), and
    still yielded in order: a page takes about 70 ms of CPU, so a 20-page file's last page is
    ready in half the time on two cores.

    The rendering runs in sandboxed children (``sandbox.py``): past the configured memory cap,
    or with no page for the configured time, a child is ended and the file is unreadable.
    Raises ``UnreadableDocument`` for that, for a file that is not what its media type says, an
    encrypted PDF we cannot open, or a media type that is not supported; with several children,
    at the page where the first of them failed.

    A text-layer page's digits are checked here, against its stored image, with one memory
    of the glyphs already read for all the children (``digit_check``, ``_digits_checked``).
    """
    seen = digit_check.DigitsSeen()
    processes = max(1, processes)
    if processes == 1:
        for page in _rendered_in_sandbox(data, media_type, max_pixels, first, 1, send_pixels):
            yield _digits_checked(page, seen, max_pixels)
        return
    children = [
        _rendered_in_sandbox(data, media_type, max_pixels, first + k, processes, send_pixels)
        for k in range(processes)
    ]
    try:
        for turn in itertools.cycle(children):
            page = next(turn, None)
            if page is None:
                return  # this child's next page is past the end, so every later one is too
            yield _digits_checked(page, seen, max_pixels)
    finally:
        for child in children:
            child.close()


def _digits_checked(
    page: RenderedPage, seen: digit_check.DigitsSeen, max_pixels: int
) -> RenderedPage:
    """``page`` with the digits of its text layer checked against its stored image
    (``digit_check.checked_against_pixels``; ``seen``: the document's glyphs read so far), the
    words the image shows otherwise replaced and noted, and ``digits`` emptied."""
    if not page.digits:
        return page
    glyphs = digit_check.unpacked(page.words, page.digits)
    words, notes = digit_check.checked_against_pixels(
        page.words, lambda: _stored_pixels(page, max_pixels), glyphs, seen
    )
    if not notes:
        return replace(page, digits={})
    lines = group_lines(words)
    return replace(
        page,
        words=[word for line in lines for word in line],
        text=layout_text(lines),
        notes={**page.notes, **notes},
        digits={},
    )


def _stored_pixels(page: RenderedPage, max_pixels: int) -> Image.Image:
    """A text-layer page's stored image decoded in the worker for the digit check: a PNG the
    size the child said, within ``max_pixels`` on its long side, checked before a pixel is
    decoded (the child wrote it). Raises ``UnreadableDocument`` for anything else."""
    try:
        with Image.open(io.BytesIO(page.image), formats=("PNG",)) as stored:
            if stored.size != (page.width, page.height) or max(stored.size) > max_pixels:
                raise ValueError(f"a page of {stored.size}, said to be {page.width, page.height}")
            stored.load()
            return stored.copy()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        logger.warning("Page %s's stored image is not the page: %s", page.number, error)
        raise UnreadableDocument(_DAMAGED) from error


def _rendered_in_sandbox(
    data: bytes, media_type: str, max_pixels: int, first: int, stride: int, send_pixels: int
) -> Iterator[RenderedPage]:
    """Pages ``first``, ``first + stride``, ... rendered by one sandboxed child."""
    limits = sandbox.limits_from_settings(
        seconds=settings.RENDER_PAGE_TIME_LIMIT_SECONDS, memory_mb=settings.RENDER_MEMORY_LIMIT_MB
    )
    options = {
        "media_type": media_type,
        "max_pixels": max_pixels,
        "max_image_pixels": settings.PARSE_MAX_IMAGE_PIXELS,
        "max_pages": settings.UPLOAD_MAX_PAGES,
        "first": first,
        "stride": stride,
        "send_pixels": send_pixels,
        # The child is a fresh interpreter that reads settings from the environment; the
        # parent's own value wins (a test's or an admin's override included).
        "ocr_engine": ocr.engine_name(media_type),
    }
    try:
        for header, blob in sandbox.run("render", data=data, options=options, limits=limits):
            try:
                fields = {key: header[key] for key in RENDERED_FIELDS}
                blob = blob or b""
                cut = len(blob) - int(header.get("sent_bytes", 0))
            except (KeyError, TypeError, ValueError) as error:  # a child gone wrong
                raise sandbox.SandboxFailed("crashed", "a page without its fields") from error
            yield RenderedPage(image=blob[:cut], sent=blob[cut:], **fields)
    except sandbox.Refused as refusal:
        raise UnreadableDocument(refusal.message) from refusal
    except sandbox.SandboxFailed as failure:
        raise UnreadableDocument(_FAILURE_MESSAGES.get(failure.code, _DAMAGED)) from failure


_DAMAGED = (
    "This file could not be opened: it is damaged, or too large or complex to open safely. "
    "Save or print it as a new PDF, or export it again, and upload that copy."
)
_FAILURE_MESSAGES = {
    "memory": (
        "This file needs more memory to open than we allow for one file. Save or print it as "
        "a new PDF, or scan it at a lower resolution, and upload that copy."
    ),
    "timeout": (
        "This file took too long to open. Save or print it as a new PDF, or scan it at a lower "
        "resolution, and upload that copy."
    ),
}
RENDERED_FIELDS = (
    "number",
    "width",
    "height",
    "text",
    "words",
    "text_source",
    "notes",
    "ocr_seconds",
    "digits",
)


def warm_child() -> None:
    """What a render zygote loads before it forks (``sandbox.WARM``): numpy and OpenCV, which
    scanned pages use, and what RapidOCR imports besides onnxruntime. Not the OCR models: a
    render child needs them only for a photo (``ocr.read_page``), and onnxruntime starts a
    thread as it loads; the text layer's digits are read in the worker."""
    import cv2  # noqa: F401
    import numpy  # noqa: F401
    import pyclipper  # noqa: F401
    import shapely  # noqa: F401
    import yaml  # noqa: F401


def render_in_child(data: bytes, options: dict) -> Iterator[tuple[dict, bytes]]:
    """The sandbox job: each page as ``({number, width, height, text, words, text_source,
    sent_bytes}, png bytes + sent bytes)``; ``UnreadableDocument`` becomes the child's refusal
    with its message."""
    global _SEND_PIXELS
    _SEND_PIXELS = int(options.get("send_pixels") or 0)
    Image.MAX_IMAGE_PIXELS = int(options["max_image_pixels"])
    if options.get("ocr_engine"):
        settings.EXTRACTION_OCR_ENGINE = options["ocr_engine"]
    # Pillow only warns between its limit and twice it; in the child the limit refuses.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        pages = _render_here(
            data,
            options["media_type"],
            int(options["max_pixels"]),
            int(options["max_pages"]),
            int(options.get("first", 1)),
            int(options.get("stride", 1)),
        )
        for page in pages:
            # Shallow: asdict would copy every word's list first (4 ms a page) only to dump it.
            fields = {name: getattr(page, name) for name in _PAGE_FIELDS}
            image, sent = fields.pop("image"), fields.pop("sent")
            yield {**fields, "sent_bytes": len(sent)}, image + sent
    except UnreadableDocument as error:
        raise sandbox.Refused("unreadable_file", error.message) from error


def _render_here(
    data: bytes, media_type: str, max_pixels: int, max_pages: int, first: int = 1, stride: int = 1
) -> Iterator[RenderedPage]:
    kind = media_type.split(";")[0].strip().lower()
    if kind in PDF_TYPES:
        pages = _pdf_pages(data, max_pixels, max_pages, first, stride)
    elif kind in IMAGE_TYPES:
        pages = _image_pages(data, kind, max_pixels, max_pages, first, stride)
    else:
        raise UnreadableDocument(
            "This kind of file is not supported. Upload a PDF or a photo (PNG, JPEG, TIFF, "
            "WebP or HEIC)."
        )
    for page in pages:
        # Checked at upload too; this guards files stored before that check, or changed since.
        if page.number > max_pages:
            raise UnreadableDocument(
                f"This file has more than {max_pages} pages. Upload the pages we need as a "
                "smaller file."
            )
        yield page


# --- PDF ---------------------------------------------------------------------------------------


def _pdf_pages(
    data: bytes, max_pixels: int, max_pages: int, first: int = 1, stride: int = 1
) -> Iterator[RenderedPage]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(
            "This PDF could not be opened. It may be damaged or protected by a password; "
            "upload an unprotected copy."
        ) from exc
    count = len(document)
    if count > max_pages:
        document.close()
        raise UnreadableDocument(
            f"This file has {count} pages; the limit is {max_pages}. Upload the pages "
            "we need as a smaller file."
        )
    try:
        # Filled-in PDF forms (a fillable W-2) keep their values in form fields, which are part
        # of neither the drawing nor the text layer until the page is flattened.
        document.init_forms()
        for index in range(max(first, 1) - 1, len(document), max(stride, 1)):
            page = _flattened_page(document, index)
            try:
                yield _pdf_page(page, index + 1, max_pixels)
            finally:
                page.close()
    finally:
        document.close()


def _flattened_page(document: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    page = document[index]
    if pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_NORMALDISPLAY) == pdfium_c.FLATTEN_SUCCESS:
        # The flattened content is only visible after the page is loaded again.
        page.close()
        page = document[index]
    return page


def _pdf_page(page: pdfium.PdfPage, number: int, max_pixels: int) -> RenderedPage:
    import cv2

    width_pt, height_pt = page.get_size()
    scale = _fitting_scale(page, max_pixels)
    textpage = page.get_textpage()
    try:
        chars = _layer_chars(textpage)
        # Content drawn sideways or upside down on its page is turned upright, boxes with it.
        turn = _content_turn(chars, _transform(page, 0, (10000, 10000)))
        bitmap = _rendered(page, scale, turn)
        # The image shares the bitmap's buffer; ``pixels`` is the same buffer for OpenCV.
        image, pixels = bitmap.to_pil(), bitmap.to_numpy()
        # A page with no colour is tested and stored in grey; one without a text layer (a
        # scan) never is, so it is not tested.
        luma = Image.fromarray(_grey(pixels)) if chars and _colourless(pixels) else None
        layer = _text_layer_words(textpage, chars, _transform(page, turn, image.size), image.size)
        words, spans, unseen = _inked_words(textpage, chars, layer, luma or image)
        glyphs = digit_check.word_glyphs(textpage, chars, words, spans)
    finally:
        textpage.close()
    suspect = layer.suspect
    # Text in the file that the page does not show is kept aside for the checks that look for
    # it (an instruction to a model, hidden in type too small to see), never as the page's text.
    hidden_text = " ".join(part for part in (layer.hidden, unseen) if part)[:MAX_HIDDEN]
    hidden = {"hidden_text": hidden_text} if hidden_text else {}
    if sum(ch.isalnum() for w in words for ch in w[0]) >= MIN_TEXT_LAYER_CHARS and not suspect:
        sent = _sent_rendering(page, turn, image, grey=luma is not None)
        rendered = _page(
            number, image, group_lines(words), "text_layer", hidden, sent=sent, luma=luma
        )
        # Checked against the stored image by the worker (``render_pages``).
        return replace(rendered, digits=digit_check.packed(rendered.words, words, glyphs))
    # 300 dpi, but never fewer pixels than OCR reads well: a scan on a page declared small for
    # its pixels (img2pdf writes 85 x 110 points for a letter scan tagged at 1,440 dpi) was read
    # from 459 pixels of its 2,200 and misread.
    long_pt = max(width_pt, height_pt)
    ocr_scale = min(
        max(OCR_DPI / 72, ocr.OCR_MIN_LONG_SIDE / long_pt), ocr.OCR_MAX_LONG_SIDE / long_pt
    )
    # Read in grey when Tesseract reads it (a third of the pixels to turn level); the stored
    # page is the rendering above, levelled and turned as OCR found the page, not this one
    # scaled down again.
    grey = ocr.engine_name() == "tesseract"
    # From the bitmap's buffer with OpenCV: 1.3 ms a 1,600-pixel scan less than Pillow's copies.
    shown = Image.fromarray(cv2.cvtColor(pixels, cv2.COLOR_RGBA2RGB))
    scanned = _scanned_page(
        number,
        _scan_pixels(page, ocr_scale, turn, grey, _grey(pixels))
        or page.render(scale=ocr_scale, rotation=turn, grayscale=grey).to_pil(),
        max_pixels,
        shown=shown,
        lossy=_mostly_lossy_image(page),
    )
    scanned.notes.update(hidden)
    if scanned.words or not words:
        if suspect and scanned.words:
            scanned.notes["text_layer_replaced"] = True
        return scanned
    return _page(number, image, group_lines(words), "text_layer", scanned.notes, luma=luma)


# Image filters of a PDF that store a photograph's pixels lossily (JPEG, JPEG 2000).
_LOSSY_FILTERS = {"DCTDecode", "JPXDecode"}
# Raster uploads whose pixels are lossy already (most WebP files are lossy photos).
LOSSY_IMAGE_TYPES = {"image/jpeg", "image/heic", "image/heif", "image/webp"}


# How far (mean, and at most anywhere, in grey levels) the scan's own pixels may be from the
# page as PDFium drew it, both shrunk by four, to be read in its place. On the corpus's scans
# and photos (38 pages) the mean was under 2 and the largest 52, at the edges of strokes that
# the two filters shrink differently; a soft mask hiding one line of 11-point figures made 206,
# a crop box or a placement off the page 190-210, a flip or a decode array far more.
_SCAN_MEAN_DIFFERENCE = 4.0
_SCAN_MAX_DIFFERENCE = 64


def _scan_pixels(
    page: pdfium.PdfPage, scale: float, turn: int, grey: bool, drawn
) -> Image.Image | None:
    """The page for OCR at ``scale`` made from its one JPEG's own pixels, when the page is
    nothing but that JPEG drawn over it (a scanner's or a phone's PDF), else None.

    PDFium draws such a page at 300 dpi by decoding the JPEG and stretching it with its own
    filter, about 75 ms; taking PDFium's own decoding of the image (its colour space, decode
    array and colour-key mask applied as when it draws) and stretching it with OpenCV's
    bilinear filter takes about 25, and gives PDFium's pixels to within 2 grey levels. Anything
    else on the page (a second object, an annotation, a turn, a colour key) leaves it to
    PDFium; so does an image that does not look like ``drawn`` (the page as PDFium drew it for
    the stored image, in grey: height x width bytes) wherever both are shrunk by four, which
    catches a soft mask (PDFium's decoding leaves it out), a flip, a crop or a placement: OCR
    must never read what the stored page does not show."""
    import cv2
    import numpy as np

    raw = page.raw
    if (
        turn
        or page.get_rotation()
        or pdfium_c.FPDFPage_CountObjects(raw) != 1
        or pdfium_c.FPDFPage_GetAnnotCount(raw)
    ):
        return None
    (only,) = page.get_objects(max_depth=1)
    if only.type != pdfium_c.FPDF_PAGEOBJ_IMAGE or only.get_filters() != ["DCTDecode"]:
        return None
    metadata = only.get_metadata()
    if not 0 < metadata.width * metadata.height <= Image.MAX_IMAGE_PIXELS:
        return None
    try:
        bitmap = only.get_bitmap(render=False)
    except pdfium.PdfiumError:
        return None
    if bitmap.mode not in ("L", "BGR"):  # an alpha channel: a colour key masks some of it
        return None
    decoded = bitmap.to_numpy()
    if decoded.ndim == 2:
        mine = decoded
        pixels = decoded if grey else cv2.cvtColor(decoded, cv2.COLOR_GRAY2RGB)
    else:
        mine = cv2.cvtColor(decoded, cv2.COLOR_BGR2GRAY)
        pixels = mine if grey else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    small = (max(1, drawn.shape[1] // 4), max(1, drawn.shape[0] // 4))
    difference = np.abs(
        cv2.resize(mine, small, interpolation=cv2.INTER_AREA).astype(np.int16)
        - cv2.resize(drawn, small, interpolation=cv2.INTER_AREA)
    )
    if difference.mean() > _SCAN_MEAN_DIFFERENCE or difference.max() > _SCAN_MAX_DIFFERENCE:
        logger.info("Page's JPEG is not the page as drawn; PDFium draws it for OCR")
        return None
    width, height = page.get_size()
    size = (math.ceil(width * scale), math.ceil(height * scale))
    return Image.fromarray(cv2.resize(pixels, size, interpolation=cv2.INTER_LINEAR))


def _mostly_lossy_image(page: pdfium.PdfPage) -> bool:
    """Whether JPEG or JPEG 2000 images cover at least half of the page: a scan or a photo
    in a PDF, whose stored page is then a JPEG as well (``_page``)."""
    width, height = page.get_size()
    covered = 0.0
    for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
        if _LOSSY_FILTERS & set(image.get_filters()):
            left, bottom, right, top = image.get_bounds()
            covered += max(0.0, min(right, width) - max(left, 0.0)) * max(
                0.0, min(top, height) - max(bottom, 0.0)
            )
    return covered >= 0.5 * width * height


def _sent_rendering(
    page: pdfium.PdfPage, turn: int, stored: Image.Image, *, grey: bool = False
) -> Image.Image | None:
    """The page drawn again with its long side at the size a model is sent, in grey (mode L)
    when ``grey`` (the stored rendering had no colour), or None when that is no smaller than
    the ``stored`` rendering (the caller's image is sent as it is)."""
    if not _SEND_PIXELS or max(stored.size) <= _SEND_PIXELS:
        return None
    scale = _fitting_scale(page, _SEND_PIXELS)
    if grey:
        return Image.fromarray(_grey(_rendered(page, scale, turn).to_numpy()))
    return _drawn(page, scale, turn)


def _fitting_scale(page: pdfium.PdfPage, pixels: int) -> float:
    """The scale at which ``page`` is drawn ``pixels`` on its long side and never more:
    pypdfium2 rounds a rendering's size up, so the plain quotient made a page 780.8 points
    high 1,601 pixels at 1,600, and the worker rightly refused the stored page as too large."""
    long_side = max(page.get_size())
    scale = pixels / long_side
    while math.ceil(long_side * scale) > pixels:
        scale = math.nextafter(scale, 0.0)
    return scale


def _drawn(page: pdfium.PdfPage, scale: float, turn: int) -> Image.Image:
    """The page drawn at ``scale`` and turned ``turn`` degrees, as an RGBX image that shares
    the bitmap's buffer: PDFium draws in that order when asked, so nothing is copied or
    reordered (BGR copied into RGB took 7 ms more a stored page)."""
    return _rendered(page, scale, turn).to_pil()


def _rendered(page: pdfium.PdfPage, scale: float, turn: int) -> pdfium.PdfBitmap:
    return page.render(
        scale=scale, rotation=turn, may_draw_forms=True, rev_byteorder=True, prefer_bgrx=True
    )


def _colourless(pixels) -> bool:
    """Whether every pixel of an RGBX drawing (``pixels``: height x width x 4 bytes) is grey:
    each byte against the next along each row, where a pair is red-green or green-blue."""
    import cv2

    height, width, bands = pixels.shape
    rows = pixels.reshape(height, width * bands)
    return (
        cv2.norm(rows[:, :-1], rows[:, 1:], cv2.NORM_INF, _colour_pairs(height, width, bands)) == 0
    )


@functools.lru_cache(maxsize=2)
def _colour_pairs(height: int, width: int, bands: int):
    """The mask of ``_colourless``: 1 where a byte and the next are red-green or green-blue.
    Kept for the next page, which is nearly always the same size (8 MB at 1,600 pixels)."""
    import numpy as np

    row = np.zeros(width * bands - 1, np.uint8)
    row[0::bands] = row[1::bands] = 1
    return np.ascontiguousarray(np.broadcast_to(row, (height, row.size)))


def _grey(pixels):
    """An RGBX drawing (height x width x 4 bytes) in grey (height x width) with ITU-R 601
    weights, as Pillow's ``convert("L")``: a grey pixel keeps its level exactly (the weights
    sum to one). On the bitmap's own buffer: a third of Pillow's time."""
    import cv2

    return cv2.cvtColor(pixels, cv2.COLOR_RGBA2GRAY)


def _content_turn(chars: list[tuple], upright: tuple) -> int:
    """Degrees clockwise (0, 90, 180, 270) that turn the page's text upright as displayed,
    from the direction in which its first 2,000 characters advance; 0 without a text layer.
    ``chars`` as ``_layer_chars`` gives them; ``upright`` the page's transform unturned."""
    votes = {0: 0, 90: 0, 180: 0, 270: 0}
    previous = None
    window = chars[:2000]
    for position, (char, left, bottom, right, top, _index) in enumerate(window):
        # Each character left adds at most one vote: once no other direction can reach twice
        # the upright votes, the answer is 0 whatever follows (two thirds of a page unread).
        if (
            not position % 128
            and max(votes[90], votes[180], votes[270]) + len(window) - position <= 2 * votes[0]
        ):
            return 0
        if not char.isalnum():
            previous = None
            continue
        centre = _apply(upright, (left + right) / 2, (bottom + top) / 2)
        if previous is not None:
            dx, dy = centre[0] - previous[0], centre[1] - previous[1]
            if abs(dx) > abs(dy):
                votes[0 if dx > 0 else 180] += 1
            else:
                # Advancing down the screen: text turned clockwise; turn it back.
                votes[270 if dy > 0 else 90] += 1
        previous = centre
    best = max(votes, key=votes.get)
    return best if votes[best] > 2 * votes[0] else 0


def _layer_chars(textpage) -> list[tuple]:
    """Every character of the text layer as ``(char, left, bottom, right, top, index)`` in PDF
    units (a loose box; all zero when PDFium has none), read once for the turn and the words."""
    raw = calls.address(textpage.raw)
    rect = pdfium_c.FS_RECTF()
    rect_p = ctypes.pointer(rect)
    get_unicode, get_box = calls.get_unicode, calls.get_loose_char_box
    chars = []
    for index in range(textpage.count_chars()):
        char = chr(get_unicode(raw, index))
        if get_box(raw, index, rect_p):
            chars.append((char, rect.left, rect.bottom, rect.right, rect.top, index))
        else:
            chars.append((char, 0.0, 0.0, 0.0, 0.0, index))
    return chars


def _transform(page: pdfium.PdfPage, turn: int, size: tuple[int, int]) -> tuple:
    """The affine map ``(a, b, c, d, e, f)`` from page units to the pixels of a rendering of
    ``size`` turned by ``turn`` degrees (x' = a x + c y + e, y' = b x + d y + f): PDFium's own
    FPDF_PageToDevice, sampled at three points on a 64-times finer grid instead of called
    twice for each of a page's thousands of characters (a tenth of a text page's CPU)."""
    fine = 64
    width, height = size[0] * fine, size[1] * fine
    step = 1024.0

    def point(x: float, y: float) -> tuple[int, int]:
        device_x, device_y = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(
            page.raw, 0, 0, width, height, turn // 90, x, y, device_x, device_y
        )
        return device_x.value, device_y.value

    (ox, oy), (xx, xy), (yx, yy) = point(0, 0), point(step, 0), point(0, step)
    return (
        (xx - ox) / (step * fine),
        (xy - oy) / (step * fine),
        (yx - ox) / (step * fine),
        (yy - oy) / (step * fine),
        ox / fine,
        oy / fine,
    )


def _apply(matrix: tuple, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


class LayerWords(NamedTuple):
    words: list[list]  # [[text, x0, y0, x1, y1], ...] fractions of the rendering
    suspect: bool  # glyphs without a map, private-use or control characters
    spans: list[tuple[int, int]]  # each word's first character's index and count of characters
    hidden: str  # the characters left out as not shown, runs apart by a space; at most MAX_HIDDEN


# Hidden text is kept for the checks that look for it, up to this many characters a page.
MAX_HIDDEN = 4000


def _text_layer_words(
    textpage, chars: list[tuple], matrix: tuple, size: tuple[int, int]
) -> LayerWords:
    """Words from the text layer's characters (``_layer_chars``), with boxes in the rendered
    image's frame (``matrix``: ``_transform`` for the rendering of ``size``), whether the layer
    is suspect, each word's span in the text layer (for ``digit_check.word_glyphs``) and the
    text the page does not show.

    Characters are placed on the rendered (upright) page first, so that a page whose content
    is drawn upside down or sideways still reads left to right. A word ends at a space (real
    or inserted by PDFium), a line break, or a gap wider than half the character height, since
    some generators place words without any space character. A character the page does not
    show legibly (off the page, too small, squashed: ``_shown``) is left out, so that
    nothing hidden in the file can be read, or found, as the page's text; it is returned as
    ``hidden``.
    """
    width, height = size
    a, b, c, d, e, f = matrix
    words: list[list] = []
    suspicious = 0
    current: list[str] = []
    box: list[float] = []
    stepped_left = False
    start = 0
    raw, map_error = calls.address(textpage.raw), calls.has_unicode_map_error
    # On a page drawn small in its units (a poster with /UserUnit, a business card), type a
    # 320th of its long side is as large on screen as 2.5 points are on a letter page.
    pixels_per_point = math.hypot(a, b)
    min_points = min(MIN_TYPE_POINTS, max(width, height) / pixels_per_point / 320)
    min_type = min_points * pixels_per_point  # in pixels of the rendering
    hidden: list[int] = []
    for char, left, bottom, right, top, index in chars:
        # A character whose text cannot be trusted: no Unicode map for its glyph, a private-use
        # code point, or a control or replacement character in place of a letter.
        if (
            char not in " \x00"
            and right > left
            and (
                map_error(raw, index)
                or "\ue000" <= char <= "\uf8ff"
                or char == "\ufffd"
                or (char < " " and char not in "\t\n\r")
            )
        ):
            suspicious += 1
        if char.isspace() or char == "\x00" or right <= left:
            if current:
                words.append(["".join(current), *box, stepped_left, start])
            current, box, stepped_left = [], [], False
            continue
        # (Two-way comparisons, not sorted(): this loop runs for every character of a page.)
        x0, x1 = a * left + c * bottom + e, a * right + c * top + e
        if x1 < x0:
            x0, x1 = x1, x0
        y0, y1 = b * left + d * bottom + f, b * right + d * top + f
        if y1 < y0:
            y0, y1 = y1, y0
        # A character the page does not show legibly is no part of its text. A box at least
        # MIN_TYPE_POINTS each way is shown; a narrower one (a comma in small type, or text
        # squashed flat or thin) is judged along its type's own directions.
        if (
            not (0 <= x0 + x1 <= 2 * width and 0 <= y0 + y1 <= 2 * height)
            or (
                (x1 - x0 < min_type or y1 - y0 < min_type)
                and not _shown(raw, index, right - left, top - bottom, min_points)
            )
        ) and not unicodedata.combining(char):
            hidden.append(index)
            if current:
                words.append(["".join(current), *box, stepped_left, start])
            current, box, stepped_left = [], [], False
            continue
        if current:
            line_height = max(box[3] - box[1], y1 - y0, 1)
            middle, box_middle = (y0 + y1) / 2, (box[1] + box[3]) / 2
            # Right-to-left text drawn in logical order steps leftwards, char by char (no
            # right-to-left script comes before Hebrew, U+0590).
            leftwards = char >= "\u0590" and _is_rtl(char) and x1 <= box[0] + 0.2 * line_height
            # A raised, smaller digit or footnote sign after a digit (a footnote mark after an
            # amount) ends a word too; raised letters (1st, TM) and small capitals do not.
            broken = (
                (
                    (x0 - box[2] > 0.5 * line_height or x0 < box[0])
                    and not (leftwards and box[0] - x1 <= 0.5 * line_height)
                )
                or abs(middle - box_middle) > 0.5 * line_height
                or (
                    (char.isdigit() or char in FOOTNOTE_MARKS)
                    and current[-1].isdigit()
                    and (box[3] - box[1]) - (y1 - y0) > 0.2 * line_height
                    and box[3] - y1 > 0.2 * line_height
                )
            )
            if broken:
                words.append(["".join(current), *box, stepped_left, start])
                current, box, stepped_left = [], [], False
            elif leftwards and x1 <= box[0] + 0.2 * line_height:
                stepped_left = True
        if not current:
            start = index
        current.append(char)
        if not box:
            box = [x0, y0, x1, y1]
        else:
            if x0 < box[0]:
                box[0] = x0
            if y0 < box[1]:
                box[1] = y0
            if x1 > box[2]:
                box[2] = x1
            if y1 > box[3]:
                box[3] = y1
    if current:
        words.append(["".join(current), *box, stepped_left, start])
    clamp = lambda v: round(min(max(v, 0.0), 1.0), 5)  # noqa: E731
    placed = [
        [
            unicodedata.normalize("NFC", text),
            clamp(x0 / width),
            clamp(y0 / height),
            clamp(x1 / width),
            clamp(y1 / height),
            logical,
        ]
        for text, x0, y0, x1, y1, logical, _start in words
    ]
    return LayerWords(
        _logical_order(placed),
        suspicious > 0,
        [(word[6], len(word[0])) for word in words],
        _runs(chars, hidden)[:MAX_HIDDEN],
    )


# A word the page shows has ink in its box: where a word is drawn in the paper's own colour
# (white on white), or lies under an opaque box or a flat image, the grey levels of its box
# vary by less than this (standard deviation); anti-aliased type of any colour on any ground,
# even light grey on white, varies by far more.
MIN_INK_DEVIATION = 2.0


def _inked_words(
    textpage, chars: list[tuple], layer: LayerWords, rendering: Image.Image
) -> tuple[list[list], list[tuple[int, int]], str]:
    """The layer's words that show on ``rendering`` (``_inked``; a word this machine may not
    draw, ``_drawable``, is given the benefit), their spans, and the others' text."""
    words, spans, unseen = [], [], []
    inked = _inked(rendering, layer.words) if layer.words else []
    for word, span, shown in zip(layer.words, layer.spans, inked, strict=True):
        if shown or not _drawable(textpage, chars, span):
            words.append(word)
            spans.append(span)
        else:
            unseen.append(word[0])
    return words, spans, " ".join(unseen)


def _inked(rendering: Image.Image, words: list[list]) -> list[bool]:
    """Whether each word (``[text, x0, y0, x1, y1]``, fractions) shows on ``rendering``, the
    page as drawn (grey, L, for a page without colour; else RGB or RGBX): its box's levels
    vary by at least MIN_INK_DEVIATION, in grey or in any of red, green and blue (orange type
    on a grey of the same brightness shows by its colour). Every box at once, from the
    rendering's summed-area tables (about 1.5 ms a grey page, 4 a colour one)."""
    import numpy as np

    channels = np.asarray(rendering)
    if channels.ndim == 2:
        return _inked_in(channels, words)
    return np.logical_or.reduce(
        [np.asarray(_inked_in(channels[:, :, k], words)) for k in range(3)]
    ).tolist()


def _inked_in(pixels, words: list[list]) -> list[bool]:
    import cv2
    import numpy as np

    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape
    sums, squares = cv2.integral2(pixels)
    boxes = np.array([word[1:5] for word in words], dtype=np.float64).reshape(-1, 4)
    x0 = np.clip(np.floor(boxes[:, 0] * width).astype(np.intp), 0, width - 1)
    y0 = np.clip(np.floor(boxes[:, 1] * height).astype(np.intp), 0, height - 1)
    x1 = np.clip(np.ceil(boxes[:, 2] * width).astype(np.intp), x0 + 1, width)
    y1 = np.clip(np.ceil(boxes[:, 3] * height).astype(np.intp), y0 + 1, height)
    area = (x1 - x0) * (y1 - y0)

    def summed(table):
        return table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]

    mean = summed(sums) / area
    variance = summed(squares) / area - mean * mean
    return (variance >= MIN_INK_DEVIATION**2).tolist()


# Scripts whose glyphs PDFium draws from a system font when the PDF does not embed one, and
# which a server may have none of (Chinese, Japanese, Korean, Thai...): an unembedded font's
# word in them draws nothing here that a reader's viewer would draw.
_BUILT_IN_SCRIPTS_END = "\u0250"


def _drawable(textpage, chars: list[tuple], span: tuple[int, int]) -> bool:
    """Whether the word at ``span`` (its first character's index and its count) is one this
    machine surely draws: all in Latin scripts and punctuation, or set in an embedded font."""
    start, count = span
    foreign = next(
        (
            char
            for char in chars[start : start + count]
            if char[0] >= _BUILT_IN_SCRIPTS_END and not "\u2000" <= char[0] <= "\u20cf"
        ),
        None,
    )
    if foreign is None:
        return True
    raw = calls.address(textpage.raw)
    text_object = calls.get_text_object(raw, foreign[5])
    font = calls.get_font(text_object) if text_object else None
    return bool(font) and bool(
        pdfium_c.FPDFFont_GetIsEmbedded(ctypes.cast(font, pdfium_c.FPDF_FONT))
    )


def _runs(chars: list[tuple], indexes: list[int]) -> str:
    """The characters at ``indexes`` (ascending), a space between runs that are not adjacent."""
    text = []
    for position, index in enumerate(indexes):
        if position and index != indexes[position - 1] + 1:
            text.append(" ")
        text.append(chars[index][0])
    return "".join(text)


def _shown(raw: int, index: int, box_width: float, box_height: float, min_points: float) -> bool:
    """Whether the text-layer character ``index`` (of the text page at ``raw``), whose loose
    box on the page is ``box_width`` by ``box_height`` points, is set in type a person can make
    out: at least ``min_points`` along its type's up direction (from its text and page
    matrices), measured as the larger of its box there (ascent to descent: right for a Type 3
    font whose matrix carries the size) and its size operand (right where a font's declared
    ascent and descent are wrong), whatever their sign; and its type scaled across at least
    MIN_HORIZONTAL_SCALE of up."""
    matrix = pdfium_c.FS_MATRIX()
    if not calls.get_matrix(raw, index, ctypes.byref(matrix)):
        return True  # PDFium has no matrix for it: judged by its box, which was on the page
    up = math.hypot(matrix.c, matrix.d)
    if not up:
        return False
    line = max(
        (abs(matrix.c) * box_width + abs(matrix.d) * box_height) / up,
        abs(calls.get_font_size(raw, index)) * up,
    )
    return line >= min_points and math.hypot(matrix.a, matrix.b) >= MIN_HORIZONTAL_SCALE * up


def _logical_order(words: list[list]) -> list[list]:
    """Right-to-left words in logical order: a text layer holds glyphs in the order they are
    drawn (left to right), so a Hebrew or Arabic word comes out reversed until the Unicode
    bidi algorithm puts it back."""
    from bidi import get_display

    for word in words:
        if not word[5] and max(word[0]) >= "\u0590" and any(_is_rtl(ch) for ch in word[0]):
            word[0] = get_display(word[0])
    return [word[:5] for word in words]


def _is_rtl(char: str) -> bool:
    return unicodedata.bidirectional(char) in {"R", "AL"}


# --- images ------------------------------------------------------------------------------------


def _image_pages(
    data: bytes, kind: str, max_pixels: int, max_pages: int, first: int = 1, stride: int = 1
) -> Iterator[RenderedPage]:
    if kind in {"image/heic", "image/heif"}:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    try:
        original = Image.open(io.BytesIO(data))
        original.load()
    except (
        UnidentifiedImageError,
        OSError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise UnreadableDocument(
            "This image could not be opened. Upload a PNG, JPEG, TIFF, WebP or HEIC photo."
        ) from exc
    # Only TIFF carries pages as frames; the frames of an animated WebP or PNG are not pages.
    if kind == "image/tiff" and getattr(original, "n_frames", 1) > max_pages:
        raise UnreadableDocument(
            f"This file has {original.n_frames} pages; the limit is {max_pages}. Upload the "
            "pages we need as a smaller file."
        )
    frames = ImageSequence.Iterator(original) if kind == "image/tiff" else [original]
    for number, frame in enumerate(frames, start=1):
        if number < first or (number - first) % max(stride, 1):
            continue
        upright = flatten(ImageOps.exif_transpose(frame.copy()))
        yield _scanned_page(
            number,
            upright,
            max_pixels,
            shown=_bounded(upright, max_pixels),
            lossy=kind in LOSSY_IMAGE_TYPES,
        )


def flatten(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB on white paper, whatever its mode.

    16- and 32-bit grey (I;16, I) and float (F) are scaled by their real range rather than
    clipped at 255 (which turned a 16-bit scan into a white page); transparency (RGBA, LA,
    PA, P with a transparent colour) is laid on white rather than dropped (which turned a
    transparent background black); 1, L, CMYK and YCbCr convert as Pillow does.
    """
    mode = image.mode
    if mode.startswith("I;16") or mode in {"I", "F"}:
        import numpy as np

        pixels = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16"):
            top = 65535.0
        else:
            low, high = float(pixels.min(initial=0)), float(pixels.max(initial=0))
            top = 1.0 if mode == "F" and high <= 1.0 else 255.0 if high <= 255 else high
            if low < 0:
                pixels, top = pixels - low, top - low
        scaled = np.clip(pixels * (255.0 / (top or 1.0)), 0, 255).astype(np.uint8)
        return Image.fromarray(scaled, mode="L").convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in {"RGBA", "LA", "PA", "La", "RGBa"}:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image.convert("RGB")


def _bounded(image: Image.Image, max_pixels: int) -> Image.Image:
    if max(image.size) <= max_pixels:
        return image
    bounded = image.copy()
    bounded.thumbnail((max_pixels, max_pixels), Image.Resampling.LANCZOS)
    return bounded


# --- shared ------------------------------------------------------------------------------------


def _scanned_page(
    number: int,
    image: Image.Image,
    max_pixels: int,
    *,
    shown: Image.Image | None = None,
    lossy: bool = False,
) -> RenderedPage:
    """A page read by OCR from ``image``. The stored image is ``shown`` (the same page at most
    ``max_pixels`` on its long side, rendered once; default: ``image`` scaled down) levelled
    and turned upright as OCR found the page, so boxes fit it; ``lossy``: the source's pixels
    were a JPEG (or alike), and so is the stored page."""
    shown = _bounded(image, max_pixels) if shown is None else shown
    started = _cpu_seconds()
    try:
        read = ocr.read_page(image, shown=shown)
    except ocr.OcrFailed as exc:
        logger.warning("Page %s kept without text, OCR failed on it: %s", number, exc)
        return _page(number, shown, [], "none", {"ocr_failed": True}, lossy=lossy)
    except ocr.OcrUnavailable as exc:
        logger.warning("Page %s kept without text: %s", number, exc)
        return _page(number, shown, [], "none", {"ocr_unavailable": True}, lossy=lossy)
    seconds = _cpu_seconds() - started
    lines = group_lines(read.words)
    aspect = read.image.height / read.image.width
    bounded = _bounded(read.image, max_pixels)
    page = _page(number, bounded, lines, "ocr", aspect=aspect, lossy=lossy)
    return replace(page, ocr_seconds=round(seconds, 4))


def _cpu_seconds() -> float:
    """CPU of this process and of the programs it ran and waited for (Tesseract)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _page(
    number: int,
    image: Image.Image,
    lines: list[list[list]],
    source: str,
    notes: dict | None = None,
    *,
    aspect: float = 0.0,
    sent: Image.Image | None = None,
    lossy: bool = False,
    luma: Image.Image | None = None,
) -> RenderedPage:
    """The rendered page; ``sent``: the page already drawn at the size a model is sent (a PDF
    page renders again at that size in a few milliseconds, where shrinking ``image`` took 20),
    else ``image`` is shrunk to it. ``lossy``: the source's pixels were a JPEG (a scan or a
    photo), and the page is stored as one too. ``luma``: ``image`` in grey, given when the
    drawing has no colour (``_colourless``): a text-layer page is then stored grey."""
    buffer = io.BytesIO()
    grey = False
    if lossy:
        # A PNG of camera or scanner noise is four times the bytes of a JPEG and took 63 ms
        # a page to write (this one takes 6); the source had JPEG's losses already.
        as_rgb(image).save(buffer, format="JPEG", quality=STORED_JPEG_QUALITY)
    else:
        # zlib level 1: on rendered pages a third faster than the default 6, and no larger. A
        # PDF page drawn without colour is stored grey (``grey_png``), which is exact (``_grey``)
        # and takes a quarter of the time and half the bytes of RGB. (Scans stay RGB: a scan of
        # paper is never exactly grey, so the test only costs.)
        grey = source == "text_layer" and luma is not None
        if grey:
            stored = luma
            buffer.write(grey_png(stored))
        else:
            as_rgb(image).save(buffer, format="PNG", compress_level=1)
    source = source if lines else "none"
    to_send = sent or image
    # Drawn without colour at the stored size, so at the size sent too.
    if grey and to_send is image:
        to_send = stored
    elif grey and to_send.mode != "L":
        to_send = to_send.convert("L")
    sent_bytes = (
        encoded_for_model(to_send, max_pixels=_SEND_PIXELS, text_source=source)
        if _SEND_PIXELS
        else b""
    )
    return RenderedPage(
        sent=sent_bytes,
        number=number,
        image=buffer.getvalue(),
        width=image.width,
        height=image.height,
        text=layout_text(lines, aspect=aspect),
        words=[word for line in lines for word in line],
        text_source=source,
        notes=dict(notes or {}),
    )


def group_lines(words: list[list]) -> list[list[list]]:
    """Words grouped into lines top to bottom, each line left to right.

    A word joins the line above it when their vertical middles are within half the taller one's
    height, so that table cells on one row form one line even when their fonts differ, and a
    hyphen's flat box does not split a line.
    """
    lines: list[list[list]] = []
    middles: list[float] = []
    halves: list[float] = []
    for word in sorted(words, key=lambda w: ((w[2] + w[4]) / 2, w[1])):
        middle, half = (word[2] + word[4]) / 2, (word[4] - word[2]) / 2
        if lines and abs(middle - middles[-1]) <= max(half, halves[-1]):
            lines[-1].append(word)
            middles[-1] += (middle - middles[-1]) / len(lines[-1])
            halves[-1] = max(halves[-1], half)
        else:
            lines.append([word])
            middles.append(middle)
            halves.append(half)
    return [sorted(line, key=lambda w: w[1]) for line in lines]


def _rtl_phrases(line: list[list], phrase_gap: float) -> list[list]:
    """The line's words left to right, with each phrase of right-to-left words (a Hebrew
    name) joined into one in reading order: the rightmost word first."""
    units: list[list] = []
    for word in line:
        rtl = any(_is_rtl(ch) for ch in word[0]) and not re.search(r"[A-Za-z]", word[0])
        last = units[-1] if units else None
        if rtl and last is not None and last[5] and word[1] - last[3] <= phrase_gap:
            last[0] = word[0] + " " + last[0]
            last[3], last[4] = word[3], max(last[4], word[4])
            continue
        units.append([*word[:5], rtl])
    return units


# The widest gap between two words of one phrase on an OCR'd page, in capital heights. Names
# and account numbers of the generated scans were cut at a space before (README, "OCR
# engines": scans 87.5 % -> 92.5 %, PNGs 83.8 % -> 88.8 %; 1.3 read a PNG field less, 2.0 the
# same as 1.6, which sits well under a column gap).
OCR_PHRASE_GAP = 1.6


def layout_text(lines: list[list[list]], *, aspect: float = 0.0) -> str:
    """The lines as text; words of one phrase are joined by a space, columns by two or more.

    ``aspect``: the page's height over its width in pixels, for words read by OCR, whose
    boxes hug the glyphs; 0 for a text layer's words (their boxes span the font's height).

    A word that stands apart from the one before it is placed near its horizontal position on
    a character grid, so that a value printed under its label starts near the label's column,
    which the label-anchored reader relies on.
    """
    widths = [(w[3] - w[1]) / len(w[0]) for line in lines for w in line if w[3] > w[1]]
    if not widths:
        return ""
    cell = statistics.median(widths)
    margin = min(w[1] for line in lines for w in line)
    rendered = []
    for line in lines:
        # Tesseract's boxes hug the glyphs and PDFium's span the font's ascent and descent;
        # the tallest word's height is wider than a space in both and narrower than a column gap.
        phrase_gap = max(w[4] - w[2] for w in line)
        if aspect:
            # OCR boxes hug the glyphs (a capital's height, about 0.7 of the font size) and
            # are fractions of the page's width across and of its height down: in the same
            # units a space between words of one phrase often measures a capital's height.
            phrase_gap *= aspect * OCR_PHRASE_GAP
        text, previous = "", None
        for word in _rtl_phrases(line, phrase_gap):
            if previous is not None and word[1] - previous[3] <= phrase_gap:
                text += " " + word[0]
            else:
                column = round((word[1] - margin) / cell)
                text = text.ljust(max(column, len(text) + 2) if text else column) + word[0]
            previous = word
        rendered.append(text.rstrip())
    return "\n".join(rendered)
