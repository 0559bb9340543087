"""What the faster rendering path must keep: the same pages, words and boxes, in order, whether
a file is rendered by one sandboxed child or split across two, and page images that lose nothing.

The speed itself is measured by ``python -m bench.real_pipeline``, never asserted here.
"""

import ctypes
import io

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter

from extraction import ingest
from extraction.ingest import UnreadableDocument, render_pages


def _statement(pages: int, *, stamp: bool = False) -> bytes:
    pdf = FPDF(unit="mm", format="Letter")
    pdf.set_font("Helvetica", size=11)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_xy(20, 20)
        pdf.cell(0, 8, f"Page {number}: Statement of account 0042-{number:04d}")
        for row in range(12):
            pdf.set_xy(20, 40 + row * 8)
            amount = f"{row * 17}.{row:02d}"
            pdf.cell(0, 6, f"2026-01-{row + 1:02d}   CARD PURCHASE {number}-{row}   {amount}")
        if stamp:
            pdf.set_text_color(200, 0, 0)
            pdf.set_xy(120, 20)
            pdf.cell(0, 8, "PAID")
            pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())


def _rendered(data: bytes, media_type: str = "application/pdf", **options) -> list:
    return list(render_pages(data=data, media_type=media_type, max_pixels=1000, **options))


def _same_pages(one: list, other: list) -> None:
    assert [p.number for p in one] == [p.number for p in other]
    for a, b in zip(one, other, strict=True):
        assert (a.text, a.words, a.text_source, a.width, a.height) == (
            b.text,
            b.words,
            b.text_source,
            b.width,
            b.height,
        )
        assert a.image == b.image


@pytest.mark.parametrize("pages", [1, 4, 5])
def test_two_renderers_give_the_pages_one_renderer_gives_in_page_order(pages):
    data = _statement(pages)
    alone = _rendered(data)
    split = _rendered(data, processes=2)
    assert [p.number for p in split] == list(range(1, pages + 1))
    _same_pages(alone, split)
    assert f"Page {pages}:" in split[-1].text


def test_two_renderers_resume_from_a_later_page():
    data = _statement(7)
    split = _rendered(data, first=4, processes=2, send_pixels=512)
    assert [p.number for p in split] == [4, 5, 6, 7]
    _same_pages(_rendered(data, first=4, send_pixels=512), split)
    assert all(max(Image.open(io.BytesIO(p.sent)).size) == 512 for p in split)


def test_two_renderers_split_the_frames_of_a_multi_page_tiff(monkeypatch, tmp_path):
    monkeypatch.setenv("EXTRACTION_OCR_ENGINE", "none")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(ingest.ocr, "engine_name", lambda media_type="": "none")
    frames = [Image.new("RGB", (300, 400), shade) for shade in ("white", "gray", "black")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    split = _rendered(buffer.getvalue(), "image/tiff", processes=2)
    assert [p.number for p in split] == [1, 2, 3]
    shades = [Image.open(io.BytesIO(p.image)).convert("L").getpixel((10, 10)) for p in split]
    assert shades == sorted(shades, reverse=True)


def test_a_damaged_file_is_refused_the_same_way_by_two_renderers():
    with pytest.raises(UnreadableDocument) as alone:
        _rendered(b"%PDF-1.7 this is not really a PDF", processes=1)
    with pytest.raises(UnreadableDocument) as split:
        _rendered(b"%PDF-1.7 this is not really a PDF", processes=2)
    assert split.value.message == alone.value.message


def test_a_page_without_colour_is_stored_grey_and_exactly_as_drawn():
    (page,) = _rendered(_statement(1))
    stored = Image.open(io.BytesIO(page.image))
    assert stored.mode == "L"
    document = pdfium.PdfDocument(_statement(1))
    drawn = document[0].render(scale=1000 / max(document[0].get_size())).to_pil().convert("RGB")
    assert stored.convert("RGB").tobytes() == drawn.tobytes()


def test_a_page_with_colour_keeps_it():
    (page,) = _rendered(_statement(1, stamp=True))
    stored = Image.open(io.BytesIO(page.image))
    assert stored.mode == "RGB"
    assert any(r > 150 and g < 80 and b < 80 for _, (r, g, b) in stored.getcolors(1 << 24))


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_word_boxes_match_pdfium_placing_each_character(rotate):
    """The text layer's boxes come from one page-to-pixel transform sampled once; they must be
    where PDFium's own FPDF_PageToDevice puts each character, to within a pixel."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_statement(1))))
    writer.pages[0].rotate(rotate)
    buffer = io.BytesIO()
    writer.write(buffer)
    document = pdfium.PdfDocument(buffer.getvalue())
    page = document[0]
    size = (1237, 1600) if rotate % 180 == 0 else (1600, 1237)
    textpage = page.get_textpage()
    chars = ingest._layer_chars(textpage)
    matrix = ingest._transform(page, 0, size)
    checked = 0
    for char, left, bottom, right, top, _index in chars:
        if right <= left or char.isspace():
            continue
        for x, y in ((left, bottom), (right, top)):
            device_x, device_y = ctypes.c_int(), ctypes.c_int()
            pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, *size, 0, x, y, device_x, device_y)
            ours = ingest._apply(matrix, x, y)
            assert abs(ours[0] - device_x.value) <= 1 and abs(ours[1] - device_y.value) <= 1
            checked += 1
    textpage.close()
    assert checked > 500


@pytest.mark.parametrize(("band", "colourless"), [(0, False), (1, False), (2, False), (3, True)])
def test_one_pixel_of_colour_anywhere_keeps_a_drawing_in_colour(band, colourless):
    """The test runs on the drawing's own bytes, pair by pair along each row: red-green and
    green-blue pairs count; the unused fourth byte and the pair across two pixels do not."""
    pixels = np.full((1600, 1237, 4), 255, np.uint8)
    pixels[:, :, :3] = np.arange(1237, dtype=np.uint16)[None, :, None] % 256  # greys across
    pixels[1599, 1236, band] ^= 1  # the very last pixel
    assert ingest._colourless(pixels) is colourless
    if colourless:
        assert ingest._grey(pixels).tobytes() == pixels[:, :, 0].tobytes()
