"""Page images sized per provider, and the providers' published image-token formulas."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from extraction import images
from extraction.images import (
    anthropic_image_tokens,
    grey_png,
    image_size,
    media_type_of,
    openai_image_tokens,
    sized_for,
)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_page_is_scaled_down_to_the_providers_long_side():
    assert image_size(sized_for(png(1237, 1600), max_pixels=1024)) == (792, 1024)


@pytest.mark.parametrize("max_pixels", [0, 1600, 4000])
def test_a_page_already_small_enough_keeps_its_size(max_pixels):
    assert image_size(sized_for(png(1237, 1600), max_pixels=max_pixels)) == (1237, 1600)


def test_a_text_page_is_sent_as_a_small_palette_png_and_a_scan_as_a_jpeg():
    page = png(1237, 1600)
    text = sized_for(page, max_pixels=1024, text_source="text_layer")
    scan = sized_for(page, max_pixels=1024, text_source="ocr")
    assert media_type_of(text) == "image/png"
    assert Image.open(io.BytesIO(text)).mode == "P"
    assert media_type_of(scan) == "image/jpeg"
    assert image_size(scan) == (792, 1024)


def test_a_grey_text_page_is_sent_in_sixteen_even_greys_each_pixel_within_half_a_step():
    ramp = Image.linear_gradient("L").resize((256, 256))  # every grey, top to bottom
    buffer = io.BytesIO()
    ramp.save(buffer, format="PNG")
    sent = Image.open(io.BytesIO(sized_for(buffer.getvalue(), max_pixels=0)))
    assert sent.mode == "P" and len(sent.getcolors()) == 16
    shown = sent.convert("L")
    assert shown.size == ramp.size
    worst = max(abs(a - b) for a, b in zip(ramp.tobytes(), shown.tobytes(), strict=True))
    assert worst <= 17 // 2 + 1  # the nearest of 0, 17, 34, ... 255


def test_a_grey_page_is_stored_pixel_for_pixel_and_sent_as_any_grey_page_is():
    ramp = Image.linear_gradient("L").resize((256, 256))
    stored = grey_png(ramp)
    assert Image.open(io.BytesIO(stored)).convert("L").tobytes() == ramp.tobytes()
    assert ramp.mode == "L"  # the caller's image is left as it was
    plain = io.BytesIO()
    ramp.save(plain, format="PNG")
    assert sized_for(stored, max_pixels=0) == sized_for(plain.getvalue(), max_pixels=0)


def test_a_coloured_text_page_keeps_its_colours_in_the_palette():
    page = Image.new("RGB", (400, 300), "white")
    page.paste((200, 0, 0), (20, 20, 200, 80))  # a red stamp
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    sent = Image.open(io.BytesIO(sized_for(buffer.getvalue(), max_pixels=0)))
    assert (200, 0, 0) in {colour for _count, colour in sent.convert("RGB").getcolors()}


@pytest.mark.parametrize(
    ("size", "detail", "tokens"),
    [
        ((1024, 1024), "high", 765),  # OpenAI's own worked example
        ((2048, 4096), "high", 1105),  # ditto: 768x1536, six tiles
        ((1237, 1600), "high", 765),
        ((4000, 4000), "low", 85),
    ],
)
def test_openai_tokens_follow_the_tile_formula(size, detail, tokens):
    assert openai_image_tokens(*size, detail=detail) == tokens


def test_anthropic_tokens_are_pixels_over_750_after_its_own_downscale():
    assert anthropic_image_tokens(1000, 1000) == 1334
    # 1237x1600 is billed as about 1212x1568.
    assert abs(anthropic_image_tokens(1237, 1600) - 1212 * 1568 / 750) < 2


def test_a_scan_sent_smaller_keeps_its_shape_and_its_long_side_is_the_providers():
    sent = Image.open(io.BytesIO(sized_for(png(1237, 1600), max_pixels=1024, text_source="ocr")))
    assert sent.format == "JPEG"
    assert sent.size == (792, 1024)


@pytest.mark.parametrize("column", range(8))
def test_a_hairline_on_a_scan_keeps_its_ink_when_the_scan_is_sent_smaller(column):
    """A decimal point or a minus sign one pixel wide: shrunk by box averaging it is a grey
    line at half ink wherever it falls; a bilinear filter, tried as faster, let it fade to a
    fifth (199 of 255 on white) where it fell between its samples."""
    scan = Image.new("L", (1237, 1600), 255)
    scan.paste(0, (600 + column, 0, 601 + column, 1600))
    buffer = io.BytesIO()
    scan.save(buffer, format="PNG")
    sent = Image.open(io.BytesIO(sized_for(buffer.getvalue(), max_pixels=1024, text_source="ocr")))
    assert np.asarray(sent.convert("L")).min(axis=1).max() <= 150  # every row keeps the line


def test_a_grey_page_stored_as_a_palette_of_every_grey_is_still_sent_as_a_grey_page():
    """Grey pages stored before ``grey_png`` wrote grey PNGs are palette PNGs whose palette is
    every grey in order; they are read back as the grey image they were."""
    ramp = Image.linear_gradient("L").resize((256, 256))
    old = ramp.copy()
    old.putpalette(images._EVERY_GREY)
    stored = io.BytesIO()
    old.save(stored, format="PNG")
    assert Image.open(io.BytesIO(stored.getvalue())).mode == "P"
    plain = io.BytesIO()
    ramp.save(plain, format="PNG")
    assert sized_for(stored.getvalue(), max_pixels=0) == sized_for(plain.getvalue(), max_pixels=0)
