"""A corpus of hostile uploads, generated in memory: bombs, loops, locks, disguises, odd names.

Each ``HostileFile`` states what Attest must do with it: ``refused`` at upload with ``code`` (the
applicant sees a plain message naming the file), or ``stored`` (kept byte for byte and read, or
failed at reading with a plain reason). Used by tests/extraction/test_hostile_files.py and by
bench/hostile_files.py.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image
from pypdf import PdfWriter

from tests.builders import pdf_bytes

MIB = 1024 * 1024


@dataclass(frozen=True)
class HostileFile:
    key: str  # a short id for tables and test ids
    name: str  # the file name the browser sends
    data: bytes
    expect: str  # "refused" | "stored"
    code: str = ""  # the refusal code when refused
    what: str = ""


def _pdf(
    objects: list[bytes], *, trailer: bytes = b"", comment: bytes = b"\xe2\xe3\xcf\xd3"
) -> bytes:
    """A PDF of ``objects`` (numbered from 1, the catalog first) with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%" + comment + b"\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, trailer, xref)
    )
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _one_page(content: bytes, content_extra: bytes = b"", page_extra: bytes = b"") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>",
        _stream(content, content_extra),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


TEXT = b"BT /F1 18 Tf 72 700 Td (Pay stub for Ann Example, net pay 1,234.56) Tj ET"


def _zeros_deflated(size: int) -> bytes:
    compressor = zlib.compressobj(6)
    chunk = bytes(MIB)
    parts = [compressor.compress(chunk) for _ in range(size // MIB)]
    return b"".join(parts) + compressor.flush()


def _encrypted(algorithm: str, user_password: str = "") -> bytes:
    writer = PdfWriter()
    writer.append(io.BytesIO(_pdf(_one_page(TEXT))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose header then claims ``width`` x ``height`` (CRC fixed up)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def _jpeg_claiming(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="JPEG", quality=50)
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _tiff_frames(count: int) -> bytes:
    buffer = io.BytesIO()
    frames = [Image.new("L", (4, 4), 255) for _ in range(count)]
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _many_pages(count: int) -> bytes:
    kids = b" ".join(b"%d 0 R" % (4 + index) for index in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
        _stream(b""),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"] * count
    return _pdf(objects)


@functools.cache
def corpus() -> tuple[HostileFile, ...]:
    """Every hostile file, generated once per process (the bombs take about a second)."""
    good = _pdf(_one_page(TEXT))
    flate_bomb = _pdf(_one_page(_zeros_deflated(256 * MIB), b"/Filter /FlateDecode "))
    nested_bomb = _pdf(
        _one_page(
            zlib.compress(_zeros_deflated(512 * MIB), 9), b"/Filter [/FlateDecode /FlateDecode] "
        )
    )
    huge_image = _pdf(
        _one_page(
            b"q 612 0 0 792 0 0 cm /Im1 Do Q",
            page_extra=b"/Resources << /XObject << /Im1 6 0 R >> >> ",
        )
        + [
            _stream(
                zlib.compress(bytes(1024)),
                b"/Type /XObject /Subtype /Image /Width 60000 /Height 60000 "
                b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode ",
            )
        ]
    )
    cyclic = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ]
    )
    parent_loop = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 3 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>",
        ]
    )
    broken_xref = good.replace(b"xref\n0 6", b"xref\n0 9").replace(b"0000000", b"9999999", 3)
    deep = b"[" * 50_000 + b"]" * 50_000
    deep_nesting = _pdf(_one_page(TEXT, page_extra=b"/Junk " + deep + b" "))
    javascript = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R "
            b"/Names << /JavaScript << /Names [(a) 6 0 R] >> >> >>",
            *_one_page(TEXT)[1:],
            b"<< /S /JavaScript /JS (app.alert('pwned'); this.submitForm('http://x');) >>",
        ]
    )
    unknown_cipher = _pdf(
        _one_page(TEXT) + [b"<< /Filter /AcmeSecure /V 9 /R 9 /O (x) /U (y) /P -4 /Length 128 >>"],
        trailer=b"/Encrypt 6 0 R /ID [<00112233445566778899aabbccddeeff> <00>] ",
    )
    polyglot = _pdf(
        _one_page(TEXT), comment=b"<html><body><script>alert(document.cookie)</script></html>"
    )
    html_first = b"<html><script>alert(1)</script></html>\n" + good
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.domain)</script></svg>"
    )
    html = b"<!doctype html><html><body onload=alert(1)>hello</body></html>"
    return (
        HostileFile("flate_bomb", "bomb.pdf", flate_bomb, "refused", "too_complex",
                    "one FlateDecode stream that unpacks to 256 MiB"),
        HostileFile("nested_bomb", "nested.pdf", nested_bomb, "refused", "too_complex",
                    "a stream deflated twice that unpacks to 512 MiB"),
        HostileFile("huge_pdf_image", "image.pdf", huge_image, "stored", "",
                    "a page image declared 60000 x 60000 pixels"),
        HostileFile("pages_10000", "long.pdf", _many_pages(10_000), "refused", "too_many_pages",
                    "10,000 pages"),
        HostileFile("cyclic_tree", "cyclic.pdf", cyclic, "refused", "corrupt",
                    "a page tree that lists itself among its kids"),
        HostileFile("parent_loop", "loop.pdf", parent_loop, "refused", "corrupt",
                    "two page-tree nodes that are each other's parent and kid"),
        HostileFile("broken_xref", "xref.pdf", broken_xref, "refused", "corrupt",
                    "a cross-reference table with wrong counts and offsets"),
        HostileFile("deep_nesting", "deep.pdf", deep_nesting, "refused", "corrupt",
                    "arrays nested 50,000 deep"),
        HostileFile("javascript", "js.pdf", javascript, "stored", "",
                    "OpenAction and document-level JavaScript"),
        HostileFile("rc4", "rc4.pdf", _encrypted("RC4-128"), "stored", "",
                    "RC4-128, empty user password"),
        HostileFile("aes128", "aes128.pdf", _encrypted("AES-128"), "stored", "",
                    "AES-128, empty user password"),
        HostileFile("aes256", "aes256.pdf", _encrypted("AES-256"), "stored", "",
                    "AES-256, empty user password"),
        HostileFile("wrong_password", "locked.pdf", _encrypted("AES-256", "secret"), "refused",
                    "password_protected", "AES-256 with a user password we do not have"),
        HostileFile("unknown_cipher", "acme.pdf", unknown_cipher, "refused",
                    "encryption_unsupported", "a security handler nobody implements"),
        HostileFile("polyglot", "polyglot.pdf", polyglot, "stored", "",
                    "a PDF whose header comment is an HTML page with a script"),
        HostileFile("html_then_pdf", "page.pdf", html_first, "refused", "unsupported_type",
                    "an HTML page with a PDF appended"),
        HostileFile("svg_as_png", "scan.png", svg, "refused", "unsupported_type",
                    "an SVG with a script, named .png"),
        HostileFile("html_as_png", "photo.png", html, "refused", "unsupported_type",
                    "an HTML page named .png"),
        HostileFile("jpeg_12000", "huge.jpg", _jpeg_claiming(12000, 12000), "refused",
                    "too_many_pixels", "a JPEG header claiming 12000 x 12000"),
        HostileFile("png_12000", "huge.png", _png_claiming(12000, 12000), "refused",
                    "too_many_pixels", "a PNG header claiming 12000 x 12000"),
        HostileFile("png_between_limits", "big.png", _png_claiming(8000, 8000), "refused",
                    "too_many_pixels", "64 M pixels: between 1x and 2x the 50 M limit"),
        HostileFile("tiff_frames", "frames.tiff", _tiff_frames(200), "refused",
                    "too_many_pages", "a TIFF of 200 frames"),
        HostileFile("zero_bytes", "empty.pdf", b"", "refused", "empty", "zero bytes"),
        HostileFile("one_byte", "one.png", b"x", "refused", "unsupported_type", "one byte"),
        HostileFile("name_traversal", "../../etc/passwd.pdf", good, "stored", "",
                    "a file name that climbs out of the folder"),
        HostileFile("name_markup", '<img src=x onerror=alert(1)>".pdf', good, "stored", "",
                    "a file name with HTML"),
        HostileFile("name_controls", "pay\r\nSet-Cookie: x=1\u202egpj.pdf", good, "stored", "",
                    "a file name with CR LF and a right-to-left override"),
        HostileFile("name_long", "a" * 400 + ".pdf", good, "stored", "", "a 404-character name"),
    )  # fmt: skip


def plain_pdf() -> bytes:
    """A harmless one-page PDF with text, to prove a batch goes on after a hostile file."""
    return pdf_bytes(pages=1)
