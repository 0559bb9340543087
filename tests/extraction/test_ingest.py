import io
import re
from decimal import Decimal

import pillow_heif
import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter

from extraction import ocr
from extraction.ingest import UnreadableDocument, _content_turn, render_pages

needs_ocr = pytest.mark.skipif(not ocr.availability()[0], reason="no OCR engine can run here")


def _without_tesseract(monkeypatch, tmp_path):
    """No OCR, here and in the sandboxed child that renders pages (a fresh interpreter, which
    reads its settings from the environment)."""
    monkeypatch.setattr(ocr, "engine_name", lambda media_type="": "none")
    monkeypatch.setenv("EXTRACTION_OCR_ENGINE", "none")
    monkeypatch.setenv("PATH", str(tmp_path))


def _pages(data: bytes, media_type: str, max_pixels: int = 1000):
    return list(render_pages(data=data, media_type=media_type, max_pixels=max_pixels))


def _text_pdf(lines: list[str]) -> bytes:
    pdf = FPDF(unit="mm", format="Letter")
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    for index, line in enumerate(lines):
        pdf.set_xy(20, 20 + index * 10)
        pdf.cell(0, 8, line)
    return bytes(pdf.output())


def _image_pdf(image: Image.Image) -> bytes:
    pdf = FPDF(unit="pt", format=(612, 792))
    pdf.add_page()
    pdf.image(image, x=36, y=36, w=540, h=540 * image.height / image.width)
    return bytes(pdf.output())


def _text_image(text: str = "Net Pay 1,712.98", size=(1200, 300)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    font = ImageFont.load_default(size=64)
    ImageDraw.Draw(image).text((60, 100), text, fill="black", font=font)
    return image


def _ink_under(page, word) -> float:
    """The share of dark pixels inside a word's box on the page image."""
    image = Image.open(io.BytesIO(page.image)).convert("L")
    _, x0, y0, x1, y1 = word
    histogram = image.crop(
        (x0 * page.width, y0 * page.height, x1 * page.width, y1 * page.height)
    ).histogram()
    return sum(histogram[:128]) / max(sum(histogram), 1)


def test_a_pdf_yields_each_page_with_its_text_layer(rendered_samples):
    pages = rendered_samples["bank_statement_2026-01.pdf"]
    assert [page.number for page in pages] == [1, 2]
    assert {page.text_source for page in pages} == {"text_layer"}
    assert "Opening balance" in pages[0].text
    assert "Ending balance" in pages[1].text


def test_page_images_are_pngs_bounded_by_max_pixels(sample_paths):
    data = sample_paths["pay_stub_2026-01-30.pdf"].read_bytes()
    (page,) = _pages(data, "application/pdf", max_pixels=800)
    image = Image.open(io.BytesIO(page.image))
    assert image.format == "PNG"
    assert image.size == (page.width, page.height)
    assert max(image.size) == 800


def test_words_are_fractions_with_the_origin_at_the_top_left(rendered_samples):
    (page,) = rendered_samples["pay_stub_2026-01-30.pdf"]
    for text, x0, y0, x1, y1 in page.words:
        assert text.strip() == text and text
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    first = next(w for w in page.words if w[0] == "Northwind")
    last = next(w for w in page.words if w[0] == "Non-negotiable.")
    assert first[2] < 0.1 < 0.8 < last[2]


def test_text_layer_boxes_sit_on_the_printed_words(rendered_samples):
    (page,) = rendered_samples["w2_2025.pdf"]
    for word in page.words[::7]:
        assert _ink_under(page, word) > 0.02, word


def test_boxes_follow_a_rotated_pdf_page():
    """A page whose /Rotate 90 shows its text sideways is turned to read upright, and its boxes
    turn with it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_text_pdf(["Closing balance 3,533.99"]))))
    writer.pages[0].rotate(90)
    buffer = io.BytesIO()
    writer.write(buffer)
    (page,) = _pages(buffer.getvalue(), "application/pdf")
    assert page.height > page.width
    assert [w[0] for w in page.words] == ["Closing", "balance", "3,533.99"]
    for word in page.words:
        assert _ink_under(page, word) > 0.05, word


def test_the_text_keeps_columns_apart_and_phrases_together(rendered_samples):
    (page,) = rendered_samples["pay_stub_2026-01-30.pdf"]
    net_line = next(line for line in page.text.splitlines() if "Net Pay" in line)
    assert re.fullmatch(r" ?Net Pay {10,}[\d,.]+ {5,}[\d,.]+", net_line)
    assert "Employee: Jordan A. Rivera" in page.text


@needs_ocr
def test_a_pdf_page_without_a_text_layer_is_read_by_ocr():
    (page,) = _pages(_image_pdf(_text_image()), "application/pdf")
    assert page.text_source == "ocr"
    assert "1,712.98" in page.text


@needs_ocr
def test_a_scanned_image_is_straightened_and_read_by_ocr(rendered_samples, expected):
    """The scan is tilted by a degree; straightened, each table row is read as one line."""
    (page,) = rendered_samples["pay_stub_2026-01-16_scan.png"]
    net_pay = expected["pay_stub_2026-01-16_scan.png"]["fields"]["net_pay"]
    assert page.text_source == "ocr"
    net_line = next(line for line in page.text.splitlines() if "Net Pay" in line)
    assert f"{Decimal(net_pay):,}" in net_line
    assert max(page.width, page.height) <= 1600
    for word in page.words:
        assert 0 <= word[1] < word[3] <= 1 and 0 <= word[2] < word[4] <= 1


def test_exif_orientation_is_applied_before_reading(monkeypatch, tmp_path):
    """A phone photo stored sideways with an EXIF turn comes out upright."""
    _without_tesseract(monkeypatch, tmp_path)
    sideways = Image.new("RGB", (400, 300), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned; shown rotated 90 degrees clockwise
    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", exif=exif)
    (page,) = _pages(buffer.getvalue(), "image/jpeg")
    assert (page.width, page.height) == (300, 400)


def test_each_frame_of_a_tiff_is_a_page(monkeypatch, tmp_path):
    _without_tesseract(monkeypatch, tmp_path)
    frames = [Image.new("RGB", (200, 260), color) for color in ("white", "gray", "black")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    pages = _pages(buffer.getvalue(), "image/tiff")
    assert [page.number for page in pages] == [1, 2, 3]


@pytest.mark.parametrize("media_type", ["image/webp", "image/heic", "image/png"])
def test_photos_of_each_supported_type_are_bounded_and_converted(monkeypatch, tmp_path, media_type):
    _without_tesseract(monkeypatch, tmp_path)
    image = Image.new("RGBA", (3000, 2000), (255, 255, 255, 0))
    buffer = io.BytesIO()
    if media_type == "image/heic":
        pillow_heif.from_pillow(image.convert("RGB")).save(buffer, quality=50)
    else:
        image.save(buffer, format=media_type.split("/")[1].upper())
    (page,) = _pages(buffer.getvalue(), media_type, max_pixels=600)
    assert (page.width, page.height) == (600, 400)
    assert Image.open(io.BytesIO(page.image)).mode == "RGB"


def test_without_tesseract_a_scan_is_kept_with_no_text(monkeypatch, tmp_path):
    _without_tesseract(monkeypatch, tmp_path)
    buffer = io.BytesIO()
    _text_image().save(buffer, format="PNG")
    (page,) = _pages(buffer.getvalue(), "image/png")
    assert (page.text_source, page.words, page.text) == ("none", [], "")
    assert page.notes == {"ocr_unavailable": True}
    assert page.image


def test_a_blank_pdf_page_has_no_text(monkeypatch, tmp_path):
    _without_tesseract(monkeypatch, tmp_path)
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(612, 792)
    buffer = io.BytesIO()
    pdf.save(buffer)
    (page,) = _pages(buffer.getvalue(), "application/pdf")
    assert page.text_source == "none"


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"%PDF-1.7 this is not really a PDF", "application/pdf"),
        (b"not an image", "image/png"),
        (b"PK\x03\x04", "application/zip"),
    ],
)
def test_unreadable_files_raise_a_plain_language_error(data, media_type):
    with pytest.raises(UnreadableDocument) as caught:
        _pages(data, media_type)
    assert caught.value.message.endswith(".")
    assert "Traceback" not in caught.value.message


@pytest.mark.parametrize(
    ("media_type", "with_tesseract", "engine"),
    [
        ("image/jpeg", True, "rapidocr"),
        ("image/heic", True, "rapidocr"),
        ("image/png", True, "tesseract"),
        ("application/pdf", True, "tesseract"),
        ("image/png", False, "rapidocr"),
    ],
)
def test_auto_reads_camera_photos_with_rapidocr_and_scans_with_tesseract_where_installed(
    monkeypatch, settings, media_type, with_tesseract, engine
):
    settings.EXTRACTION_OCR_ENGINE = "auto"
    monkeypatch.setattr(
        ocr, "tesseract_path", lambda: "/usr/bin/tesseract" if with_tesseract else None
    )

    assert ocr.engine_name(media_type) == engine


def _advancing(steps: list[tuple[int, int]]) -> list[tuple]:
    """Characters placed one after another, each step ``(dx, dy)`` from the last (y up)."""
    chars, x, y = [], 0.0, 0.0
    for index, (dx, dy) in enumerate(steps):
        x, y = x + dx, y + dy
        chars.append(("a", x, y, x + 1, y + 1, index))
    return chars


@pytest.mark.parametrize(
    ("upright", "sideways", "turn"),
    [(2000, 0, 0), (1400, 600, 0), (680, 1320, 0), (650, 1350, 270), (0, 2000, 270)],
)
def test_the_turn_is_decided_by_the_first_two_thousand_characters_even_when_it_stops_early(
    upright, sideways, turn
):
    """Reading stops once the upright votes cannot be beaten; the answer is the full count's."""
    chars = _advancing([(1, 0)] * upright + [(0, -1)] * sideways + [(0, -1)] * 3000)
    assert _content_turn(chars, (1, 0, 0, -1, 0, 0)) == turn
