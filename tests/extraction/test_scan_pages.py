"""How a scanned page is levelled, read and stored: its tilt is measured from its ink without
turning images per angle, the large image is read while the smaller stored rendering is the one
levelled and turned, and the boxes land on the words of the stored page."""

from __future__ import annotations

import io

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from extraction import ingest, ocr

needs_tesseract = pytest.mark.skipif(ocr.tesseract_path() is None, reason="Tesseract not installed")

LINES = [
    "Bluegate Freight LLC",
    "Employee: Casey Q. Morgan",
    "Pay date: 03/20/2026",
    "Gross Pay 2,450.00",
    "Taxes 412.45",
    "Net Pay 1,837.55",
]
PAPER = 228


def _page(paper: int = PAPER) -> Image.Image:
    """A letter page at 150 dpi: dark lines on grey paper."""
    image = Image.new("L", (1275, 1650), paper)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    for row, line in enumerate(LINES):
        draw.text((90, 120 + row * 70), line, fill=30, font=font)
    return image


def _tilted(image: Image.Image, degrees: float) -> Image.Image:
    """``image`` as a scanner tilted it ``degrees`` clockwise (PIL turns anticlockwise)."""
    return image.rotate(-degrees, resample=Image.Resampling.BICUBIC, fillcolor=PAPER)


# The tilt measured again on a stored page: a page of 800-1000 pixels shows a level one within
# a quarter degree (its letters are a dozen pixels tall); the scans below were tilted 1.8-2.2.
MEASURED_LEVEL = 0.25


def _box_shows_ink(image: Image.Image, word: list) -> bool:
    width, height = image.size
    box = (word[1] * width, word[2] * height, word[3] * width, word[4] * height)
    return image.convert("L").crop(tuple(round(v) for v in box)).getextrema()[0] < 100


def _word(words: list[list], text: str) -> list:
    return next(w for w in words if w[0] == text)


@pytest.mark.parametrize("degrees", [-3.1, -1.2, 0.7, 2.6])
def test_the_tilt_of_a_page_is_measured_from_its_ink(degrees):
    assert ocr.skew_angle(_tilted(_page(), degrees)) == pytest.approx(degrees, abs=0.1)
    assert ocr.skew_angle(_tilted(_page(), degrees).convert("RGB")) == pytest.approx(
        degrees, abs=0.1
    )


@pytest.mark.parametrize("turned", [90, 270])
def test_the_tilt_of_a_page_lying_on_its_side_is_measured_along_its_columns(turned):
    """Its lines run down the columns: the rows of ink say nothing about its tilt."""
    assert ocr.skew_angle(_page().rotate(turned, expand=True)) == 0.0
    tilted = _tilted(_page(), 1.6).rotate(turned, expand=True)
    assert ocr.skew_angle(tilted) == pytest.approx(1.6, abs=0.15)


def test_a_level_page_and_a_blank_one_are_left_as_they_are():
    assert ocr.skew_angle(_page()) == 0.0
    assert ocr.skew_angle(_tilted(_page(), 0.1)) == 0.0, "below MIN_SKEW: not worth a turn"
    assert ocr.skew_angle(Image.new("L", (800, 1000), 240)) == 0.0
    page = _page()
    assert ocr.levelled(page, 0.0) is page


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_levelling_fills_the_uncovered_corners_with_the_paper(mode):
    tilted = _tilted(_page(), 2.0).convert(mode)
    level = ocr.levelled(tilted, ocr.skew_angle(tilted))
    assert level.size == tilted.size and level.mode == mode
    corner = level.convert("L").getpixel((2, 2))
    assert abs(corner - PAPER) <= 3, corner
    assert ocr.skew_angle(level) == 0.0


@needs_tesseract
@pytest.mark.parametrize("turned", [0, 180])
def test_the_large_image_is_read_and_the_smaller_one_returned_levelled_and_turned(turned, settings):
    """``read_page(image, shown=...)``: the words come from ``image``; the page returned is
    ``shown`` (here half the size) turned exactly as ``image`` was, so boxes fit it."""
    settings.EXTRACTION_OCR_ENGINE = "tesseract"
    fed = _tilted(_page(), 1.5).rotate(turned)
    shown = fed.convert("RGB").resize((fed.width // 2, fed.height // 2))
    read = ocr.read_page(fed, shown=shown)
    assert read.skew == pytest.approx(1.5, abs=0.1)
    assert read.turn == turned
    assert read.image.size == shown.size and read.image.mode == "RGB"
    gross, amount, net = (_word(read.words, t) for t in ("Gross", "2,450.00", "Net"))
    assert gross[3] < amount[1] and gross[4] < net[2], "boxes are on the upright page"
    for word in (gross, amount, _word(read.words, "Casey")):
        assert _box_shows_ink(read.image, word), word
    assert abs(ocr.skew_angle(read.image)) <= MEASURED_LEVEL


def _scan_pdf(image: Image.Image) -> bytes:
    """An image-only PDF of one letter page, as scanning apps write them."""
    pdf = FPDF(unit="pt", format=(612, 792))
    pdf.add_page()
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=85)
    buffer.seek(0)
    pdf.image(buffer, x=0, y=0, w=612, h=792)
    return bytes(pdf.output())


@pytest.mark.parametrize("engine", [pytest.param("tesseract", marks=needs_tesseract), "rapidocr"])
def test_a_tilted_scanned_pdf_page_is_stored_level_at_the_page_size(engine, settings):
    """The stored page is the ``max_pixels`` rendering, levelled as OCR levelled the 300 dpi
    one (not that one scaled down again), and its words' boxes land on their ink."""
    settings.EXTRACTION_OCR_ENGINE = engine
    pages = list(ingest._render_here(_scan_pdf(_tilted(_page(), 1.8)), "application/pdf", 800, 5))
    assert len(pages) == 1
    page = pages[0]
    assert page.text_source == "ocr"
    assert max(page.width, page.height) == 800
    stored = Image.open(io.BytesIO(page.image))
    assert stored.size == (page.width, page.height)
    assert abs(ocr.skew_angle(stored)) <= MEASURED_LEVEL
    for text in ("Casey", "2,450.00"):
        assert _box_shows_ink(stored, _word(page.words, text)), text


@needs_tesseract
def test_a_scanned_image_is_stored_bounded_level_and_read(settings):
    settings.EXTRACTION_OCR_ENGINE = "tesseract"
    buffer = io.BytesIO()
    _tilted(_page(), -2.2).save(buffer, format="PNG")
    (page,) = ingest._render_here(buffer.getvalue(), "image/png", 1000, 5)
    stored = Image.open(io.BytesIO(page.image))
    assert max(stored.size) == 1000
    assert abs(ocr.skew_angle(stored)) <= MEASURED_LEVEL
    assert _box_shows_ink(stored, _word(page.words, "1,837.55"))
