"""The text layer's digits are checked against the pixels once per font per document, and a
font whose map lies is caught on whichever page it first appears, even under another's name."""

from __future__ import annotations

import io
import re

import pypdf
import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from extraction import digit_check, ingest, ocr

from .test_real_world_kinds import DEJAVU, PAY_STUB_LINES

pytestmark = [
    pytest.mark.skipif(not DEJAVU.exists(), reason="needs a TrueType font with a ToUnicode map"),
    pytest.mark.skipif(not ocr.availability()[0], reason="the check reads pixels with OCR"),
]

_SHIFT = str.maketrans("0123456789", "5678901234")
# Every digit shows on an honest page, so a lying copy claims no digit not already confirmed.
_LINES = [*PAY_STUB_LINES, ("Account", "5519")]


def _statement(pages: int, lying: set[int] = frozenset()) -> bytes:
    """``pages`` pay-stub pages in one embedded font; on the pages in ``lying`` (1-based) the
    font is a copy under the same name whose ToUnicode map shifts every digit by five, so that
    the page shows "2,450.00" where its text says "7,905.55"."""
    pdf = FPDF(format="letter")
    pdf.add_font("dejavu", fname=str(DEJAVU))
    for _ in range(pages):
        pdf.add_page()
        pdf.set_font("dejavu", size=11)
        for row, (left, right) in enumerate(_LINES):
            pdf.text(20, 30 + row * 9, left)
            pdf.text(120, 30 + row * 9, right)
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(bytes(pdf.output()))))
    for number in lying:
        fonts = writer.pages[number - 1]["/Resources"]["/Font"]
        for name, reference in list(fonts.items()):
            honest = reference.get_object()
            copy = DictionaryObject(dict(honest.items()))
            cmap = StreamObject()
            cmap.set_data(_shifted(honest["/ToUnicode"].get_object().get_data()))
            copy[NameObject("/ToUnicode")] = writer._add_object(cmap)
            fonts[NameObject(name)] = writer._add_object(copy)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _shifted(cmap: bytes) -> bytes:
    def shifted(match: re.Match) -> str:
        char = chr(int(match.group(2), 16)).translate(_SHIFT)
        return f"{match.group(1)}<{ord(char):04X}>"

    text = cmap.decode("latin-1")
    return re.sub(r"(<[0-9A-F]{4}> )<([0-9A-F]{4})>", shifted, text).encode("latin-1")


@pytest.fixture
def strips_read(monkeypatch) -> list[int]:
    """How many strips the check read, page by page as rendered (a spy: the reading is real)."""
    counted: list[int] = []
    read_strip = ocr.read_strip

    def counting(image, boxes):
        counted.append(len(boxes))
        return read_strip(image, boxes)

    monkeypatch.setattr(ocr, "read_strip", counting)
    return counted


def _render(data: bytes) -> list[ingest.RenderedPage]:
    """The pages as a worker gets them: drawn by two sandboxed children, every other page
    each, and checked here with one memory for the document."""
    return list(
        ingest.render_pages(data=data, media_type="application/pdf", max_pixels=1600, processes=2)
    )


def _amounts(page: ingest.RenderedPage) -> set[str]:
    return {w[0] for w in page.words if "," in w[0] or w[0].count(".") == 1}


def test_a_font_is_read_once_per_document_not_once_per_page(strips_read):
    """Once, not once per child: the pages are split across two children, and the worker
    that reads their digits remembers the glyphs for the whole document."""
    pages = _render(_statement(4))

    assert len(strips_read) == 1
    assert all(not page.notes for page in pages)
    assert all({"2,450.00", "612.45", "1,837.55"} <= _amounts(page) for page in pages)


def test_a_copy_of_the_font_with_a_lying_map_is_caught_on_a_later_page(strips_read):
    """The copy has the same name, program and flags: only its map differs, and that is
    enough for it to be read on its own."""
    pages = _render(_statement(3, lying={3}))

    assert [bool(page.notes) for page in pages] == [False, False, True]
    assert {"layer": "7,905.55", "seen": "2,450.00"} in pages[2].notes["text_layer_disagrees"]
    assert "7,905.55" not in _amounts(pages[2])
    assert {"2,450.00", "612.45"} <= _amounts(pages[2])


def test_a_lying_first_page_teaches_nothing_to_the_next(strips_read):
    pages = _render(_statement(3, lying={1}))

    assert [bool(page.notes) for page in pages] == [True, False, False]
    # Page 1's strip disagreed, so page 2 reads its own; page 3 then needs none.
    assert len(strips_read) == 2
    assert all("2,450.00" in _amounts(page) for page in pages)


def test_the_fingerprint_follows_the_map_not_the_name():
    document = pdfium.PdfDocument(_statement(3, lying={2}))
    try:
        prints = []
        for index in range(3):
            page = document[index]
            textpage = page.get_textpage()
            chars = ingest._layer_chars(textpage)
            words, _, spans, _ = ingest._text_layer_words(
                textpage, chars, (1, 0, 0, -1, 0, 792), (612, 792)
            )
            glyphs = digit_check.word_glyphs(textpage, chars, words, spans)
            prints.append({key.split("|")[0] for word in glyphs for key, _ in word})
            textpage.close()
            page.close()
    finally:
        document.close()

    assert all(len(fonts) == 1 for fonts in prints)
    assert prints[0] == prints[2] != prints[1]
    assert all(next(iter(fonts)).startswith("font:") for fonts in prints)


def test_each_digit_character_is_known_by_its_font_and_its_own_glyph():
    document = pdfium.PdfDocument(_statement(1))
    try:
        page = document[0]
        textpage = page.get_textpage()
        chars = ingest._layer_chars(textpage)
        words, _, spans, _ = ingest._text_layer_words(
            textpage, chars, (1, 0, 0, -1, 0, 792), (612, 792)
        )
        glyphs = digit_check.word_glyphs(textpage, chars, words, spans)
        textpage.close()
        page.close()
    finally:
        document.close()
    by_text = {word[0]: pairs for word, pairs in zip(words, glyphs, strict=True)}

    assert [digit for _, digit in by_text["2,450.00"]] == list("245000")
    assert by_text["Gross"] == ()
    # The same digit drawn twice in one font is one glyph: one key.
    twos = {key for pairs in glyphs for key, digit in pairs if digit == "2"}
    assert len(twos) == 1


def test_glyphs_not_confirmed_yet_are_read_on_the_page_that_shows_them(strips_read):
    seen = digit_check.DigitsSeen()
    one, two, three, four, five, nought = (
        (f"font:same|{d}", d) for d in ("1", "2", "3", "4", "5", "0")
    )
    glyphs = [(one, two, five, nought, nought), (three, four, nought, nought)]
    seen.confirm(glyphs[0])

    sample = digit_check._digit_sample(glyphs, [0, 1], seen)

    assert sample == [1]  # "34.00" shows 3 and 4, which nothing has confirmed yet
    unknown = ("page:123|0.1", "7")  # a font without a fingerprint is never remembered
    seen.confirm((unknown,))
    assert seen.unconfirmed((unknown,)) == {unknown}


def test_a_glyph_first_drawn_after_the_checked_words_is_still_sampled(strips_read):
    """Only the first MAX_CHECKED_WORDS numeric words are read one by one when a strip
    disagrees; the strip itself covers every numeric word's glyphs."""
    seen = digit_check.DigitsSeen()
    honest = [(("font:f|a", "1"),)] * digit_check.MAX_CHECKED_WORDS
    late = (("font:f|b", "7"),)
    sample = digit_check._digit_sample(
        [*honest, late], list(range(digit_check.MAX_CHECKED_WORDS + 1)), seen
    )
    assert sample == [0, digit_check.MAX_CHECKED_WORDS]
