"""Whether the digits of a PDF's text layer are the digits its pages show.

A font's ToUnicode map says which character each glyph stands for, and nothing makes it true:
a map that is wrong (by a broken generator, or on purpose) draws "2,450.00" while the text says
"7,905.55". The digits of numeric words are therefore read back from the rendered page by OCR,
and where enough of them disagree, what the page shows wins (``checked_against_pixels``).

Each digit character is known by its font and its glyph: the font by what decides what it
draws (its name and flags, its program's bytes, and the outline of the glyph its map names for
each digit: ``font_fingerprint``), the glyph by its own box as drawn (``_GlyphKeys``). A page's
sample is the fewest numeric words that show every digit glyph not yet confirmed, read side by
side on one strip in one run of the line recognizer (a separate reading costs about 40 ms of
CPU a word); what an agreeing strip showed is remembered for the rest of the document
(``DigitsSeen``), so that the next page drawn with the same glyphs costs no reading at all.

The glyphs are known where the PDF is open, in the sandboxed child that renders the page
(``word_glyphs``, sent with the page: ``packed``); the reading is done by the worker that
receives the pages (``ingest.render_pages``), from the page's stored image and only when a
glyph is new. So one recognizer, loaded once per worker process, serves every document, and
one memory serves all the children a document's pages are split across.
"""

from __future__ import annotations

import ctypes
import hashlib
import re
from collections.abc import Callable

import pypdfium2.raw as pdfium_c
from PIL import Image

from . import ocr
from . import text_layer_calls as calls

# Amounts, dates and other numbers on a text layer are checked against what the page shows.
NUMERIC_WORD = re.compile(r"\d")
# The layer is taken to lie when at least this many checked words and this share disagree;
# below that a disagreement is more likely OCR's own slip than a wrong map.
MIN_DISAGREEMENTS = 2
MIN_DISAGREEMENT_SHARE = 0.25
MAX_CHECKED_WORDS = 60
# Sampled words read together on one strip (a longer line is read less surely), and at most
# this many strips a page: the work a page's check may ask of the worker is bounded.
STRIP_WORDS = 8
MAX_STRIPS = 8
# Glyph outlines are read at this size (the points are rounded, not compared as floats).
_OUTLINE_SIZE = 1000.0
DIGITS = "0123456789"


# A digit character as the check knows it: (its glyph's key, the digit its text says).
Glyph = tuple[str, str]


class DigitsSeen:
    """The digit glyphs seen drawing the digits their text says, in one document.

    A glyph is known by its font's fingerprint (``font_fingerprint``) and its own tight box
    (``_GlyphKeys``): each digit *character* is checked as what it is, so a word cannot borrow
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
    key_of = _GlyphKeys(textpage)
    glyphs: list[tuple[Glyph, ...]] = []
    for word, (start, count) in zip(words, spans, strict=True):
        if not NUMERIC_WORD.search(word[0]):
            glyphs.append(())
            continue
        glyphs.append(
            tuple(
                (key_of(char[5]), char[0])
                for char in chars[start : start + count]
                if char[0].isdigit()
            )
        )
    return glyphs


def packed(page_words: list[list], words: list[list], glyphs: list[tuple[Glyph, ...]]) -> dict:
    """``glyphs`` (one tuple per word of ``words``, as ``word_glyphs`` gives them) in the form a
    rendered page carries them from its child to the worker, which checks them
    (``ingest.render_pages``): ``{"keys": [glyph key, ...], "words": [[place, [key index, ...],
    digits], ...]}``, each numeric word by its place in ``page_words`` (the same word lists in
    the page's reading order); {} for a page without digits. Each key is sent once a page: a
    page's hundreds of digits are drawn by a few dozen glyphs."""
    place = {id(word): index for index, word in enumerate(page_words)}
    keys: dict[str, int] = {}
    numeric = [
        [
            place[id(word)],
            [keys.setdefault(key, len(keys)) for key, _digit in characters],
            "".join(digit for _key, digit in characters),
        ]
        for word, characters in zip(words, glyphs, strict=True)
        if characters
    ]
    return {"keys": list(keys), "words": numeric} if numeric else {}


def unpacked(page_words: list[list], digits: dict) -> list[tuple[Glyph, ...]]:
    """``packed`` read back: one tuple of glyphs per word of ``page_words``, () for a word
    without digits. A numeric word the packing leaves out or garbles gets glyphs no memory
    keeps (a ``page:`` key per digit), so it is read, never assumed."""
    glyphs: list[tuple[Glyph, ...]] = [()] * len(page_words)
    try:
        keys = [str(key) for key in digits.get("keys", [])]
        for place, indexes, shown in digits.get("words", []):
            if (
                len(indexes) == len(shown)
                and 0 <= place < len(page_words)
                and all(0 <= i < len(keys) for i in indexes)
            ):
                glyphs[place] = tuple(zip((keys[i] for i in indexes), str(shown), strict=True))
    except (AttributeError, IndexError, TypeError, ValueError):
        glyphs = [()] * len(page_words)
    for place, word in enumerate(page_words):
        if not glyphs[place] and NUMERIC_WORD.search(word[0]):
            glyphs[place] = tuple(("page:unsent", ch) for ch in word[0] if ch.isdigit())
    return glyphs


class _GlyphKeys:
    """A digit character's key: its font's fingerprint (``_font_of``) and its glyph's tight
    box (the glyph's own outline, as drawn) from its origin, in hundredths of its font size:
    another glyph behind the same digit has another box. For one page's text (its fonts are
    remembered by their text objects)."""

    def __init__(self, textpage) -> None:
        self.textpage = textpage
        self.raw = calls.address(textpage.raw)
        self.box = [ctypes.c_double() for _ in range(4)]  # left, right, bottom, top
        self.origin = [ctypes.c_double(), ctypes.c_double()]
        self.box_p = [ctypes.pointer(number) for number in self.box]
        self.origin_p = [ctypes.pointer(number) for number in self.origin]
        self.fonts: dict[int, str] = {}  # text object -> its font's key
        self.fingerprints: dict[int, str] = {}  # font -> its fingerprint
        self.keys: dict[tuple, str] = {}

    def __call__(self, index: int) -> str:
        raw = self.raw
        text_object = calls.get_text_object(raw, index)
        font = self.fonts.get(text_object) if text_object else None
        if font is None:
            font = _font_of(self.textpage, index, text_object, self.fingerprints)
            if text_object:
                self.fonts[text_object] = font
        if not calls.get_char_box(raw, index, *self.box_p):
            shape: tuple = ()
        else:
            calls.get_char_origin(raw, index, *self.origin_p)
            scale = 100.0 / (calls.get_font_size(raw, index) or 1.0)
            left, right, bottom, top = (number.value for number in self.box)
            x, y = self.origin[0].value, self.origin[1].value
            shape = (
                round((left - x) * scale),
                round((bottom - y) * scale),
                round((right - x) * scale),
                round((top - y) * scale),
            )
        key = self.keys.get((font, shape))
        if key is None:
            key = self.keys[font, shape] = f"{font}|{','.join(map(str, shape)) or '?'}"
        return key


def _font_of(textpage, index: int, text_object: int | None, fingerprints: dict[int, str]) -> str:
    font = calls.get_font(text_object) if text_object else None
    if not font:
        # A character PDFium made up (no object behind it): grouped by name on this page only.
        return f"page:{_name_and_flags(textpage, index)}"
    if font not in fingerprints:
        fingerprints[font] = (
            font_fingerprint(
                ctypes.cast(font, pdfium_c.FPDF_FONT), _name_and_flags(textpage, index)
            )
            or f"page:{font}"
        )
    return fingerprints[font]


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
    pixels: Callable[[], Image.Image],
    glyphs: list[tuple[Glyph, ...]] | None = None,
    seen: DigitsSeen | None = None,
) -> tuple[list[list], dict]:
    """The words, with numbers the rendered page shows differently replaced by what it shows.
    ``pixels`` gives the rendered page, asked once and only when something is to be read.

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
    image = None
    try:
        if glyphs is not None and len(glyphs) == len(words):
            # Every numeric word of the page, not only the first MAX_CHECKED_WORDS: a glyph
            # first drawn after them is sampled too.
            sample = _digit_sample(glyphs, every_numeric, seen)
            if not sample:
                return words, {}
            image = pixels()
            # A word too flat or too wide to read (``ocr.legible``) is left out: its glyphs
            # stay unconfirmed, and its digits are never counted as agreeing.
            sample = [i for i in sample if ocr.legible(image.size, words[i][1:5])]
            strips = [sample[i : i + STRIP_WORDS] for i in range(0, len(sample), STRIP_WORDS)]
            # More new glyphs than MAX_STRIPS strips show is read as a page without memory:
            # the first MAX_CHECKED_WORDS words one by one, a bounded cost whatever the file.
            if len(strips) <= MAX_STRIPS and all(
                _digits(ocr.read_strip(image, [words[i][1:5] for i in strip]))
                == "".join(_digits(words[i][0]) for i in strip)
                for strip in strips
            ):
                for index in sample:
                    seen.confirm(glyphs[index])
                return words, {}
        image = image or pixels()
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
