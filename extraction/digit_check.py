"""Whether the digits of a PDF's text layer are the digits its pages show.

A font's ToUnicode map says which character each glyph stands for, and nothing makes it true:
a map that is wrong (by a broken generator, or on purpose) draws "2,450.00" while the text says
"7,905.55". The digits of numeric words are therefore read back from the rendered page by OCR,
and where enough of them disagree, what the page shows wins (``checked_against_pixels``).

Each digit character is known by its font and its glyph: the font by what decides what it
draws (its name and flags, its program's bytes, and the outline of the glyph its map names for
each digit: ``font_fingerprint``), the glyph by its own box as drawn (``_Shapes``). A page's
sample is the fewest numeric words that show every digit glyph not yet confirmed, read side by
side on one strip in one run of the line recognizer (a separate reading costs about 40 ms of
CPU a word); what an agreeing strip showed is remembered for the rest of the document
(``DigitsSeen``), so that the next page drawn with the same glyphs costs no reading at all.
"""

from __future__ import annotations

import ctypes
import hashlib
import re

import pypdfium2.raw as pdfium_c
from PIL import Image

from . import ocr

# Amounts, dates and other numbers on a text layer are checked against what the page shows.
NUMERIC_WORD = re.compile(r"\d")
# The layer is taken to lie when at least this many checked words and this share disagree;
# below that a disagreement is more likely OCR's own slip than a wrong map.
MIN_DISAGREEMENTS = 2
MIN_DISAGREEMENT_SHARE = 0.25
MAX_CHECKED_WORDS = 60
# Sampled words read together on one strip (a longer line is read less surely).
STRIP_WORDS = 8
# Glyph outlines are read at this size (the points are rounded, not compared as floats).
_OUTLINE_SIZE = 1000.0
DIGITS = "0123456789"


# A digit character as the check knows it: (its glyph's key, the digit its text says).
Glyph = tuple[str, str]


class DigitsSeen:
    """The digit glyphs seen drawing the digits their text says, in one document.

    A glyph is known by its font's fingerprint (``font_fingerprint``) and its own tight box
    (``_Shapes``): each digit *character* is checked as what it is, so a word cannot borrow
    another font's standing through its first character, and a second code that draws another
    glyph for the same digit is read on its own. Only glyphs whose font has a fingerprint are
    remembered; one PDFium cannot describe is read again on every page."""

    def __init__(self) -> None:
        self._glyphs: set[Glyph] = set()

    def unconfirmed(self, glyphs: tuple[Glyph, ...]) -> set[Glyph]:
        return {glyph for glyph in glyphs if glyph not in self._glyphs}

    def confirm(self, glyphs: tuple[Glyph, ...]) -> None:
        # Only 0-9: the fingerprint holds their outlines, not those of other scripts' digits.
        self._glyphs.update(
            glyph for glyph in glyphs if glyph[0].startswith(_FINGERPRINT) and glyph[1] in DIGITS
        )


_FINGERPRINT = "font:"


def word_glyphs(
    textpage, chars: list[tuple], words: list[list], spans: list[tuple[int, int]]
) -> list[tuple[Glyph, ...]]:
    """Each numeric word's digit characters as ``(glyph key, digit)``, () for the other words;
    ``chars``: the text layer's characters as ``ingest._layer_chars`` read them (the
    character first, its index last); ``spans``: each word's first character's index and its
    count of characters. Needs the text page open: the fonts are PDFium's own objects, alive
    while their page is."""
    fingerprints: dict[int, str] = {}
    shape = _Shapes(textpage.raw)
    glyphs: list[tuple[Glyph, ...]] = []
    for word, (start, count) in zip(words, spans, strict=True):
        if not NUMERIC_WORD.search(word[0]):
            glyphs.append(())
            continue
        glyphs.append(
            tuple(
                (f"{_font_of(textpage, index, fingerprints)}|{shape(index)}", char)
                for char, *_box, index in chars[start : start + count]
                if char.isdigit()
            )
        )
    return glyphs


class _Shapes:
    """A character's tight box (the glyph's own outline, as drawn) from its origin, in units
    of its font size, to 0.01: another glyph behind the same digit has another box. One set
    of C numbers for a page's hundreds of digits."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.box = [ctypes.c_double() for _ in range(4)]  # left, right, bottom, top
        self.origin = [ctypes.c_double(), ctypes.c_double()]

    def __call__(self, index: int) -> str:
        if not pdfium_c.FPDFText_GetCharBox(self.raw, index, *self.box):
            return "?"
        pdfium_c.FPDFText_GetCharOrigin(self.raw, index, *self.origin)
        size = pdfium_c.FPDFText_GetFontSize(self.raw, index) or 1.0
        left, right, bottom, top = (number.value for number in self.box)
        x, y = (number.value for number in self.origin)
        return ",".join(
            f"{value / size:.2f}" for value in (left - x, bottom - y, right - x, top - y)
        )


def _font_of(textpage, index: int, fingerprints: dict[int, str]) -> str:
    text_object = pdfium_c.FPDFText_GetTextObject(textpage.raw, index)
    font = pdfium_c.FPDFTextObj_GetFont(text_object) if text_object else None
    address = ctypes.cast(font, ctypes.c_void_p).value if font else None
    if address is None:
        # A character PDFium made up (no object behind it): grouped by name on this page only.
        return f"page:{_name_and_flags(textpage, index)}"
    if address not in fingerprints:
        fingerprints[address] = font_fingerprint(font, _name_and_flags(textpage, index))
        if not fingerprints[address]:
            fingerprints[address] = f"page:{address}"
    return fingerprints[address]


def _name_and_flags(textpage, index: int) -> str:
    buffer = ctypes.create_string_buffer(256)
    flags = ctypes.c_int(0)
    length = pdfium_c.FPDFText_GetFontInfo(textpage.raw, index, buffer, 256, flags)
    name = buffer.value.decode("utf-8", "replace") if 0 < length <= 256 else ""
    return f"{name}/{flags.value}"


def font_fingerprint(font, name_and_flags: str) -> str:
    """What decides which digits a PDFium font (``FPDF_FONT``) draws for which text, as one
    string: its name and flags, a hash of its program (embedded or substituted), and the
    outline of the glyph its map gives for each digit (PDFium finds that glyph through the
    same ToUnicode map the text layer comes from, so a changed map changes the outlines).
    "" when PDFium has no program or no digit outline for it (a Type 3 font draws its glyphs
    with page content): such a font is checked page by page."""
    digest = hashlib.blake2b(name_and_flags.encode(), digest_size=16)
    size = ctypes.c_size_t(0)
    if not pdfium_c.FPDFFont_GetFontData(font, None, 0, ctypes.byref(size)) or not size.value:
        return ""
    program = (ctypes.c_uint8 * size.value)()
    if not pdfium_c.FPDFFont_GetFontData(font, program, size.value, ctypes.byref(size)):
        return ""
    digest.update(bytes(program))
    outlines = 0
    x, y = ctypes.c_float(), ctypes.c_float()
    for digit in DIGITS:
        digest.update(digit.encode())
        path = pdfium_c.FPDFFont_GetGlyphPath(font, ord(digit), _OUTLINE_SIZE)
        if not path:
            continue
        count = pdfium_c.FPDFGlyphPath_CountGlyphSegments(path)
        outlines += count > 0
        points = []
        for index in range(max(count, 0)):
            segment = pdfium_c.FPDFGlyphPath_GetGlyphPathSegment(path, index)
            pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
            points.append(
                (
                    pdfium_c.FPDFPathSegment_GetType(segment),
                    round(x.value, 1),
                    round(y.value, 1),
                )
            )
        digest.update(repr(points).encode())
    return f"{_FINGERPRINT}{digest.hexdigest()}" if outlines else ""


def checked_against_pixels(
    words: list[list],
    image: Image.Image,
    glyphs: list[tuple[Glyph, ...]] | None = None,
    seen: DigitsSeen | None = None,
) -> tuple[list[list], dict]:
    """The words, with numbers the rendered page shows differently replaced by what it shows.

    The digits of numeric words are read back from the words' own pixels (OCR recognition on
    the word's box only, no page layout), and when enough of them disagree the visible digits
    win and the disagreements are noted. Without an OCR engine the words are kept as they are.

    With ``glyphs`` (one tuple per word, as ``word_glyphs`` gives them) a sample is read
    first: the fewest numeric words that show every digit glyph on the page that ``seen`` has
    not seen drawing its digit on an earlier page, laid side by side on one strip. When the
    strip's digits are the layer's (or nothing is left to read), the page keeps its layer and
    ``seen`` learns the sampled words' glyphs; otherwise the first MAX_CHECKED_WORDS numeric
    words are read one by one and judged as before.
    """
    every_numeric = [i for i, w in enumerate(words) if NUMERIC_WORD.search(w[0])]
    numeric = every_numeric[:MAX_CHECKED_WORDS]
    if not numeric:
        return words, {}
    seen = seen if seen is not None else DigitsSeen()
    try:
        if glyphs is not None and len(glyphs) == len(words):
            # Every numeric word of the page, not only the first MAX_CHECKED_WORDS: a glyph
            # first drawn after them is sampled too.
            sample = _digit_sample(glyphs, every_numeric, seen)
            strips = [sample[i : i + STRIP_WORDS] for i in range(0, len(sample), STRIP_WORDS)]
            if all(
                _digits(ocr.read_strip(image, [words[i][1:5] for i in strip]))
                == "".join(_digits(words[i][0]) for i in strip)
                for strip in strips
            ):
                for index in sample:
                    seen.confirm(glyphs[index])
                return words, {}
        seen_on_page = ocr.read_crops(image, [words[i][1:5] for i in numeric])
    except ocr.OcrUnavailable:
        return words, {}
    disagreements = [
        (index, reading)
        for index, reading in zip(numeric, seen_on_page, strict=True)
        if _disagrees(words[index][0], reading)
    ]
    if len(disagreements) < MIN_DISAGREEMENTS or len(disagreements) < MIN_DISAGREEMENT_SHARE * len(
        numeric
    ):
        return words, {}
    fixed = [list(word) for word in words]
    notes = []
    for index, reading in disagreements:
        notes.append({"layer": words[index][0], "seen": reading})
        fixed[index][0] = reading
    return fixed, {"text_layer_disagrees": notes}


def _disagrees(layer: str, reading: str) -> bool:
    return bool(reading) and bool(_digits(reading)) and _digits(reading) != _digits(layer)


def _digit_sample(
    glyphs: list[tuple[Glyph, ...]], numeric: list[int], seen: DigitsSeen
) -> list[int]:
    """Indexes of numeric words that together show every digit glyph of the page that
    ``seen`` has not confirmed, chosen greedily (the word adding the most not yet covered
    first)."""
    sample: list[int] = []
    missing = set().union(*(seen.unconfirmed(glyphs[i]) for i in numeric))
    while missing:
        best = max(numeric, key=lambda i: len(missing.intersection(glyphs[i])))
        sample.append(best)
        missing.difference_update(glyphs[best])
    return sample


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())
