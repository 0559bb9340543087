"""A text layer holds only what its page shows: a character set off the page, too small to
make out, or squashed flat or thin, and a word with no ink in its box (white on white, under
an opaque box, PDF's invisible mode), is in the file but not visible, so it is neither the
page's text (what a model is told) nor a word a value can be "found on the page" in.

Each attack hides an amount that the page does not show beside a visible page of ordinary text
(base-14 Helvetica, with its real widths); the visible controls are type a person can read:
fine print, a lone narrow letter, punctuation, and a label set sideways in the margin."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from extraction import grounding, ingest

from .hostile_corpus import _one_page, _pdf, _stream
from .test_real_world_kinds import DEJAVU

# Metric-compatible with Helvetica, so the scan's words sit under the text layer's boxes.
LIBERATION = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")

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


@pytest.mark.parametrize(
    "cover",
    [
        pytest.param(b"1 g BT /F1 11 Tf 1 0 0 1 40 600 Tm (%s) Tj ET", id="white on white"),
        pytest.param(
            b"BT /F1 11 Tf 1 0 0 1 40 600 Tm (%s) Tj ET 1 g 30 590 120 30 re f",
            id="under a white box",
        ),
        pytest.param(
            b"BT /F1 11 Tf 1 0 0 1 40 600 Tm (%s) Tj ET 0.2 0.3 0.6 rg 30 590 120 30 re f",
            id="under a filled box",
        ),
        pytest.param(b"BT 3 Tr /F1 11 Tf 1 0 0 1 40 600 Tm (%s) Tj ET", id="invisible mode"),
    ],
)
def test_an_amount_drawn_where_it_cannot_be_seen_is_not_the_pages_text(cover):
    """The classic edit: a box of the paper's colour over the old amount (or the amount set in
    white, or in PDF's invisible mode) leaves it in the text layer, and the page shows none of
    it. A word whose box holds no ink is not the page's."""
    page, words = _words(cover % HIDDEN_AMOUNT.encode())

    assert HIDDEN_AMOUNT not in words and HIDDEN_AMOUNT not in page.text
    assert page.notes["hidden_text"] == HIDDEN_AMOUNT
    assert grounding.locate(value="9876.54", kind="money", pages=[(1, page.words)]) is None


def test_light_type_and_type_reversed_out_of_a_dark_band_are_shown():
    page, words = _words(
        b"0.8 g BT /F1 11 Tf 1 0 0 1 40 600 Tm (Light 2,222.22) Tj ET\n"
        b"0.1 0.1 0.3 rg 30 540 200 30 re f 1 g BT /F1 11 Tf 1 0 0 1 40 550 Tm (Reversed 3,333.33) "
        b"Tj ET\n"
    )

    assert {"Light", "2,222.22", "Reversed", "3,333.33"} <= set(words)
    assert "hidden_text" not in page.notes


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


@pytest.mark.skipif(not LIBERATION.exists(), reason="needs Helvetica's metrics to draw the scan")
def test_a_scanners_invisible_text_over_its_image_is_the_pages_text():
    """A "searchable" scan: the page is a JPEG and its OCR text is laid over it in PDF's
    invisible mode. The ink is the image's, under each word, so the words are the page's."""
    lines = [
        (72, 700, "EARNINGS STATEMENT"),
        (72, 660, "Net pay 1,987.60"),
        (72, 620, "Period 2026"),
    ]
    dpi = 200 / 72
    scan = Image.new("L", (round(612 * dpi), round(792 * dpi)), 255)
    draw = ImageDraw.Draw(scan)
    font = ImageFont.truetype(str(LIBERATION), round(12 * dpi))
    for x, y, text in lines:
        draw.text((x * dpi, (792 - y) * dpi), text, fill=0, font=font, anchor="ls")
    jpeg = io.BytesIO()
    scan.save(jpeg, format="JPEG", quality=80)
    text = b"".join(
        b"BT 3 Tr /F1 12 Tf 1 0 0 1 %d %d Tm (%s) Tj ET\n" % (x, y, line.encode())
        for x, y, line in lines
    )
    content = b"q 612 0 0 792 0 0 cm /Im1 Do Q\n" + text
    image = _stream(
        jpeg.getvalue(),
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /DCTDecode " % scan.size,
    )
    objects = _one_page(
        content, page_extra=b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> "
    )
    objects.append(image)
    (page,) = ingest.render_pages(data=_pdf(objects), media_type="application/pdf", max_pixels=1600)

    assert page.text_source == "text_layer"
    assert "1,987.60" in [word[0] for word in page.words]
    assert "hidden_text" not in page.notes


def _sized_page(content: bytes, media: bytes, page_extra: bytes = b"") -> ingest.RenderedPage:
    objects = _one_page(content, page_extra=page_extra)
    objects[2] = objects[2].replace(b"[0 0 612 792]", media)
    (page,) = ingest.render_pages(data=_pdf(objects), media_type="application/pdf", max_pixels=1600)
    return page


@pytest.mark.parametrize(
    ("media", "size"),
    [
        pytest.param(b"[0 0 612 4500]", 12, id="a long web page saved as one PDF page"),
        pytest.param(b"[0 0 226 3000]", 8, id="a thermal receipt"),
        pytest.param(b"[0 0 1684 2384]", 8, id="A1 with 8-point type"),
        pytest.param(b"[0 0 842 1191]", 4, id="A3 with 4-point fine print"),
    ],
)
def test_type_is_judged_in_points_so_a_large_page_keeps_its_text_layer(media, size):
    """A page far larger than its 1,600 stored pixels shows its type small on screen, not
    hidden: the stored image is one view of it, OCR and zoom see more."""
    lines = [b"Total due 1,234.56", b"Paid in full, thank you", b"Invoice 4471"]
    content = b"".join(
        b"BT /F1 %d Tf 1 0 0 1 10 %d Tm (%s) Tj ET\n" % (size, 200 - 2 * size * i, line)
        for i, line in enumerate(lines)
    )

    page = _sized_page(content, media)

    assert page.text_source == "text_layer" and "hidden_text" not in page.notes
    assert {"Total", "due", "1,234.56", "Paid", "in", "full,", "4471"} <= {w[0] for w in page.words}


def test_a_negative_font_size_under_a_turned_matrix_reads_as_drawn():
    """``-8 Tf`` with a ``-1 0 0 -1`` text matrix draws upright 8-point type; narrow letters
    must not be taken for hidden ones."""
    page = _sized_page(
        b"BT /F1 -8 Tf -1 0 0 -1 72 700 Tm (Deposit 1,234.56 to the account) Tj ET\n"
        b"BT /F1 -8 Tf -1 0 0 -1 72 680 Tm (Balance 7,417.01 in full) Tj ET\n",
        b"[0 0 595 842]",
    )

    assert {"Deposit", "1,234.56", "Balance", "7,417.01", "full"} <= {w[0] for w in page.words}
    assert "hidden_text" not in page.notes


def _type3_pdf(text: bytes, font_matrix: bytes, unit: float, size: int) -> bytes:
    """One line in a Type 3 font whose glyphs are filled boxes, ``unit`` glyph units to the
    em, ``font_matrix`` from glyph space to text space, set at ``size`` (the Tf operand)."""
    glyphs = sorted(set(text.decode()) - {" "})
    narrow = "il1,.t"

    def advance(char: str) -> float:
        return (0.28 if char in narrow else 0.6) * unit

    procs = [
        _stream(
            b"%g 0 0 0 %g %g d1 %g 0 %g %g re f"
            % (advance(g), advance(g), 0.7 * unit, 0.05 * unit, advance(g) - 0.1 * unit, 0.7 * unit)
        )
        for g in glyphs
    ]
    widths = b" ".join(
        b"%g" % (0.3 * unit if chr(c) == " " else advance(chr(c)) if chr(c) in glyphs else 0)
        for c in range(32, 127)
    )
    cmap = _stream(
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /T3 def "
        b"/CMapType 2 def 1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange "
        b"<20> <7E> <0020> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    first = 6  # the objects after _one_page's five
    font = (
        b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 %g %g] /FontMatrix %s /CharProcs << %s >> "
        b"/Encoding << /Type /Encoding /Differences [%s] >> /FirstChar 32 /LastChar 126 "
        b"/Widths [%s] /ToUnicode %d 0 R /Resources << >> >>"
        % (
            0.6 * unit,
            0.7 * unit,
            font_matrix,
            b" ".join(b"/g%d %d 0 R" % (n, first + n) for n in range(len(glyphs))),
            b" ".join(b"%d /g%d" % (ord(g), n) for n, g in enumerate(glyphs)),
            widths,
            first + len(glyphs),
        )
    )
    objects = _one_page(b"BT /F1 %d Tf 72 700 Td (%s) Tj ET" % (size, text))
    objects[4] = font
    return _pdf([*objects, *procs, cmap])


def test_a_type3_font_whose_matrix_carries_the_size_reads_as_drawn():
    """``FontMatrix [0.12 0 0 0.12 0 0]`` at ``1 Tf`` draws 10-point glyphs: the size is in
    the font, not in the Tf operand."""
    text = b"Invoice 4471 total due 1,234.56 paid"
    data = _type3_pdf(text, b"[0.12 0 0 0.12 0 0]", 83.3, 1)

    (page,) = ingest.render_pages(data=data, media_type="application/pdf", max_pixels=1600)

    assert " ".join(w[0] for w in page.words) == text.decode()
    assert "hidden_text" not in page.notes


def test_a_raised_footnote_mark_is_not_read_into_the_amount_it_follows():
    """A statement's "2,450.00¹": the footnote mark is smaller and raised, so it is a word of
    its own, not the amount 2,450.001. Small capitals on the same baseline stay one word."""
    page, words = _words(
        b"BT /F1 11 Tf 1 0 0 1 40 600 Tm (Paid 2,450.00) Tj /F1 7 Tf 5 Ts (1) Tj ET\n"
        b"BT /F1 11 Tf 1 0 0 1 40 560 Tm (T) Tj /F1 8.5 Tf (OTAL) Tj ET\n"
    )

    assert "2,450.00" in words and "2,450.001" not in words
    assert "TOTAL" in words


def test_coloured_type_on_a_ground_of_the_same_brightness_is_shown():
    """Orange on dark grey differs by 4 of 255 in grey and plainly in colour (a helper's
    review found such words dropped when only grey was measured)."""
    page, words = _words(
        b"0.663 0.663 0.663 rg 60 590 480 50 re f "
        b"BT /F1 14 Tf 1 0.647 0 rg 72 608 Td (Colourword on ground 1,234.56) Tj ET\n"
    )

    assert {"Colourword", "1,234.56"} <= set(words)
    assert "hidden_text" not in page.notes


def test_a_word_in_an_unembedded_cjk_font_this_machine_cannot_draw_is_not_called_hidden():
    """A reader's viewer draws MS-Mincho from its installed fonts; PDFium on a server without
    them draws nothing, which is this machine's lack, not the file's hiding."""
    text = "請求書 合計金額".encode("utf-16-be").hex().upper().encode()
    objects = _one_page(
        VISIBLE + b"BT /F2 14 Tf 72 620 Td <" + text + b"> Tj ET",
        page_extra=b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> ",
    )
    objects += [
        b"<< /Type /Font /Subtype /Type0 /BaseFont /MS-Mincho /Encoding /UniJIS-UCS2-H "
        b"/DescendantFonts [7 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /MS-Mincho /CIDSystemInfo << /Registry "
        b"(Adobe) /Ordering (Japan1) /Supplement 2 >> /FontDescriptor 8 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /MS-Mincho /Flags 6 /FontBBox [0 -141 1000 859] "
        b"/ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 859 /StemV 80 >>",
    ]
    (page,) = ingest.render_pages(data=_pdf(objects), media_type="application/pdf", max_pixels=1600)

    assert {"請求書", "合計金額"} <= {w[0] for w in page.words}
    assert "hidden_text" not in page.notes


@pytest.mark.parametrize(
    ("content", "word"),
    [
        (b"(Due March 1) Tj 7 Tf 4 Ts (st) Tj 0 Ts 11 Tf (, 2024) Tj", "1st,"),
        (b"(Area 120 m) Tj 7 Tf 4 Ts (2) Tj 0 Ts 11 Tf ( total) Tj", "m2"),
        (b"(Acme) Tj 6 Tf 5 Ts (TM) Tj 0 Ts 11 Tf ( Widgets) Tj", "AcmeTM"),
    ],
)
def test_raised_letters_and_a_raised_digit_after_a_letter_stay_in_their_word(content, word):
    _, words = _words(b"BT /F1 11 Tf 72 620 Td " + content + b" ET\n")

    assert word in words


def test_a_page_drawn_small_in_its_units_judges_type_against_its_size():
    """/UserUnit 10 (a poster): 1.2 units of type are 12 points; PDFium draws the page in its
    units, so the page's own size is the measure, not the point."""
    page = _sized_page(
        b"BT /F1 1.2 Tf 5 60 Td (Userunit scaled text 12pt real) Tj ET "
        b"BT /F1 2 Tf 5 70 Td (Second line of heading text) Tj ET",
        b"[0 0 100 80]",
        page_extra=b"/UserUnit 10 ",
    )

    assert page.text_source == "text_layer" and "hidden_text" not in page.notes
    assert "Userunit" in {w[0] for w in page.words}


def test_punctuation_of_a_font_that_declares_too_small_an_ascent_is_kept():
    """A descriptor with /Ascent 100 /Descent -10 makes PDFium's boxes the glyphs' own: a full
    stop's is under a point high, but its size operand says 11-point type."""
    objects = _one_page(VISIBLE + b"BT /F2 11 Tf 72 620 Td (Paid 1,234.56 in full.) Tj ET")
    objects[2] = objects[2].replace(b"/F1 5 0 R", b"/F1 5 0 R /F2 6 0 R")
    program = DEJAVU.read_bytes()
    objects += [
        b"<< /Type /Font /Subtype /TrueType /BaseFont /DejaVuSans /FirstChar 32 /LastChar 126 "
        b"/Widths [" + b" ".join([b"600"] * 95) + b"] /FontDescriptor 7 0 R "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [-1021 -463 1793 "
        b"1232] /ItalicAngle 0 /Ascent 100 /Descent -10 /CapHeight 729 /StemV 80 "
        b"/FontFile2 8 0 R >>",
        _stream(program, b"/Length1 %d " % len(program)),
    ]
    (page,) = ingest.render_pages(data=_pdf(objects), media_type="application/pdf", max_pixels=1600)

    assert "1,234.56" in {w[0] for w in page.words}
    assert "hidden_text" not in page.notes
