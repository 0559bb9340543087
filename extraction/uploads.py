"""Checking an upload before anything is stored: its real type, size and pages.

The type comes from the file's content, never from its name or the browser's claim. The file
is parsed in a sandboxed child process (``sandbox.py``) with a memory cap and a time limit, so a
hostile file costs at most the child; whatever goes wrong, the caller gets ``UploadRejected``
with a plain message and the other files of a batch go on.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from . import sandbox

logger = logging.getLogger(__name__)

# Pillow format name -> media type we accept.
IMAGE_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # some phone cameras write JPEGs as MPO
    "TIFF": "image/tiff",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
}
ACCEPTED_DESCRIPTION = "a PDF, or a photo or scan as PNG, JPEG, TIFF, WebP or HEIC"
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/tiff": "tiff",
    "image/webp": "webp",
    "image/heic": "heic",
}


class UploadRejected(Exception):
    """An upload we will not store. ``message`` tells the applicant what to do."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class InspectedUpload:
    media_type: str
    page_count: int
    size: int
    sha256: str
    metadata: dict = field(default_factory=dict)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.media_type]


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # HEIC support is optional; other formats still work
        return
    register_heif_opener()


def inspect_upload(data: bytes, *, filename: str = "") -> InspectedUpload:
    """Decide what the bytes are and whether we can accept them, or raise UploadRejected.

    Never raises anything else: a parser that runs out of memory or time, or fails in a way
    nobody foresaw, is a refusal of this one file with a plain message.
    """
    max_bytes = settings.UPLOAD_MAX_BYTES
    name = f"“{filename}”" if filename else "This file"
    if not data:
        raise UploadRejected("empty", f"{name} is empty. Choose the file again, or scan it anew.")
    if len(data) > max_bytes:
        raise UploadRejected("too_large", too_large_message(name, len(data)))
    digest = hashlib.sha256(data).hexdigest()
    options = {
        "name": name,
        "max_pages": settings.UPLOAD_MAX_PAGES,
        "max_image_pixels": settings.PARSE_MAX_IMAGE_PIXELS,
        "max_stream_bytes": settings.PARSE_MAX_STREAM_BYTES,
    }
    limits = sandbox.limits_from_settings(seconds=settings.PARSE_TIME_LIMIT_SECONDS)
    try:
        items = list(sandbox.run("inspect", data=data, options=options, limits=limits))
        facts = items[0][0]
        # Checked here, as a child gone wrong may answer anything: a page count or nothing.
        inspected = InspectedUpload(
            str(facts["media_type"]),
            int(facts["pages"]),
            len(data),
            digest,
            dict(facts.get("metadata") or {}),
        )
    except sandbox.Refused as refusal:
        raise UploadRejected(refusal.code, refusal.message) from refusal
    except sandbox.SandboxFailed as failure:
        raise UploadRejected(failure.code, sandbox_failure_message(name, failure.code)) from failure
    except Exception as error:  # noqa: BLE001 - one unforeseen failure must not stop a batch
        logger.exception("Inspecting an upload failed")
        raise UploadRejected("crashed", sandbox_failure_message(name, "crashed")) from error
    return inspected


def too_large_message(name: str, size: int) -> str:
    """The refusal of a file of ``size`` bytes (its true size, or at least what was sent)."""
    max_bytes = settings.UPLOAD_MAX_BYTES
    return (
        f"{name} is {size / 1_048_576:.1f} MB; the limit is {max_bytes / 1_048_576:.0f} MB. "
        "Scan it at a lower resolution or split it."
    )


def sandbox_failure_message(name: str, code: str) -> str:
    """Plain words for a file whose parsing ran out of memory or time, or failed."""
    if code == "memory":
        return (
            f"{name} needs more memory to open than we allow for one file, so we did not keep "
            "it. Save or print it as a new PDF, or scan it at a lower resolution, and upload "
            "that copy."
        )
    if code == "timeout":
        return (
            f"{name} took too long to open, so we did not keep it. Save or print it as a new "
            "PDF and upload that copy."
        )
    return (
        f"{name} could not be opened: it is damaged, or too large or complex to open safely. "
        "Save or print it as a new PDF, or export it again, and upload that copy."
    )


# --- in the sandboxed child ------------------------------------------------------------------


def inspect_in_child(data: bytes, options: dict) -> Iterator[tuple[dict, None]]:
    """The sandbox job: one item ``{"media_type", "pages", "metadata"}`` or ``sandbox.Refused``.

    ``options``: name (for messages), max_pages, max_image_pixels, max_stream_bytes.
    """
    name = options["name"]
    if data.lstrip()[:5] == b"%PDF-":
        media_type, (pages, metadata) = "application/pdf", _inspect_pdf(data, options)
    else:
        media_type, pages, metadata = _inspect_image(data, options)
    if pages > options["max_pages"]:
        raise _too_many_pages(name, pages, options["max_pages"])
    yield {"media_type": media_type, "pages": pages, "metadata": metadata}, None


def _too_many_pages(name: str, pages: int | str, max_pages: int) -> sandbox.Refused:
    return sandbox.Refused(
        "too_many_pages",
        f"{name} has {pages} pages; the limit is {max_pages}. "
        "Upload the pages we need as a smaller file.",
    )


def _corrupt(name: str) -> sandbox.Refused:
    return sandbox.Refused(
        "corrupt",
        f"{name} looks like a PDF but is damaged, so we cannot open it. "
        "Download or export it again and upload the new copy.",
    )


def _locked(name: str) -> sandbox.Refused:
    return sandbox.Refused(
        "password_protected",
        f"{name} is protected by a password, so we cannot read it. Open it, "
        "save or print it as a PDF without a password, and upload that copy.",
    )


def _unsupported_encryption(name: str) -> sandbox.Refused:
    return sandbox.Refused(
        "encryption_unsupported",
        f"{name} is locked with a kind of protection we cannot open. Open it, save or print it "
        "as a PDF without protection, and upload that copy.",
    )


def warm_child() -> None:
    """What an upload-check zygote loads before it forks (``sandbox.WARM``): pypdf and PDFium,
    which a cold child imports only for a PDF (``_inspect_pdf``)."""
    import pypdf  # noqa: F401
    import pypdfium2  # noqa: F401


def _inspect_pdf(data: bytes, options: dict) -> tuple[int, dict]:
    # Imported here, in the sandboxed child: a cold child inspecting an image need not spend
    # the quarter second that loading pypdf (and its cryptography) and PDFium costs (a child
    # forked by the zygote has them already: ``warm_child``).
    import pypdf
    import pypdfium2 as pdfium
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PdfReadError

    name = options["name"]
    cap = int(options["max_stream_bytes"])
    # Every decoder pypdf has stops at the cap instead of filling memory (a flate bomb).
    pypdf.overwrite_configuration(
        zlib_maximum_output_length=cap,
        lzw_maximum_output_length=cap,
        run_length_maximum_output_length=cap,
        jbig2_maximum_output_length=cap,
        array_based_stream_maximum_output_length=cap,
        maximum_declared_stream_length=cap,
        image_maximum_buffer_size=cap,
    )
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # An empty user password opens PDFs protected by an owner password only (AES-128,
            # AES-256 or RC4); anything else is a password we do not have, or a cipher we lack.
            try:
                unlocked = reader.decrypt("")
            except (NotImplementedError, DependencyError, PdfReadError) as exc:
                raise _unsupported_encryption(name) from exc
            if not unlocked:
                raise _locked(name)
        pages = len(reader.pages)
        if pages > options["max_pages"]:
            raise _too_many_pages(name, pages, options["max_pages"])
        if pages == 0:
            raise sandbox.Refused("no_pages", f"{name} has no pages. Upload the full document.")
        _decode_every_stream(reader)
        info = reader.metadata or {}
        metadata = {
            key.lstrip("/").lower(): str(value)
            for key, value in info.items()
            if key in ("/Producer", "/Creator", "/CreationDate", "/ModDate", "/Title")
        }
    except sandbox.Refused:
        raise
    except (NotImplementedError, DependencyError) as exc:
        # pypdf's word for a security handler or cipher it does not implement.
        raise _unsupported_encryption(name) from exc
    except LimitReachedError as exc:
        raise sandbox.Refused(
            "too_complex",
            f"{name} holds more data than we can safely open (a part of it unpacks to over "
            f"{cap // 1_048_576} MB). Save or print it as a new PDF and upload that copy.",
        ) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise _corrupt(name) from exc
    # PDFium renders the pages later: it must open the file too (same encryption, same xref).
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise _locked(name) from exc
        raise _corrupt(name) from exc
    try:
        if len(document) != pages:
            logger.info("pypdf counts %s pages, PDFium %s", pages, len(document))
        metadata[TEXT_LAYER_KEY] = _first_page_has_text(document)
    finally:
        document.close()
    return pages, metadata


# In an uploaded PDF's metadata: whether its first page has a text layer (a born-digital file,
# whose pages render in milliseconds each) or not (a scan, read by OCR at seconds a page).
TEXT_LAYER_KEY = "first_page_text_layer"


def _first_page_has_text(document) -> bool:
    """Whether PDFium finds characters in the text layer of the PDF's first page; False when
    it cannot load that page (the renderer then says what is wrong, as before this fact was
    noted: a page that fails here must not refuse a file that was accepted)."""
    import pypdfium2 as pdfium  # see _inspect_pdf

    try:
        page = document[0]
    except (pdfium.PdfiumError, IndexError):
        return False
    try:
        textpage = page.get_textpage()
        try:
            return textpage.count_chars() > 0
        finally:
            textpage.close()
    except pdfium.PdfiumError:
        return False
    finally:
        page.close()


def _decode_every_stream(reader) -> None:
    """Unpack each stream of a ``pypdf.PdfReader`` once, so that a decompression bomb is refused
    at upload (each stream stops at the configured cap) and not found later by the renderer."""
    from pypdf.generic import IndirectObject, StreamObject  # see _inspect_pdf

    for generation, objects in list(reader.xref.items()):
        for number in list(objects):
            stream = IndirectObject(number, generation, reader).get_object()
            if isinstance(stream, StreamObject):
                stream.get_data()


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # HEIC support is optional; other formats still work
        return
    register_heif_opener()


def _too_many_pixels(name: str) -> sandbox.Refused:
    return sandbox.Refused(
        "too_many_pixels",
        f"{name} is an image of too many pixels to process safely. "
        "Scan or photograph it at a lower resolution.",
    )


def _inspect_image(data: bytes, options: dict) -> tuple[str, int, dict]:
    name = options["name"]
    max_pixels = int(options["max_image_pixels"])
    _register_heif()
    # Pillow only warns between its limit and twice it; here the limit itself refuses.
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            width, height = image.size
            if width * height > max_pixels:
                raise _too_many_pixels(name)
            image.verify()
        media_type = IMAGE_FORMATS.get(image_format or "")
        frames = 1
        if media_type is not None:
            # Decode every page once, within the memory cap, so that a broken file is
            # refused now rather than failing later in the reading.
            with Image.open(io.BytesIO(data)) as image:
                if media_type == "image/tiff":
                    frames = _frames_within(image, name, max_pixels, options["max_pages"])
                    for index in range(frames):
                        image.seek(index)
                        image.load()
                else:
                    image.load()
    except sandbox.Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(name) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise sandbox.Refused(
            "unsupported_type",
            f"{name} is not a file type we can read. Upload {ACCEPTED_DESCRIPTION}.",
        ) from exc
    if media_type is None:
        raise sandbox.Refused(
            "unsupported_type",
            f"{name} is a {image_format} image, which we cannot read. "
            f"Upload {ACCEPTED_DESCRIPTION}.",
        )
    return media_type, frames, {"width": width, "height": height}


def _frames_within(image: Image.Image, name: str, max_pixels: int, max_pages: int) -> int:
    """The number of frames (pages), each checked against the pixel limit; stops counting one
    past ``max_pages`` so that a TIFF of a million frames is not walked to its end."""
    frames = 0
    while True:
        width, height = image.size
        if width * height > max_pixels:
            raise _too_many_pixels(name)
        frames += 1
        if frames > max_pages:
            raise _too_many_pages(name, f"more than {max_pages}", max_pages)
        try:
            image.seek(frames)
        except EOFError:
            break
        except (ValueError, AttributeError):  # formats without frames
            break
    image.seek(0)
    return frames
