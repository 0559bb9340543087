"""Page images sized per provider, and the providers' published image-token formulas."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from extraction.images import (
    anthropic_image_tokens,
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
