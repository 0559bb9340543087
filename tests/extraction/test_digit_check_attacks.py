"""Attacks on the digit check's per-document memory (``digit_check.DigitsSeen``): PDFs whose
second page lies about its digits, which the per-page check (a fresh memory on every page)
catches and a memory of fonts (not of each digit's glyph) let through. Found by an adversarial
review; each is now caught with the memory as it is with none."""

from __future__ import annotations

import zlib

import pytest

from extraction import digit_check, ingest, ocr

from .test_real_world_kinds import DEJAVU

pytestmark = [
    pytest.mark.skipif(not DEJAVU.exists(), reason="needs a TrueType font to embed"),
    pytest.mark.skipif(not ocr.availability()[0], reason="the check reads pixels with OCR"),
]

ROWS = [
    ("Employee: Casey Q. Morgan", "Pay period: 03/01/2026 - 03/14/2026"),
    ("Employee ID: 004417", "Pay date: 03/20/2026"),
    ("Gross Pay", "2,450.00"),
    ("Total Deductions", "612.45"),
    ("Net Pay", "1,837.55"),
    ("Account", "5519"),
    ("Hours", "86.00"),
]
# Every digit shows on page 1, so page 1 confirms 0-9 for the font(s) it is attributed to.
SHIFTED = {0x30 + i: str((i + 5) % 10) for i in range(10)}  # glyph i, text (i + 5) % 10


def _cmap(before: dict[int, str], after: dict[int, str]) -> bytes:
    def chars(entries):
        if not entries:
            return []
        body = [f"<{code:02X}> <{ord(text):04X}>" for code, text in entries.items()]
        return [f"{len(entries)} beginbfchar", *body, "endbfchar"]

    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
            "/CMapName /Attack def /CMapType 2 def",
            "1 begincodespacerange <00> <FF> endcodespacerange",
            *chars(before),
            "1 beginbfrange <20> <7E> <0020> endbfrange",
            *chars(after),
            "endcmap CMapName currentdict /CMap defineresource pop end end",
        ]
    ).encode()


def _esc(data: bytes) -> str:
    return "".join(f"\\{c:03o}" if c > 126 or c in b"()\\" else chr(c) for c in data)


def _pdf(fonts: dict[str, dict], pages: list[bytes]) -> bytes:
    """A letter-size PDF; ``fonts``: resource name -> {name, differences, before, after} for a
    simple TrueType font embedding DejaVu Sans (WinAnsi + /Differences, and a ToUnicode map
    with ``before`` and ``after`` bfchar entries around the printable ASCII range)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, extra: str = "") -> int:
        data = zlib.compress(data)
        head = f"<< /Length {len(data)} /Filter /FlateDecode{extra} >>\nstream\n".encode()
        return add(head + data + b"\nendstream")

    program = DEJAVU.read_bytes()
    fontfile = stream(program, f" /Length1 {len(program)}")
    refs = {}
    for resource, spec in fonts.items():
        descriptor = add(
            f"<< /Type /FontDescriptor /FontName /{spec['name']} /Flags 32 "
            "/FontBBox [-1021 -463 1793 1232] /ItalicAngle 0 /Ascent 928 /Descent -236 "
            f"/CapHeight 729 /StemV 80 /FontFile2 {fontfile} 0 R >>".encode()
        )
        differences = " ".join(f"{c} /{n}" for c, n in spec.get("differences", {}).items())
        tounicode = stream(_cmap(spec.get("before", {}), spec.get("after", {})))
        refs[resource] = add(
            f"<< /Type /Font /Subtype /TrueType /BaseFont /{spec['name']} "
            f"/FirstChar 32 /LastChar 255 /Widths [{' '.join(['652'] * 224)}] "
            f"/FontDescriptor {descriptor} 0 R /ToUnicode {tounicode} 0 R "
            "/Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding "
            f"/Differences [{differences}] >> >>".encode()
        )
    parent = add(b"")
    resources = " ".join(f"/{name} {ref} 0 R" for name, ref in refs.items())
    kids = [
        add(
            f"<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << {resources} >> >> /Contents {stream(content)} 0 R >>".encode()
        )
        for content in pages
    ]
    objects[parent - 1] = (
        f"<< /Type /Pages /Count {len(kids)} /Kids [{' '.join(f'{k} 0 R' for k in kids)}] >>"
    ).encode()
    root = add(f"<< /Type /Catalog /Pages {parent} 0 R >>".encode())
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _page(draw) -> bytes:
    """The rows, each token drawn by ``draw(token)`` -> content operators (after Td)."""
    ops = []
    for row, columns in enumerate(ROWS):
        y = 732 - row * 26
        for x, text in zip((57, 340), columns, strict=True):
            tokens = [draw((" " if i else "") + t) for i, t in enumerate(text.split(" "))]
            ops.append(f"BT /H 11 Tf {x} {y} Td {' '.join(tokens)} ET")
    return "\n".join(ops).encode()


def _plain(font: str = "H", encode=lambda t: t.encode("cp1252")):
    return lambda token: f"/{font} 11 Tf ({_esc(encode(token))}) Tj"


def _render(data: bytes, per_page: bool, monkeypatch) -> list[ingest.RenderedPage]:
    if per_page:  # the check as it was: nothing carried from one page to the next
        monkeypatch.setattr(digit_check.DigitsSeen, "unconfirmed", lambda self, glyphs: set(glyphs))
    return list(ingest.render_pages(data=data, media_type="application/pdf", max_pixels=1600))


def _duplicate_code_copy() -> bytes:
    """Page 1: font H, honest. Page 2: a copy L of it (same name, program and flags) whose code
    200 draws the glyph "two" and whose map says "7" for it, declared before the printable
    range: PDFium's reverse lookup of "7" returns the code declared last (0x37), so L's
    fingerprint is H's. Every "2" page 2 shows is drawn with code 200: the layer says "7"."""
    liar = lambda t: t.encode("cp1252").replace(b"2", b"\xc8")  # noqa: E731
    return _pdf(
        {
            "H": {"name": "DejaVuSans"},
            "L": {"name": "DejaVuSans", "differences": {200: "two"}, "before": {200: "7"}},
        },
        [_page(_plain()), _page(_plain("L", liar))],
    )


def _split_words(first: str, rest: str, prefix: bytes):
    def draw(token: str) -> str:
        if not any(ch.isdigit() for ch in token):
            return _plain()(token)
        space = b" " if token.startswith(" ") else b""
        digits = token.strip().encode()
        return f"/{first} 11 Tf ({_esc(space + prefix)}) Tj /{rest} 11 Tf ({_esc(digits)}) Tj"

    return draw


_FONTS = {"H": {"name": "DejaVuSans"}, "L": {"name": "Other", "after": SHIFTED}}


def _first_character_honest() -> bytes:
    """Page 1 honest in H. Page 2: each numeric word is a "$" in H followed by its digits in
    L, a font of its own whose map shifts every digit by five. A word is checked as the font
    of its first character, so L is never sampled."""
    return _pdf(_FONTS, [_page(_plain()), _page(_split_words("H", "L", b"$"))])


def _poisoned_memory() -> bytes:
    """Page 1: each numeric word is a "$" in the lying font L followed by its digits in H: the
    strip agrees (H is honest) and L is "confirmed" for every digit. Page 2: every numeric
    word wholly in L. No shared fingerprint and no duplicate code needed."""
    return _pdf(_FONTS, [_page(_split_words("L", "H", b"$")), _page(_split_words("L", "L", b"$"))])


ATTACKS = {
    "duplicate_code_copy": (_duplicate_code_copy, "7,450.00"),
    "first_character_honest": (_first_character_honest, "$7,905.55"),
    "poisoned_memory": (_poisoned_memory, "$7,905.55"),
}


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize(
    "per_page",
    [
        pytest.param(True, id="per-page baseline: nothing remembered between pages"),
        pytest.param(False, id="a digit remembered from an earlier page hides no lie"),
    ],
)
def test_page_twos_lie_is_caught(attack, per_page, monkeypatch):
    build, lie = ATTACKS[attack]
    pages = _render(build(), per_page=per_page, monkeypatch=monkeypatch)

    assert not pages[0].notes
    assert "text_layer_disagrees" in pages[1].notes
    assert lie not in {w[0] for w in pages[1].words}
