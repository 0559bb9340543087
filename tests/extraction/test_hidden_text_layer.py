"""A text layer holds only what its page shows: a character set off the page, too small to
make out, or squashed flat or thin is in the file but not visible, so it is neither the page's
text (what a model is told) nor a word a value can be "found on the page" in.

Each attack hides an amount that the page does not show beside a visible page of ordinary text
(base-14 Helvetica, with its real widths); the visible controls are type a person can read:
fine print, a lone narrow letter, punctuation, and a label set sideways in the margin."""

from __future__ import annotations

import pytest

from extraction import grounding, ingest

from .hostile_corpus import _one_page, _pdf

VISIBLE = (
    b"BT /F1 11 Tf 1 0 0 1 40 740 Tm (Statement of account for Ann Example) Tj ET\n"
    b"BT /F1 11 Tf 1 0 0 1 40 720 Tm (Closing balance 1,234.56) Tj ET\n"
)
HIDDEN_AMOUNT = "9,876.54"


def _words(content: bytes) -> tuple[ingest.RenderedPage, list[str]]:
    data = _pdf(_one_page(VISIBLE + content))
    (page,) = ingest.render_pages(data=data, media_type="application/pdf", max_pixels=1600)
    assert page.text_source == "text_layer"
    return page, [word[0] for word in page.words]


@pytest.mark.parametrize(
    "placement",
    [
        pytest.param(b"1 0 0 1 40 -30 Tm", id="below the page"),
        pytest.param(b"1 0 0 1 700 400 Tm", id="right of the page"),
        pytest.param(b"1 0 0 1 -200 400 Tm", id="left of the page"),
        pytest.param(b"1 0 0 1 40 830 Tm", id="above the page"),
        pytest.param(b"1 0 0 0.05 40 600 Tm", id="squashed flat"),
        pytest.param(b"1 0 0 1 40 600 Tm 1 Tz", id="squashed thin by horizontal scaling"),
        pytest.param(b"0.02 0 0 1 40 600 Tm", id="squashed thin by its matrix"),
        pytest.param(b"0.15 0 0 0.15 40 600 Tm", id="too small to make out"),
    ],
)
def test_an_amount_the_page_does_not_show_is_not_its_text(placement):
    page, words = _words(b"BT /F1 11 Tf " + placement + b" (" + HIDDEN_AMOUNT.encode() + b") Tj ET")

    assert HIDDEN_AMOUNT not in words and HIDDEN_AMOUNT not in page.text
    assert "1,234.56" in words
    found = grounding.locate(value="9876.54", kind="money", pages=[(1, page.words)])
    assert found is None


def test_a_hidden_amount_glued_to_a_visible_label_is_cut_from_it():
    """No space between them: the visible label is kept, the squashed amount is not."""
    page, words = _words(
        b"BT /F1 11 Tf 1 0 0 1 40 600 Tm (Net pay) Tj 2 Tz (" + HIDDEN_AMOUNT.encode() + b") Tj ET"
    )

    assert "pay" in words
    assert not any("9,876" in word for word in words)


def test_type_a_person_can_read_is_kept():
    page, words = _words(
        b"BT /F1 5 Tf 1 0 0 1 40 100 Tm (Fine print: fees of 12.50 apply.) Tj ET\n"
        b"BT /F1 11 Tf 1 0 0 1 40 500 Tm (I . , ; l 1) Tj ET\n"
        b"BT /F1 8 Tf 0 1 -1 0 590 300 Tm (Cat. No. 10134D) Tj ET\n"
        b"BT /F1 11 Tf 1 0 0 1 40 450 Tm 60 Tz (Condensed 4,321.00) Tj ET\n"
    )

    for word in ["Fine", "12.50", "apply.", "I", ".", ",", ";", "l", "1", "4,321.00"]:
        assert word in words
    # (Text set sideways is read a character at a time, as it always was; none is lost.)
    sideways = [word for word in page.words if word[1] > 0.9]
    assert "".join(word[0] for word in sideways) == "D43101.oN.taC"
    assert grounding.locate(value="4321.00", kind="money", pages=[(1, page.words)])
