"""Optical character recognition through the `tesseract` command-line program.

The binary is optional: without it, ``read_words`` raises ``OcrUnavailable`` and the caller keeps
the page with no text, so an install without Tesseract still stores and shows every upload.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import shutil
import subprocess

from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

# Tesseract reads best at about 300 dpi; a letter page is then about 3300 pixels tall.
OCR_MIN_LONG_SIDE = 2200
OCR_MAX_LONG_SIDE = 4000
OCR_TIMEOUT_SECONDS = 180
# Words below this confidence are mostly specks of scanner noise read as punctuation.
MIN_CONFIDENCE = 20.0


class OcrUnavailable(Exception):
    """The `tesseract` program is not installed, or it failed on this image."""


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


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


def read_words(image: Image.Image) -> list[list]:
    """The words Tesseract reads on ``image``, in its reading order.

    Each word is ``[text, x0, y0, x1, y1]`` with coordinates as fractions of the image size,
    origin top-left, so that they hold for any rendering of the same page.
    """
    binary = tesseract_path()
    if binary is None:
        raise OcrUnavailable("Tesseract is not installed.")
    prepared = prepare(image)
    buffer = io.BytesIO()
    prepared.save(buffer, format="PNG")
    # One thread per process: pages are already read in parallel by several workers, and
    # OpenMP threads inside each would only contend for the same cores.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [binary, "stdin", "stdout", "--psm", "4", "-l", "eng", "tsv"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=OCR_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrUnavailable(f"Tesseract did not finish: {exc}") from exc
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()[:500]
        raise OcrUnavailable(f"Tesseract failed: {message}")
    return parse_tsv(completed.stdout.decode("utf-8", "replace"), prepared.size)


def parse_tsv(tsv: str, size: tuple[int, int]) -> list[list]:
    """The word rows of Tesseract's TSV output, with boxes as fractions of ``size``."""
    width, height = size
    words: list[list] = []
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        if row.get("level") != "5":
            continue
        text = (row.get("text") or "").strip()
        if not text or float(row.get("conf") or -1) < MIN_CONFIDENCE:
            continue
        left, top = int(row["left"]), int(row["top"])
        right, bottom = left + int(row["width"]), top + int(row["height"])
        words.append(
            [
                text,
                round(left / width, 5),
                round(top / height, 5),
                round(right / width, 5),
                round(bottom / height, 5),
            ]
        )
    return words


# Below this, Tesseract's orientation guess is noise (a page of few or no letters).
MIN_ORIENTATION_CONFIDENCE = 2.0
_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_ORIENTATION_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)


def rotation(image: Image.Image) -> int:
    """Degrees clockwise that turn ``image`` upright (0, 90, 180 or 270), from Tesseract's
    orientation detection (``--psm 0``); 0 when unsure, or for a page with too little text."""
    binary = tesseract_path()
    if binary is None:
        return 0
    prepared = prepare(image)
    buffer = io.BytesIO()
    prepared.save(buffer, format="PNG")
    try:
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [binary, "stdin", "stdout", "--psm", "0"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=OCR_TIMEOUT_SECONDS,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return 0
    output = completed.stdout.decode("utf-8", "replace")
    angle, confidence = _ROTATE.search(output), _ORIENTATION_CONFIDENCE.search(output)
    if completed.returncode != 0 or not angle or not confidence:
        return 0
    if float(confidence.group(1)) < MIN_ORIENTATION_CONFIDENCE:
        return 0
    return int(angle.group(1)) % 360


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned by quarter turns so that its text reads upright (a scan fed upside
    down, a phone photo taken sideways); unchanged when it already does or when unsure."""
    degrees = rotation(image)
    if degrees == 0:
        return image
    # PIL turns counter-clockwise for a positive angle.
    return image.rotate(-degrees, expand=True)


def deskew(image: Image.Image, *, max_angle: float = 4.0) -> Image.Image:
    """``image`` turned so that its text lines are level, when a scan or photo is tilted.

    The angle is the one at which the rows of ink are sharpest (the projection-profile method);
    straightening first lets lines be grouped by height and keeps boxes on the stored image.
    """
    small = image.convert("L")
    small.thumbnail((1000, 1000))
    ink = ImageOps.autocontrast(small).point(lambda v: 255 if v < 128 else 0)

    def sharpness(angle: float) -> float:
        rotated = ink.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=0)
        profile = rotated.resize((1, rotated.height), Image.Resampling.BOX).tobytes()
        return sum((b - a) ** 2 for a, b in zip(profile, profile[1:], strict=False))

    steps = int(max_angle / 0.25)
    best = max((i * 0.25 for i in range(-steps, steps + 1)), key=sharpness)
    best = max((best + i * 0.05 for i in range(-4, 5)), key=sharpness)
    if abs(best) < 0.2:
        return image
    # The paper's colour fills the corners that turning uncovers.
    paper = max(small.getcolors(256) or [(0, 255)])[1]
    fill = paper if image.mode == "L" else (paper,) * len(image.getbands())
    return image.rotate(best, resample=Image.Resampling.BICUBIC, fillcolor=fill)
