"""Optical character recognition: the `tesseract` command-line program where it is installed,
else RapidOCR (PP-OCRv4 on onnxruntime, models inside the wheel).

RapidOCR needs nothing but Python, so OCR works after ``make run`` on a fresh machine;
Tesseract, where present, reads the printed forms of the generated corpus better (README, "OCR
engines", from ``python -m bench.ocr`` and ``python -m bench.evals``). The engine is the setting
EXTRACTION_OCR_ENGINE ("auto", "rapidocr", "tesseract" or "none"). ``read_page`` runs the engine
once per page and returns word boxes on the upright page; when no engine can run it raises
``OcrUnavailable`` and the caller keeps the page without text, saying why.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass

from PIL import Image, ImageOps

from .images import as_rgb

logger = logging.getLogger(__name__)

# Tesseract reads best at about 300 dpi; a letter page is then about 3300 pixels tall.
OCR_MIN_LONG_SIDE = 2200
OCR_MAX_LONG_SIDE = 4000
OCR_TIMEOUT_SECONDS = 180
# Words below this confidence are mostly specks of scanner noise read as punctuation.
MIN_CONFIDENCE = 20.0


class OcrUnavailable(Exception):
    """No OCR engine can run here, or the engine failed on this image."""


class OcrFailed(OcrUnavailable):
    """The engine runs here but failed on this image (out of memory on a huge page, a crash,
    a timeout): the page's own trouble, not the server's, so it is not reported as "OCR is not
    available"."""


# What the applicant and the admin are told when pages could not be read by OCR.
UNAVAILABLE_MESSAGE = (
    "Text recognition (OCR) is not available on this server, so scanned pages and photos "
    "cannot be read automatically. Please type the values in beside the page."
)


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


# Camera photos (receipts, IDs held up to a phone). On the 50 real receipt photos the offline
# reader takes 98 % of dates and totals from RapidOCR's words and 66 % / 76 % from Tesseract's;
# on flat scans and rendered pages Tesseract reads as well or better (README, "OCR engines").
PHOTO_MEDIA_TYPES = frozenset({"image/jpeg", "image/heic", "image/heif", "image/webp"})


def engine_name(media_type: str = "") -> str:
    """The engine for a file of ``media_type``: EXTRACTION_OCR_ENGINE, where "auto" (the
    default) is RapidOCR for camera photos and, for scans and rendered pages, Tesseract when its
    program is installed and RapidOCR otherwise (see the README's OCR figures for why)."""
    from django.conf import settings

    name = getattr(settings, "EXTRACTION_OCR_ENGINE", "auto") or "auto"
    if name == "auto":
        if media_type.split(";")[0].strip().lower() in PHOTO_MEDIA_TYPES:
            return "rapidocr"
        return "tesseract" if tesseract_path() else "rapidocr"
    return name


def availability() -> tuple[bool, str]:
    """Whether the configured engine can run here, and a sentence saying which it is or why
    not (shown on the admin's health view)."""
    name = engine_name()
    if name == "none":
        return False, "OCR is turned off (EXTRACTION_OCR_ENGINE=none)."
    if name == "tesseract":
        found = tesseract_path()
        return (True, f"Tesseract at {found}") if found else (False, "Tesseract is not installed.")
    try:
        _rapidocr()
    except OcrUnavailable as exc:
        return False, str(exc)
    return True, "RapidOCR (PP-OCRv4 on onnxruntime)"


@dataclass(frozen=True)
class OcrPage:
    """One page read by OCR: the upright image and its words as ``[text, x0, y0, x1, y1]``
    fractions of that image, origin top-left. ``skew`` (degrees anticlockwise) then ``turn``
    (degrees clockwise: 0, 90, 180 or 270) made the page as read level and upright; ``upright``
    applies the same to any other rendering of it."""

    image: Image.Image
    words: list[list]
    skew: float = 0.0
    turn: int = 0


def read_page(image: Image.Image, *, shown: Image.Image | None = None) -> OcrPage:
    """The words on ``image`` read once by the configured engine, with the page levelled (a
    tilted scan) and turned upright (an upside-down or sideways one). ``shown``: another
    rendering of the same page, such as the smaller stored one, to return levelled and turned
    instead of ``image`` (the large image read here is then never turned in colour). Raises
    ``OcrUnavailable``."""
    name = engine_name()
    if name == "none":
        raise OcrUnavailable("OCR is turned off (EXTRACTION_OCR_ENGINE=none).")
    if name == "tesseract":
        if tesseract_path() is None:
            raise OcrUnavailable("Tesseract is not installed.")
        # Tesseract reads grey: the page is converted once, and scaled before it is levelled.
        gray = image if image.mode == "L" else image.convert("L")
        skew = skew_angle(gray)
        words, turn = tesseract_words(levelled(prepare(gray), skew))
        page = upright(image if shown is None else shown, skew, turn)
    else:
        skew = skew_angle(image)
        level = levelled(image, skew)
        words, turn = _rapid_upright_words(level)
        page = upright(level, 0.0, turn) if shown is None else upright(shown, skew, turn)
    return OcrPage(image=page, words=words, skew=skew, turn=turn)


# --- RapidOCR ------------------------------------------------------------------------------

_ENGINE = None
_RECOGNIZER = None
_ENGINE_LOCK = threading.Lock()
# Its detector works on the long side scaled to at most this; letters stay about 20 px tall.
RAPID_MAX_SIDE = 2400
RAPID_MIN_SCORE = 0.5


def _rapid_options() -> dict:
    threads = int(os.environ.get("OMP_THREAD_LIMIT", "0") or 0) or -1
    return {
        "max_side_len": RAPID_MAX_SIDE,
        "intra_op_num_threads": threads,
        "inter_op_num_threads": 1,
    }


def _rapidocr():
    """The process's one RapidOCR engine (loading the models takes about a second)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:  # an install without the optional wheels
                raise OcrUnavailable(f"RapidOCR is not installed: {exc}") from exc
            _ENGINE = RapidOCR(**_rapid_options())
            _ENGINE.text_cls = _TurnsSeen(_ENGINE.text_cls)
        return _ENGINE


def _recognizer():
    """The process's line recognizer: the whole engine's once that is loaded, else the
    recognizer alone, built from RapidOCR's own configuration as its engine builds it, on one
    thread (it reads a strip of a few words, in a worker that is one of several on its cores).
    The text layer's digit check needs no detector or classifier; loading it takes about 0.1 s
    of CPU, once per process."""
    global _RECOGNIZER
    with _ENGINE_LOCK:
        if _ENGINE is not None:
            return _ENGINE.text_rec
        if _RECOGNIZER is None:
            try:
                from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
                from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
                from rapidocr_onnxruntime.utils import UpdateParameters, read_yaml
                from rapidocr_onnxruntime.utils.parse_parameters import update_model_path
            except ImportError as exc:  # an install without the optional wheels
                raise OcrUnavailable(f"RapidOCR is not installed: {exc}") from exc
            config = update_model_path(read_yaml(DEFAULT_CFG_PATH))
            config = UpdateParameters()(config, **{**_rapid_options(), "intra_op_num_threads": 1})
            _RECOGNIZER = TextRecognizer(config["Rec"])
        return _RECOGNIZER


class _TurnsSeen:
    """Wraps RapidOCR's line classifier to remember, per thread, which lines it found upside
    down: the page's orientation comes from the same run that reads its text."""

    def __init__(self, classify):
        self.classify = classify
        self.local = threading.local()

    def __call__(self, crops):
        turned, labels, elapsed = self.classify(crops)
        self.local.labels = [str(label[0]) for label in labels]
        return turned, labels, elapsed

    def upside_down_share(self) -> float:
        labels = getattr(self.local, "labels", [])
        return sum(label == "180" for label in labels) / len(labels) if labels else 0.0


def _rapid_words(image: Image.Image) -> list[list]:
    """Word boxes in pixels of ``image``: RapidOCR reads lines and places each character; a
    word is a run of characters between spaces."""
    import numpy as np

    engine = _rapidocr()
    # Raw pixels, no re-encoding; RapidOCR expects OpenCV's BGR order.
    pixels = np.ascontiguousarray(np.asarray(as_rgb(image))[:, :, ::-1])
    try:
        result, _ = engine(pixels, return_word_box=True, text_score=RAPID_MIN_SCORE)
    except Exception as exc:  # noqa: BLE001 - an engine failure must not lose the page
        raise OcrFailed(f"RapidOCR failed: {exc}") from exc
    words: list[list] = []
    for line in result or []:
        points, text, score = line[0], line[1], float(line[2])
        chars = line[4] if len(line) > 4 else []
        boxes = line[3] if len(line) > 3 else []
        if score < RAPID_MIN_SCORE or not text.strip():
            continue
        line_xs = [p[0] for p in points]
        span = (min(line_xs), max(line_xs))
        if not chars or len(chars) != len(boxes):
            ys = [p[1] for p in points]
            words.append([text.strip(), span[0], min(ys), span[1], max(ys), *span])
            continue
        current: list = []
        line_height = max(p[1] for p in points) - min(p[1] for p in points)
        for char, box in zip(chars, boxes, strict=False):
            # Its recognizer often leaves out spaces ("Feb1,2025", "CO80236"); a gap wider
            # than a third of the line's height beside a letter is one. Its character places
            # are coarse, so between digits and signs ("$147.87") it takes half the height.
            gap = box[0][0] - current[-1][1][1][0] if current else 0
            beside_letter = bool(current) and (char.isalpha() or current[-1][0].isalpha())
            if char.isspace() or gap > line_height / (3 if beside_letter else 2):
                if current:
                    words.append(_joined(current) + list(span))
                current = []
                if char.isspace():
                    continue
            current.append((char, box))
        if current:
            words.append(_joined(current) + list(span))
    return [piece for word in words for piece in _unglued(word)]


# Where RapidOCR's English output glues words that a page prints apart: a label and its value
# ("EXP08Sep2028", "Name:Yuki"), a word and a number ("5030Park"), a name and its initial
# ("YukiL.Schmidt"), two capitalised words ("CedarLane"), a city and its state ("Albany,NY"),
# a date and its time ("06-05-201812:43:19"), a capitals label and a word ("DOBJul",
# "FoodsLLC"), a possessive and its noun ("Employee'sname"), a box letter and its label
# ("bEmployer").
_GLUED = re.compile(
    r"(?<=[A-Za-z]{2})(?=\d)"
    r"|(?<=\d)(?=(?!(?:st|nd|rd|th)\b)[A-Za-z]{2})"
    r"|(?<=[A-Za-z]:)(?=[^\W_])"
    r"|(?<=[A-Za-z]{2},)(?=[A-Za-z])"
    r"|(?<=[/.-]\d{4})(?=\d{1,2}:\d{2})"
    r"|(?<=[a-z])(?=[A-Z]\.)"
    r"|(?<=[A-Za-z]{2}\.)(?=[A-Za-z0-9])"
    r"|(?<=\b[A-Z]\.)(?=[A-Z][a-z])"
    r"|(?<=[a-z]{2})(?=[A-Z][a-z]{2})"
    r"|(?<=[A-Z]{2})(?=[A-Z][a-z]{2})"
    r"|(?<=[a-z]{2})(?=[A-Z]{2,}\b)"
    r"|(?<=[A-Za-z]'s)(?=[a-z]{2})"
    r"|(?<=\b[a-z])(?=[A-Z][a-z]{2})"
)


def _unglued(word: list) -> list[list]:
    """``word`` split where glued words meet, its box shared by character count."""
    parts = [part for part in _GLUED.split(word[0]) if part]
    if len(parts) < 2:
        return [word]
    x0, x1 = word[1], word[3]
    per_char = (x1 - x0) / max(len(word[0]), 1)
    pieces, position = [], x0
    for part in parts:
        width = per_char * len(part)
        pieces.append([part, position, word[2], position + width, word[4], *word[5:]])
        position += width
    return pieces


def _joined(chars: list) -> list:
    xs = [p[0] for _, box in chars for p in box]
    ys = [p[1] for _, box in chars for p in box]
    return ["".join(c for c, _ in chars), min(xs), min(ys), max(xs), max(ys)]


def _rapid_upright_words(image: Image.Image) -> tuple[list[list], int]:
    """RapidOCR's words on ``image`` as fractions of the upright page, and the degrees
    clockwise that turn ``image`` upright."""
    words = _rapid_words(image)
    turn = 0
    tall = sum(1 for w in words if len(w[0]) > 2 and (w[4] - w[2]) > 1.5 * (w[3] - w[1]))
    if words and tall > len(words) / 2:
        # A sideways page: turn it a quarter and read again (the only second run).
        image = image.rotate(-90, expand=True)
        turn = 90
        words = _rapid_words(image)
    width, height = image.size
    if words and _rapidocr().text_cls.upside_down_share() > 0.5:
        # Upside down: the lines were read right (each turned by the classifier); turn the
        # boxes with the page instead of reading again.
        # Characters of a line the classifier turned are placed as if it were not turned:
        # mirror each word within its line first, then turn the page.
        turn += 180
        words = [
            [
                w[0],
                width - (w[5] + w[6] - w[1]),
                height - w[4],
                width - (w[5] + w[6] - w[3]),
                height - w[2],
            ]
            for w in words
        ]
    clamp = lambda v: round(min(max(v, 0.0), 1.0), 5)  # noqa: E731
    fractions = [
        [
            w[0],
            clamp(w[1] / width),
            clamp(w[2] / height),
            clamp(w[3] / width),
            clamp(w[4] / height),
        ]
        for w in words
    ]
    return fractions, turn


def prepare(image: Image.Image) -> Image.Image:
    """A grayscale copy scaled into the size range where Tesseract reads reliably."""
    gray = image.convert("L")
    long_side = max(gray.size)
    if OCR_MIN_LONG_SIDE <= long_side <= OCR_MAX_LONG_SIDE:
        return gray
    target = OCR_MIN_LONG_SIDE if long_side < OCR_MIN_LONG_SIDE else OCR_MAX_LONG_SIDE
    scale = target / long_side
    size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
    return gray.resize(size, Image.Resampling.LANCZOS)


def _pgm(image: Image.Image) -> bytes:
    """``image`` as a binary PGM: its raw grey pixels behind a one-line header, which
    Tesseract (through Leptonica) reads from stdin without decoding anything, so nothing is
    compressed on our side or decompressed on its side (a PNG of a page cost about 0.2 s)."""
    gray = image if image.mode == "L" else image.convert("L")
    return b"P5\n%d %d\n255\n" % gray.size + gray.tobytes()


def tesseract_words(image: Image.Image) -> tuple[list[list], int]:
    """The words Tesseract reads on ``image`` (grey, as ``prepare`` makes it), as fractions of
    the upright page, and the degrees clockwise that turn ``image`` upright. One run finds the
    orientation and the words together (``--psm 1``: page segmentation with orientation
    detection). Raises ``OcrUnavailable``.

    A page is read whole. Reading it in two halves cut at a blank row, by two processes at
    once, halved its wall time on two free cores but was dropped: Tesseract then split amounts
    at their decimal point ("4,516." "18") and lost 50 of one statement's 322 words."""
    binary = tesseract_path()
    if binary is None:
        raise OcrUnavailable("Tesseract is not installed.")
    rows = parse_tsv(_tesseract_tsv(binary, image), image.size, lines=True)
    degrees = reading_turn(rows)
    return [turned_box(row[:5], degrees) for row in rows], degrees


def _tesseract_tsv(binary: str, image: Image.Image) -> str:
    """Tesseract's TSV for ``image``, read from its raw grey pixels in one run."""
    # One thread per process: OpenMP threads inside Tesseract cost several times the CPU for
    # little gain (a page: 1.0 s of CPU with one thread, 9 s with two).
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        # The pixels go in as a file, not through a pipe: ``input=`` writes 8 MB in 4 KB pieces
        # with a poll before each, 50 ms of CPU a page for nothing.
        with tempfile.TemporaryFile() as pixels:
            pixels.write(_pgm(image))
            pixels.seek(0)
            completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
                [binary, "stdin", "stdout", "--psm", "1", "-l", "eng", "tsv"],
                stdin=pixels,
                capture_output=True,
                timeout=OCR_TIMEOUT_SECONDS,
                env=env,
                check=False,
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrFailed(f"Tesseract did not finish: {exc}") from exc
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()[:500]
        raise OcrFailed(f"Tesseract failed: {message}")
    return completed.stdout.decode("utf-8", "replace")


# Fewer words than this side by side on their lines say nothing about which way the page faces.
MIN_ORIENTATION_PAIRS = 3


def reading_turn(rows: list[list]) -> int:
    """Degrees clockwise that turn the page upright (0, 90, 180 or 270), from the direction in
    which Tesseract's words follow each other along their lines: its orientation detection
    reads a turned page right but reports boxes on the page as given, so a line read right to
    left is upside down and one read downwards is on its side. 0 for a page with too few words
    side by side to tell. ``rows``: ``parse_tsv(..., lines=True)``."""
    previous: dict[tuple, list] = {}
    dx = dy = 0.0
    pairs = 0
    for row in rows:
        key = row[5]
        before = previous.get(key)
        previous[key] = row
        if before is None:
            continue
        dx += (row[1] + row[3]) / 2 - (before[1] + before[3]) / 2
        dy += (row[2] + row[4]) / 2 - (before[2] + before[4]) / 2
        pairs += 1
    if pairs < MIN_ORIENTATION_PAIRS:
        return 0
    if abs(dx) >= abs(dy):
        return 0 if dx >= 0 else 180
    # Read downwards: the top of the letters faces right, a quarter turn anticlockwise.
    return 270 if dy > 0 else 90


def turned_box(word: list, degrees: int) -> list:
    """``[text, x0, y0, x1, y1]`` (fractions) on the page turned ``degrees`` clockwise."""
    text, x0, y0, x1, y1 = word
    if degrees == 180:
        x0, y0, x1, y1 = 1 - x1, 1 - y1, 1 - x0, 1 - y0
    elif degrees == 90:
        x0, y0, x1, y1 = 1 - y1, x0, 1 - y0, x1
    elif degrees == 270:
        x0, y0, x1, y1 = y0, 1 - x1, y1, 1 - x0
    return [text, *(round(v, 5) for v in (x0, y0, x1, y1))]


def parse_tsv(tsv: str, size: tuple[int, int], *, lines: bool = False) -> list[list]:
    """The word rows of Tesseract's TSV output, with boxes as fractions of ``size``; with
    ``lines``, each row also carries its line's key (block, paragraph, line)."""
    width, height = size
    words: list[list] = []
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        if row.get("level") != "5":
            continue
        text = (row.get("text") or "").strip()
        if not text or float(row.get("conf") or -1) < MIN_CONFIDENCE:
            continue
        left, upper = int(row["left"]), int(row["top"])
        right, bottom = left + int(row["width"]), upper + int(row["height"])
        word = [
            text,
            round(left / width, 5),
            round(upper / height, 5),
            round(right / width, 5),
            round(bottom / height, 5),
        ]
        if lines:
            word.append((row.get("block_num"), row.get("par_num"), row.get("line_num")))
        words.append(word)
    return words


# Tilts smaller than this are left alone: turning costs more than it changes.
MIN_SKEW = 0.2


def skew_angle(image: Image.Image, *, max_angle: float = 4.0) -> float:
    """Degrees anticlockwise that level the text lines of ``image`` (0.0 when they are level
    within MIN_SKEW, or the page shows no ink), to 0.05 degree, up to ``max_angle`` either way.

    The angle is the one at which the rows of ink are sharpest (the projection-profile method;
    the columns, for a page lying on its side): the dark pixels of the middle of a copy about
    1000 pixels tall are projected onto the rows of the page turned by each angle, without
    turning any image (10 ms a page, where turning an image per angle took 0.3-0.8 s).
    """
    import numpy as np

    gray = image if image.mode == "L" else image.convert("L")
    factor = max(1, round(max(gray.size) / 1000))
    small = ImageOps.autocontrast(gray.reduce(factor) if factor > 1 else gray)
    pixels = np.asarray(small)
    height, width = pixels.shape
    # The middle of the page only: the desk around a photographed page is dark too, and the
    # photo's own straight edges would make its borders the sharpest "lines" at 0 degrees.
    top, left = height // 10, width // 10
    ys, xs = np.nonzero(pixels[top : height - top, left : width - left] < 128)
    ys, xs = ys + top, xs + left
    if len(ys) < 50:
        return 0.0
    across = xs.astype(np.float64) - width / 2
    down = ys.astype(np.float64) - height / 2
    # Rows (or columns) of the turned page, shifted so that no index is negative.
    shift = math.hypot(width, height) / 2 + 1

    def sharpness(angle: float, sideways: bool = False) -> float:
        radians = math.radians(angle)
        cos, sin = math.cos(radians), math.sin(radians)
        # A sideways page's lines run down its columns: the same turn levels them.
        rows = (across * cos + down * sin if sideways else down * cos - across * sin) + shift
        below = rows.astype(np.int64)
        # Each pixel shared between the two rows it falls between, as turning the image with
        # interpolation would: rounding alone favoured the angles that alias least.
        share = rows - below
        profile = np.bincount(below, weights=1 - share, minlength=below.max() + 2)
        profile[1:] += np.bincount(below, weights=share, minlength=below.max() + 1)
        return float(np.square(np.diff(profile)).sum())

    steps = int(max_angle / 0.25)
    coarse = [(i * 0.25, side) for side in (False, True) for i in range(-steps, steps + 1)]
    best, sideways = max(coarse, key=lambda pair: sharpness(*pair))
    best = max((best + i * 0.05 for i in range(-4, 5)), key=lambda a: sharpness(a, sideways))
    return 0.0 if abs(best) < MIN_SKEW else round(best, 2)


def levelled(image: Image.Image, skew: float) -> Image.Image:
    """``image`` turned ``skew`` degrees anticlockwise (``skew_angle``) about its centre, at
    its size, the corners that turning uncovers filled with the paper's colour; ``image``
    itself when ``skew`` is 0. Bicubic: Tesseract lost one word in eight of a tilted W-2's small
    labels on a bilinear turn."""
    import cv2
    import numpy as np

    if not skew:
        return image
    sample = image.reduce(4) if min(image.size) >= 64 else image
    # The most common shade of each band: the paper.
    paper = [max(range(256), key=band.histogram().__getitem__) for band in sample.split()]
    pixels = np.asarray(image)
    turn = cv2.getRotationMatrix2D((image.width / 2, image.height / 2), skew, 1.0)
    turned = cv2.warpAffine(
        pixels,
        turn,
        image.size,
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(paper),
    )
    return Image.fromarray(turned)


def upright(image: Image.Image, skew: float, turn: int) -> Image.Image:
    """``image`` levelled by ``skew`` then turned ``turn`` degrees clockwise: any rendering of
    a page as ``read_page`` made the one it read (``OcrPage.skew`` and ``.turn``)."""
    image = levelled(image, skew)
    # PIL turns counter-clockwise for a positive angle.
    return image.rotate(-turn, expand=True) if turn else image


def read_crops(image: Image.Image, boxes: list[list[float]]) -> list[str]:
    """What each box of ``image`` (fractions, origin top-left) shows, read by RapidOCR's line
    recognizer alone: no page layout, so a few dozen words cost a fraction of a page. An
    unsure reading is "". Raises ``OcrUnavailable``."""
    if engine_name() == "none":
        raise OcrUnavailable("OCR is turned off (EXTRACTION_OCR_ENGINE=none).")
    recognize = _recognizer()
    padded = _padded(image.size, boxes)
    shown = [_legible(box) for box in padded]
    crops = [_bgr(image.crop(box)) for box, read in zip(padded, shown, strict=True) if read]
    try:
        results, _ = recognize(crops) if crops else ([], 0.0)
    except Exception as exc:  # noqa: BLE001 - a failed check keeps the text layer as it is
        raise OcrFailed(f"RapidOCR failed: {exc}") from exc
    readings = iter(str(r[0]).strip() if float(r[1]) >= 0.8 else "" for r in results)
    return [next(readings) if read else "" for read in shown]


# A word is read only when its crop (padding included) is at least this many pixels tall and
# at most this many times as wide as tall: a box of no height (text set below the page's foot
# and clamped to it, or squashed flat by its text matrix) would be stretched to tens of
# thousands of pixels wide, seconds of CPU and a gigabyte of memory for one word. A long
# account number with its padding is about 15 times as wide as tall.
MIN_CROP_HEIGHT = 6
MAX_CROP_RATIO = 25


def legible(size: tuple[int, int], box: list[float]) -> bool:
    """Whether the word whose box (fractions, origin top-left) is ``box``, on an image of
    ``size``, is read at all by ``read_crops`` and ``read_strip`` (see MAX_CROP_RATIO); the
    reading of any other is "" (unsure)."""
    return _legible(_padded(size, [box])[0])


def _legible(crop: tuple[int, int, int, int]) -> bool:
    left, top, right, bottom = crop
    height = bottom - top
    return height >= MIN_CROP_HEIGHT and 0 < right - left <= MAX_CROP_RATIO * height


def _padded(size: tuple[int, int], boxes: list[list[float]]) -> list[tuple[int, int, int, int]]:
    """Each box of fractions as the pixels of an image of ``size`` it covers, padded by 15 %
    of its height (at least 2 pixels) and cut to the image: what the recognizer is shown of a
    word."""
    width, height = size
    padded = []
    for x0, y0, x1, y1 in boxes:
        pad = max(2, round((y1 - y0) * height * 0.15))
        padded.append(
            (
                max(0, round(x0 * width) - pad),
                max(0, round(y0 * height) - pad),
                min(width, round(x1 * width) + pad),
                min(height, round(y1 * height) + pad),
            )
        )
    return padded


def _bgr(image: Image.Image):
    """``image`` as the recognizer takes it: an array of height x width x 3, blue first.
    Converted after cropping, so that a whole page is never turned into colour for a few
    words."""
    import numpy as np

    return np.ascontiguousarray(np.asarray(as_rgb(image))[:, :, ::-1])


# A strip of word crops is read at this height, the crops a third of it apart.
STRIP_HEIGHT = 48


def read_strip(image: Image.Image, boxes: list[list[float]]) -> str:
    """What the boxes of ``image`` (fractions, origin top-left) show when laid side by side on
    one line and read by RapidOCR's line recognizer in one run: a few words for about the
    cost of one (the recognizer pads every crop to a line of at least 320 pixels anyway).
    Raises ``OcrUnavailable``."""
    if engine_name() == "none":
        raise OcrUnavailable("OCR is turned off (EXTRACTION_OCR_ENGINE=none).")
    recognize = _recognizer()
    pieces = []
    for box in _padded(image.size, boxes):
        if not _legible(box):
            continue
        crop = as_rgb(image.crop(box))
        scale = STRIP_HEIGHT / crop.height
        pieces.append(crop.resize((max(1, round(crop.width * scale)), STRIP_HEIGHT)))
    if not pieces:
        return ""
    gap = STRIP_HEIGHT // 3
    strip = Image.new(
        "RGB", (sum(p.width for p in pieces) + gap * (len(pieces) + 1), STRIP_HEIGHT), "white"
    )
    x = gap
    for piece in pieces:
        strip.paste(piece, (x, 0))
        x += piece.width + gap
    try:
        results, _ = recognize([_bgr(strip)])
    except Exception as exc:  # noqa: BLE001 - a failed check keeps the text layer as it is
        raise OcrFailed(f"RapidOCR failed: {exc}") from exc
    return str(results[0][0]).strip()
