"""What the digit check may ask of the worker that runs it (``ingest.render_pages``), whatever
the file: no word is stretched past a bounded width (a box of no height, from text set below
the page or squashed flat, once cost 40 s and a gigabyte for one word), and a page reads at
most MAX_STRIPS strips and MAX_CHECKED_WORDS words one by one, about what OCR of a scanned page
costs. These cases came from an adversarial review of moving the check out of the render
children, whose limits used to bound it."""

from __future__ import annotations

import pytest

from extraction import digit_check, ingest, ocr

from .hostile_corpus import _one_page
from .hostile_corpus import _pdf as _plain_pdf
from .test_digit_check_attacks import _pdf
from .test_real_world_kinds import DEJAVU

pytestmark = [
    pytest.mark.skipif(not DEJAVU.exists(), reason="needs a TrueType font to embed"),
    pytest.mark.skipif(not ocr.availability()[0], reason="the check reads pixels with OCR"),
]

HEADING = b"BT /H 11 Tf 1 0 0 1 40 740 Tm (Statement of account, page one) Tj ET\n"
# The widest line the recognizer may be handed: a strip of STRIP_WORDS crops, each at most
# MAX_CROP_RATIO times as wide as tall, with the gaps between them.
WIDEST = digit_check.STRIP_WORDS * (ocr.MAX_CROP_RATIO + 1) * ocr.STRIP_HEIGHT


@pytest.fixture
def recognized(monkeypatch) -> list[tuple[int, int]]:
    """The (height, width) of every image the line recognizer is handed (a spy: it reads)."""
    shapes: list[tuple[int, int]] = []
    recognizer = ocr._recognizer()

    def spying(images):
        shapes.extend(image.shape[:2] for image in images)
        return recognizer(images)

    monkeypatch.setattr(ocr, "_recognizer", lambda: spying)
    return shapes


def _rendered(*pages: bytes) -> list[ingest.RenderedPage]:
    data = _pdf({"H": {"name": "DejaVuSans"}}, list(pages))
    return list(ingest.render_pages(data=data, media_type="application/pdf", max_pixels=1600))


def test_a_word_set_below_the_page_is_not_stretched_into_a_huge_line(recognized):
    (page,) = _rendered(HEADING + b"BT /H 11 Tf 14 0 0 1 0 -40 Tm (1234.56) Tj ET")

    assert page.text_source == "text_layer"
    assert all(width <= WIDEST for _height, width in recognized)


def test_words_squashed_flat_are_not_read_and_not_counted_as_agreeing(recognized):
    squashed = "\n".join(
        f"BT /H 11 Tf 12 0 0 0.08 10 {600 - 20 * i} Tm ({1234 + i}.56) Tj ET" for i in range(3)
    )
    (page,) = _rendered(HEADING + squashed.encode())

    assert page.text_source == "text_layer" and "text_layer_disagrees" not in page.notes
    # (Such words are no longer the page's text at all: test_hidden_text_layer.py.)
    assert page.notes["hidden_text"] == "1234.56 1235.56 1236.56"
    assert all(width <= WIDEST for _height, width in recognized)


def test_a_crop_too_flat_or_too_wide_reads_as_unsure_without_the_recognizer(recognized):
    page = ingest.Image.new("L", (1237, 1600), 255)
    flat_at_the_foot = [0.0, 1.0, 0.9, 1.0]
    squashed = [0.05, 0.5, 0.95, 0.5005]
    word = [0.1, 0.1, 0.2, 0.11]

    readings = ocr.read_crops(page, [flat_at_the_foot, squashed, word])

    assert readings[:2] == ["", ""]
    assert len(recognized) == 1
    assert not ocr.legible(page.size, flat_at_the_foot) and ocr.legible(page.size, word)


def _many_glyphs(page: int) -> bytes:
    """240 numeric words, each at a horizontal scaling of its own: each draws glyph boxes (and
    so glyph keys) of its own, more than MAX_STRIPS strips can show."""
    ops = ["BT /H 11 Tf"]
    for i in range(240):
        row, column = divmod(i, 6)
        scaling = 60 + (page * 240 + i) % 400 * 0.5
        ops.append(
            f"1 0 0 1 {40 + column * 95} {760 - row * 18} Tm {scaling:.1f} Tz "
            f"({1000 + i * 37 % 9000}.{i % 100:02d}) Tj"
        )
    ops.append("ET BT /H 11 Tf 1 0 0 1 40 20 Tm (Statement of account) Tj ET")
    return "\n".join(ops).encode()


def test_a_page_of_new_glyphs_costs_a_bounded_reading(monkeypatch):
    strips, words = [], []
    read_strip, read_crops = ocr.read_strip, ocr.read_crops
    monkeypatch.setattr(ocr, "read_strip", lambda i, b: strips.append(len(b)) or read_strip(i, b))
    monkeypatch.setattr(ocr, "read_crops", lambda i, b: words.append(len(b)) or read_crops(i, b))

    pages = _rendered(_many_glyphs(0), _many_glyphs(1))

    assert all(page.text_source == "text_layer" for page in pages)
    assert len(strips) <= digit_check.MAX_STRIPS * len(pages)
    assert all(count <= digit_check.MAX_CHECKED_WORDS for count in words)
    assert len(words) <= len(pages)


def test_the_worker_decodes_no_stored_page_beyond_the_size_a_page_may_have():
    """The child says how large its page is; the worker also holds it to the rendering's
    bound before decoding a pixel, so a child gone wrong cannot have it decode a huge image."""
    buffer = ingest.io.BytesIO()
    ingest.Image.new("L", (2000, 100), 255).save(buffer, format="PNG")
    page = ingest.RenderedPage(
        number=1, image=buffer.getvalue(), width=2000, height=100, text="", words=[],
        text_source="text_layer",
    )  # fmt: skip

    with pytest.raises(ingest.UnreadableDocument):
        ingest._stored_pixels(page, 1600)
    assert ingest._stored_pixels(page, 2000).size == (2000, 100)


@pytest.mark.parametrize("height", ["780.8", "778.28", "790.23", "792", "841.89", "1008"])
def test_a_page_of_any_height_is_drawn_within_the_bound_the_worker_holds_it_to(height):
    """pypdfium2 rounds a rendering's size up: a page 780.8 points high was drawn 1,601
    pixels high at 1,600, and the worker refused it as a damaged file."""
    objects = _one_page(b"BT /F1 12 Tf 72 500 Td (Net pay 1,234.56 paid 2026-01-02) Tj ET")
    objects[2] = objects[2].replace(b"[0 0 612 792]", b"[0 0 612 " + height.encode() + b"]")
    data = _plain_pdf(objects)

    (page,) = ingest.render_pages(data=data, media_type="application/pdf", max_pixels=1600)

    assert page.height == 1600 and page.text_source == "text_layer"
    assert "1,234.56" in page.text
