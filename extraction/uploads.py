"""Checking an upload before anything is stored: its real type, size and pages.

The type comes from the file's content, never from its name or the browser's claim.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

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
    """Decide what the bytes are and whether we can accept them, or raise UploadRejected."""
    max_bytes = settings.UPLOAD_MAX_BYTES
    max_pages = settings.UPLOAD_MAX_PAGES
    name = f"“{filename}”" if filename else "This file"
    if not data:
        raise UploadRejected("empty", f"{name} is empty. Choose the file again, or scan it anew.")
    if len(data) > max_bytes:
        raise UploadRejected(
            "too_large",
            f"{name} is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{max_bytes / 1_048_576:.0f} MB. Scan it at a lower resolution or split it.",
        )
    digest = hashlib.sha256(data).hexdigest()
    if data.lstrip()[:5] == b"%PDF-":
        media_type, pages, metadata = "application/pdf", *_inspect_pdf(data, name)
    else:
        media_type, pages, metadata = _inspect_image(data, name)
    if pages > max_pages:
        raise UploadRejected(
            "too_many_pages",
            f"{name} has {pages} pages; the limit is {max_pages}. "
            "Upload the pages we need as a smaller file.",
        )
    return InspectedUpload(media_type, pages, len(data), digest, metadata)


def _inspect_pdf(data: bytes, name: str) -> tuple[int, dict]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # An empty user password still opens many "protected" PDFs (owner password only).
            try:
                unlocked = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises several types for unknown ciphers
                unlocked = 0
            if not unlocked:
                raise UploadRejected(
                    "password_protected",
                    f"{name} is protected by a password, so we cannot read it. Open it, "
                    "save or print it as a PDF without a password, and upload that copy.",
                )
        pages = len(reader.pages)
        info = reader.metadata or {}
        metadata = {
            key.lstrip("/").lower(): str(value)
            for key, value in info.items()
            if key in ("/Producer", "/Creator", "/CreationDate", "/ModDate", "/Title")
        }
    except UploadRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UploadRejected(
            "corrupt",
            f"{name} looks like a PDF but is damaged, so we cannot open it. "
            "Download or export it again and upload the new copy.",
        ) from exc
    if pages == 0:
        raise UploadRejected("no_pages", f"{name} has no pages. Upload the full document.")
    return pages, metadata


def _inspect_image(data: bytes, name: str) -> tuple[str, int, dict]:
    _register_heif()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            frames = getattr(image, "n_frames", 1)
            width, height = image.size
    except Image.DecompressionBombError as exc:
        raise UploadRejected(
            "too_large",
            f"{name} is an image of too many pixels to process safely. "
            "Scan or photograph it at a lower resolution.",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRejected(
            "unsupported_type",
            f"{name} is not a file type we can read. Upload {ACCEPTED_DESCRIPTION}.",
        ) from exc
    media_type = IMAGE_FORMATS.get(image_format or "")
    if media_type is None:
        raise UploadRejected(
            "unsupported_type",
            f"{name} is a {image_format} image, which we cannot read. "
            f"Upload {ACCEPTED_DESCRIPTION}.",
        )
    if media_type != "image/tiff":
        frames = 1
    return media_type, frames, {"width": width, "height": height}
