"""Fuzzed uploads: whatever the bytes, the check answers with a verdict, never an error or hang.

Bounded: ``FUZZ_EXAMPLES`` examples per test (default 20, each starts a sandboxed child);
``FUZZ_EXAMPLES=300 pytest tests/extraction/test_fuzz_uploads.py`` for a longer run.
"""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from extraction.ingest import UnreadableDocument, render_pages
from extraction.uploads import UploadRejected, inspect_upload
from tests.extraction.hostile_corpus import TEXT, _one_page, _pdf

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "white").save(buffer, format="PNG")
    return buffer.getvalue()


SEEDS = [_pdf(_one_page(TEXT)), _png()]


@st.composite
def mutated(draw) -> bytes:
    """A valid seed file with bytes flipped, cut, or spliced: the inputs parsers meet most."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "splice", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "splice":
            data[at:at] = draw(st.sampled_from([b"[[[[[[", b"<<", b"9999999999 0 R", b"\x00" * 8]))
        else:
            data[at:at] = draw(st.binary(max_size=32))
    return bytes(data)


def _verdict(data: bytes) -> str:
    try:
        inspect_upload(data, filename="fuzz.bin")
    except UploadRejected as refusal:
        assert refusal.message
        return refusal.code
    return "accepted"


@FUZZ
@given(data=st.one_of(st.binary(max_size=512), mutated()))
def test_any_bytes_get_a_verdict_without_a_hang(data):
    """Random and mutated files are accepted or refused with a message; none times out."""
    assert _verdict(data) != "timeout"


@FUZZ
@given(data=mutated())
def test_a_mutated_file_that_passes_the_check_renders_or_fails_plainly(data):
    """What the upload check accepts, the sandboxed renderer turns into pages or a plain
    refusal; no other error reaches the caller."""
    if _verdict(data) != "accepted":
        return
    media_type = "application/pdf" if data.lstrip()[:5] == b"%PDF-" else "image/png"
    try:
        pages = list(render_pages(data=data, media_type=media_type, max_pixels=400))
    except UnreadableDocument as error:
        assert error.message
    else:
        assert pages


@pytest.mark.parametrize("seed", SEEDS, ids=["pdf", "png"])
def test_the_fuzz_seeds_are_accepted(seed):
    assert _verdict(seed) == "accepted"
