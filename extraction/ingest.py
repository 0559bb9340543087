"""Turning an uploaded original into pages: an image for people and models, words with boxes.

A PDF page keeps the words of its own text layer; a page without one (a scan saved as PDF) and
every photo or scan image are read by OCR. Word boxes are fractions of the page, origin top-left,
so that a box found on one rendering can be drawn on any other.
"""

from __future__ import annotations

import ctypes
import io
import logging
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from . import ocr

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


class UnreadableDocument(Exception):
    """The file cannot be turned into pages. ``message`` is plain language for the applicant."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RenderedPage:
    number: int  # 1-based
    png: bytes  # the page image as PNG, long side <= max_pixels
    width: int  # of the PNG
    height: int
    text: str  # the page's text in reading order, columns kept apart by runs of spaces
    words: list[list]  # [[text, x0, y0, x1, y1], ...] fractions of the page, origin top-left
    text_source: str  # "text_layer" | "ocr" | "none"


def render_pages(
    *, data: bytes, media_type: str, max_pixels: int, first: int = 1
) -> Iterator[RenderedPage]:
    """The pages of one uploaded file from page ``first`` (1-based) on, rendered one at a time
    so that memory stays flat and a reading can stop after any page and go on later.

    Raises ``UnreadableDocument`` for a file that is not what its media type says, an
    encrypted PDF, or a media type that is not supported.
    """
    kind = media_type.split(";")[0].strip().lower()
    if kind in PDF_TYPES:
        yield from _pdf_pages(data, max_pixels, first)
    elif kind in IMAGE_TYPES:
        yield from _image_pages(data, kind, max_pixels, first)
    else:
        raise UnreadableDocument(
            "This kind of file is not supported. Upload a PDF or a photo (PNG, JPEG, TIFF, "
            "WebP or HEIC)."
        )


# --- PDF ---------------------------------------------------------------------------------------


def _pdf_pages(data: bytes, max_pixels: int, first: int = 1) -> Iterator[RenderedPage]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(
            "This PDF could not be opened. It may be damaged or protected by a password; "
            "upload an unprotected copy."
        ) from exc
    try:
        # Filled-in PDF forms (a fillable W-2) keep their values in form fields, which are part
        # of neither the drawing nor the text layer until the page is flattened.
        document.init_forms()
        for index in range(max(first, 1) - 1, len(document)):
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
    width_pt, height_pt = page.get_size()
    scale = max_pixels / max(width_pt, height_pt)
    image = page.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    words = _text_layer_words(page, image.size)
    if sum(ch.isalnum() for w in words for ch in w[0]) >= MIN_TEXT_LAYER_CHARS:
        return _page(number, image, group_lines(words), "text_layer")
    ocr_scale = min(OCR_DPI / 72, ocr.OCR_MAX_LONG_SIDE / max(width_pt, height_pt))
    scanned = _scanned_page(number, page.render(scale=ocr_scale).to_pil(), max_pixels)
    if scanned.words or not words:
        return scanned
    return _page(number, image, group_lines(words), "text_layer")


def _text_layer_words(page: pdfium.PdfPage, size: tuple[int, int]) -> list[list]:
    """Words from the text layer's characters, with boxes in the rendered image's frame.

    A word ends at a space (real or inserted by PDFium), a line break, or a gap wider than half
    the character height, since some generators place words without any space character.
    """
    textpage = page.get_textpage()
    try:
        words: list[list] = []
        current: list[str] = []
        box: list[float] = []
        for index in range(textpage.count_chars()):
            char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
            left, bottom, right, top = textpage.get_charbox(index, loose=True)
            if char.isspace() or char == "\x00" or right <= left:
                if current:
                    words.append(["".join(current), *box])
                current, box = [], []
                continue
            gap_too_wide = box and (left - box[2] > 0.5 * (top - bottom) or left < box[0])
            if current and gap_too_wide:
                words.append(["".join(current), *box])
                current, box = [], []
            current.append(char)
            box = (
                [left, bottom, right, top]
                if not box
                else [min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top)]
            )
        if current:
            words.append(["".join(current), *box])
    finally:
        textpage.close()
    return [[text, *_to_fractions(page, size, box)] for text, *box in words]


def _to_fractions(page: pdfium.PdfPage, size: tuple[int, int], box: list[float]) -> list[float]:
    """A box in PDF points as fractions of the rendered image, honouring the page's rotation."""
    width, height = size
    xs, ys = [], []
    for page_x, page_y in ((box[0], box[1]), (box[2], box[3])):
        device_x, device_y = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(
            page.raw, 0, 0, width, height, 0, page_x, page_y, device_x, device_y
        )
        xs.append(device_x.value / width)
        ys.append(device_y.value / height)
    clamp = lambda v: round(min(max(v, 0.0), 1.0), 5)  # noqa: E731
    return [clamp(min(xs)), clamp(min(ys)), clamp(max(xs)), clamp(max(ys))]


# --- images ------------------------------------------------------------------------------------


def _image_pages(data: bytes, kind: str, max_pixels: int, first: int = 1) -> Iterator[RenderedPage]:
    if kind in {"image/heic", "image/heif"}:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    try:
        original = Image.open(io.BytesIO(data))
        original.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UnreadableDocument(
            "This image could not be opened. Upload a PNG, JPEG, TIFF, WebP or HEIC photo."
        ) from exc
    # Only TIFF carries pages as frames; the frames of an animated WebP or PNG are not pages.
    frames = ImageSequence.Iterator(original) if kind == "image/tiff" else [original]
    for number, frame in enumerate(frames, start=1):
        if number < first:
            continue
        upright = ImageOps.exif_transpose(frame.copy()).convert("RGB")
        yield _scanned_page(number, upright, max_pixels)


def _bounded(image: Image.Image, max_pixels: int) -> Image.Image:
    if max(image.size) <= max_pixels:
        return image
    bounded = image.copy()
    bounded.thumbnail((max_pixels, max_pixels), Image.Resampling.LANCZOS)
    return bounded


# --- shared ------------------------------------------------------------------------------------


def _scanned_page(number: int, image: Image.Image, max_pixels: int) -> RenderedPage:
    """A page read by OCR. The stored image is the straightened one, so boxes fit it."""
    if ocr.tesseract_path() is None:
        logger.warning("Page %s kept without text: Tesseract is not installed.", number)
        return _page(number, _bounded(image, max_pixels), [], "none")
    # Quarter turns first (an upside-down or sideways scan), then the small tilt.
    straight = ocr.deskew(ocr.upright(image))
    try:
        words = ocr.read_words(straight)
    except ocr.OcrUnavailable as exc:
        logger.warning("Page %s kept without text: %s", number, exc)
        words = []
    return _page(number, _bounded(straight, max_pixels), group_lines(words), "ocr")


def _page(number: int, image: Image.Image, lines: list[list[list]], source: str) -> RenderedPage:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return RenderedPage(
        number=number,
        png=buffer.getvalue(),
        width=image.width,
        height=image.height,
        text=layout_text(lines),
        words=[word for line in lines for word in line],
        text_source=source if lines else "none",
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


def layout_text(lines: list[list[list]]) -> str:
    """The lines as text; words of one phrase are joined by a space, columns by two or more.

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
        text, previous = "", None
        for word in line:
            if previous is not None and word[1] - previous[3] <= phrase_gap:
                text += " " + word[0]
            else:
                column = round((word[1] - margin) / cell)
                text = text.ljust(max(column, len(text) + 2) if text else column) + word[0]
            previous = word
        rendered.append(text.rstrip())
    return "\n".join(rendered)
