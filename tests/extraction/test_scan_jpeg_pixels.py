"""A scanner's PDF page (nothing but one JPEG drawn over it) is read by OCR from the JPEG's own
pixels, stretched here, instead of PDFium drawing it again at 300 dpi (``ingest._scan_pixels``).
The pixels must be PDFium's to within a couple of grey levels, and any page that is more than
that JPEG, or whose JPEG does not look like the page PDFium draws, is left to PDFium."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from extraction import ingest
from tests.extraction.hostile_corpus import _pdf, _stream

WIDTH, HEIGHT = 612, 792  # a letter page, in points
OCR_SCALE = 300 / 72


def _scan(mode: str = "L") -> Image.Image:
    """A 200-dpi scan: dark words on grey paper, with a dark box in its top left corner, so
    that a flipped or misplaced image does not look like the page."""
    image = Image.new("L", (1700, 2200), 226)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 700, 420), fill=40)
    font = ImageFont.load_default(size=40)
    for row, line in enumerate(["Net Pay 1,837.55", "Pay date 03/20/2026", "Taxes 412.45"]):
        draw.text((120, 600 + row * 120), line, fill=30, font=font)
    return image.convert(mode)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _scan_pdf(
    image: Image.Image,
    *,
    matrix: str = f"{WIDTH} 0 0 {HEIGHT} 0 0",
    extra_image_keys: str = "",
    extra_content: str = "",
    page_keys: str = "",
    smask: bool = False,
    media: tuple[float, float] = (WIDTH, HEIGHT),
) -> bytes:
    """A one-page PDF drawing ``image`` as a JPEG with ``matrix`` (the whole page by default);
    ``extra_image_keys`` go in its dictionary, ``extra_content`` after it on the page."""
    data = _jpeg(image)
    space = "/DeviceGray" if image.mode == "L" else "/DeviceRGB"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {media[0]} {media[1]}] {page_keys}"
        "/Resources << /XObject << /Im0 5 0 R >> /Font << /F1 << /Type /Font /Subtype /Type1 "
        "/BaseFont /Helvetica >> >> >> /Contents 4 0 R >>".encode(),
    ]
    content = f"q {matrix} cm /Im0 Do Q {extra_content}".encode()
    objects.append(_stream(content))
    mask = " /SMask 6 0 R" if smask else ""
    objects.append(
        _stream(
            data,
            f"/Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
            f"/ColorSpace {space} /BitsPerComponent 8 /Filter /DCTDecode{mask} "
            f"{extra_image_keys} ".encode(),
        )
    )
    if smask:  # transparent in its top half: the page shows white there
        alpha = bytes([0] * (image.width * (image.height // 2))) + bytes(
            [255] * (image.width * (image.height - image.height // 2))
        )
        objects.append(
            _stream(
                zlib.compress(alpha),
                f"/Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
                "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode ".encode(),
            )
        )
    return _pdf(objects)


def _pixels(data: bytes, grey: bool = True) -> tuple[Image.Image | None, np.ndarray]:
    """What ``_scan_pixels`` makes of the page, and PDFium's own drawing at the same scale."""
    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        drawn_grey = ingest._grey(ingest._rendered(page, 1600 / HEIGHT, 0).to_numpy())
        mine = ingest._scan_pixels(page, OCR_SCALE, 0, grey, drawn_grey)
        drawn = np.asarray(page.render(scale=OCR_SCALE, grayscale=grey).to_pil())
        page.close()
    finally:
        document.close()
    return mine, drawn


@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("grey", [True, False], ids=["grey for Tesseract", "colour for RapidOCR"])
def test_a_scanners_page_is_read_from_its_jpeg_within_two_grey_levels_of_pdfium(mode, grey):
    mine, drawn = _pixels(_scan_pdf(_scan(mode)), grey)

    assert mine is not None
    assert mine.size == (drawn.shape[1], drawn.shape[0])
    difference = np.abs(np.asarray(mine).astype(int) - drawn)
    assert difference.max() <= 2


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"matrix": f"-{WIDTH} 0 0 {HEIGHT} {WIDTH} 0"}, id="flipped"),
        pytest.param({"matrix": f"{WIDTH / 2} 0 0 {HEIGHT / 2} 0 0"}, id="a quarter of the page"),
        pytest.param({"smask": True}, id="half transparent"),
        pytest.param({"extra_content": "BT /F1 40 Tf 100 100 Td (PAID) Tj ET"}, id="text on it"),
        pytest.param({"page_keys": "/Rotate 90 "}, id="a turned page"),
    ],
)
def test_a_page_that_is_more_or_other_than_its_jpeg_is_drawn_by_pdfium(options):
    mine, _ = _pixels(_scan_pdf(_scan(), **options))

    assert mine is None


def test_a_decode_array_is_applied_as_pdfium_draws_it():
    """The pixels are PDFium's own decoding of the image, so an inverted one reads inverted."""
    mine, drawn = _pixels(_scan_pdf(_scan(), extra_image_keys="/Decode [1 0]"))

    assert mine is not None
    assert np.abs(np.asarray(mine).astype(int) - drawn).max() <= 2


def test_a_jpeg_pdfium_cannot_decode_is_left_to_pdfium():
    data = _scan_pdf(_scan()).replace(b"\xff\xd8\xff", b"\x00\xd8\xff", 1)

    mine, _ = _pixels(data)

    assert mine is None


def test_a_scanners_pdf_is_read_through_the_sandbox_with_its_values(settings):
    """End to end through the real children: the JPEG path reads the words a person sees."""
    pages = list(
        ingest.render_pages(data=_scan_pdf(_scan()), media_type="application/pdf", max_pixels=1600)
    )

    (page,) = pages
    assert page.text_source == "ocr"
    assert {"1,837.55", "03/20/2026", "412.45"} <= {word[0] for word in page.words}


@pytest.mark.skipif(not ingest.ocr.availability()[0], reason="needs an OCR engine")
def test_a_scan_on_a_page_declared_small_for_its_pixels_is_read_at_its_own_resolution():
    """img2pdf gives a letter scan tagged at 1,440 dpi a page of 85 x 110 points: read at 300
    dpi of that, OCR saw 459 of its 2,200 pixels and misread the amounts."""
    data = _scan_pdf(_scan(), matrix="85 0 0 110 0 0", media=(85, 110))

    (page,) = ingest.render_pages(data=data, media_type="application/pdf", max_pixels=1600)

    assert page.text_source == "ocr"
    assert "1,837.55" in page.text and "412.45" in page.text
