"""How OCR's words reach the reader: one Tesseract run per page from raw pixels, the page turned
by the direction its words run in, words RapidOCR glues together split apart, and the words of
one phrase kept together however the page's sides compare."""

from __future__ import annotations

import subprocess

import pytest
from PIL import Image, ImageDraw, ImageFont

from extraction import ocr
from extraction.ingest import group_lines, layout_text

needs_tesseract = pytest.mark.skipif(ocr.tesseract_path() is None, reason="Tesseract not installed")

LINES = [
    "Bluegate Freight LLC",
    "Employee: Casey Q. Morgan",
    "Pay date: 03/20/2026",
    "Gross Pay 2,450.00",
    "Net Pay 1,837.55",
]


def _page() -> Image.Image:
    image = Image.new("L", (1275, 1650), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    for row, line in enumerate(LINES):
        draw.text((90, 120 + row * 70), line, fill=0, font=font)
    return image


class _Runs:
    """Counts the engine's processes and keeps what each was handed on stdin."""

    def __init__(self) -> None:
        self.inputs: list[bytes] = []
        self.run = subprocess.run

    def __call__(self, *args, **kwargs):
        given = kwargs.get("stdin")
        if given is not None and hasattr(given, "read"):  # a file of pixels, read back here
            self.inputs.append(given.read())
            given.seek(0)
        else:
            self.inputs.append(kwargs.get("input") or b"")
        return self.run(*args, **kwargs)


# --- Tesseract: one run per page, raw pixels ---------------------------------------------------


@needs_tesseract
@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_tesseract_reads_a_page_in_one_run_from_raw_pixels(degrees, settings, monkeypatch):
    """Orientation and text come from the same run, whichever way the page was fed, and the
    engine gets the grey pixels behind a PGM header, not a PNG to decode."""
    settings.EXTRACTION_OCR_ENGINE = "tesseract"
    runs = _Runs()
    monkeypatch.setattr(ocr.subprocess, "run", runs)
    read = ocr.read_page(_page().rotate(degrees, expand=True))
    assert len(runs.inputs) == 1
    assert runs.inputs[0].startswith(b"P5\n")
    assert read.image.height > read.image.width, "stored upright, the page is portrait again"
    words = {w[0]: w for w in read.words}
    assert {"Casey", "Morgan", "2,450.00"} <= set(words)
    # Boxes are on the upright page: "Gross" left of its amount, above "Net".
    assert words["Gross"][3] < words["2,450.00"][1]
    assert words["Gross"][4] < words["Net"][2]


def test_the_pgm_handed_to_tesseract_is_the_pixels_themselves():
    page = Image.new("L", (3, 2), 255)
    page.putpixel((1, 0), 0)
    assert ocr._pgm(page) == b"P5\n3 2\n255\n" + bytes([255, 0, 255, 255, 255, 255])
    assert ocr._pgm(page.convert("RGB")) == ocr._pgm(page)


def _line(direction: tuple[float, float], n: int = 4, start=(0.5, 0.5), key=(1, 1, 1)):
    """``n`` words following each other in ``direction`` (fractions per word)."""
    x, y = start
    words = []
    for i in range(n):
        cx, cy = x + direction[0] * i, y + direction[1] * i
        words.append([f"w{i}", cx - 0.01, cy - 0.01, cx + 0.01, cy + 0.01, key])
    return words


@pytest.mark.parametrize(
    ("direction", "degrees"),
    [((0.05, 0), 0), ((-0.05, 0), 180), ((0, 0.05), 270), ((0, -0.05), 90)],
)
def test_the_page_turn_follows_the_direction_words_are_read_in(direction, degrees):
    assert ocr.reading_turn(_line(direction)) == degrees


def test_a_page_with_too_few_words_side_by_side_is_left_as_it_is():
    # Two words read right to left say too little: a line of a table can run either way.
    assert ocr.reading_turn(_line((-0.05, 0), n=2)) == 0
    # Single words on lines of their own: nothing follows anything.
    singles = [_line((0, 0), n=1, key=(1, 1, i))[0] for i in range(10)]
    assert ocr.reading_turn(singles) == 0


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_box_turned_with_its_page_lands_where_the_upright_page_shows_it(degrees):
    """A word's box found on a page turned ``360 - degrees`` comes back to where it is on the
    upright page, checked against Pillow turning the image itself."""
    upright = Image.new("L", (400, 200), 0)
    upright.paste(255, (40, 20, 120, 60))  # the word at x 0.1-0.3, y 0.1-0.3
    fed = upright.rotate(degrees, expand=True)  # what the scanner gave us
    box = fed.getbbox()
    found = ["w", box[0] / fed.width, box[1] / fed.height, box[2] / fed.width, box[3] / fed.height]
    turned = ocr.turned_box(found, degrees)
    assert turned[1:] == pytest.approx([0.1, 0.1, 0.3, 0.3], abs=0.01)


# --- RapidOCR's glued words -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glued", "words"),
    [
        ("EXP08Sep2028", ["EXP", "08", "Sep", "2028"]),
        ("DOBJul", ["DOB", "Jul"]),
        ("FoodsLLC", ["Foods", "LLC"]),
        ("Employee'sname", ["Employee's", "name"]),
        ("e/fEmployee'sname", ["e/f", "Employee's", "name"]),
        ("bEmployer", ["b", "Employer"]),
    ],
)
def test_words_rapidocr_runs_together_are_split(glued, words):
    assert [w[0] for w in ocr._unglued([glued, 0.0, 0.0, 1.0, 0.1])] == words


@pytest.mark.parametrize(
    "word", ["McDonald", "O'Brien", "Macy's", "USA", "LLCs", "Schmidt", "2,450.00", "T-1187"]
)
def test_words_that_are_written_as_one_stay_one(word):
    assert [w[0] for w in ocr._unglued([word, 0.0, 0.0, 1.0, 0.1])] == [word]


def test_split_words_share_the_box_by_their_letters():
    pieces = ocr._unglued(["DOBJul", 0.1, 0.2, 0.7, 0.3])
    assert [p[1:5] for p in pieces] == [
        pytest.approx([0.1, 0.2, 0.4, 0.3]),
        pytest.approx([0.4, 0.2, 0.7, 0.3]),
    ]


# --- one phrase, one line ---------------------------------------------------------------------


def _ocr_words(width: int, height: int, spans: list[tuple[str, int, int]], cap: int = 10):
    """Words as OCR boxes them on a ``width`` x ``height`` page: hugging capitals ``cap``
    pixels tall, at ``(text, left, right)`` pixels on one line."""
    top = 300
    return [[t, x0 / width, top / height, x1 / width, (top + cap) / height] for t, x0, x1 in spans]


def test_words_of_a_name_spaced_like_a_scan_stay_one_phrase():
    """A space as wide as a capital is tall is a space, not a column, on a portrait page
    (boxes are fractions of the width across and of the height down)."""
    width, height = 1237, 1600
    words = _ocr_words(
        width,
        height,
        [("Name:", 91, 136), ("Rosa", 150, 187), ("A.", 197, 213), ("Moreau", 226, 283),
         ("Pay", 700, 725), ("Period:", 734, 790)],
    )  # fmt: skip
    text = layout_text(group_lines(words), aspect=height / width)
    assert "Name: Rosa A. Moreau" in text
    assert "Moreau  " in text, "a column gap still parts the columns"
    assert "Pay Period:" in text


def _printed_line(text: str):
    """``text`` printed on one line, as the recognizer takes it (BGR pixels)."""
    import numpy as np

    strip = Image.new("RGB", (420, 48), "white")
    ImageDraw.Draw(strip).text((8, 6), text, fill="black", font=ImageFont.load_default(size=30))
    return np.ascontiguousarray(np.asarray(strip)[:, :, ::-1])


def test_the_recognizer_alone_reads_as_the_whole_engine_does(monkeypatch):
    """The text layer's digit check loads RapidOCR's line recognizer alone (no detector, no
    classifier); built from the engine's own configuration, it reads the same text with the
    same confidence."""
    from rapidocr_onnxruntime import RapidOCR

    monkeypatch.setattr(ocr, "_ENGINE", None)
    monkeypatch.setattr(ocr, "_RECOGNIZER", None)
    alone = ocr._recognizer()
    whole = RapidOCR(**ocr._rapid_options()).text_rec
    line = _printed_line("2,450.00  07/15/2026")
    (read_alone,), _ = alone([line])
    (read_whole,), _ = whole([line])
    assert read_alone[0] == read_whole[0] and "2,450.00" in read_alone[0]
    assert abs(float(read_alone[1]) - float(read_whole[1])) < 1e-6
