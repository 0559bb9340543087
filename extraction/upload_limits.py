"""Refusing an oversized upload while it is received, not after.

``SizeLimitUploadHandler`` runs first among Django's upload handlers. A request whose declared
length passes ``UPLOAD_MAX_REQUEST_BYTES`` is refused before one byte of its body is read; a
file that grows past ``UPLOAD_MAX_BYTES`` stops the reading at that point (the files before it
are kept and stored as usual). Each refusal is a plain message with the size that was sent,
for the upload view to show (``upload_refusals``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

# Bytes of multipart framing around one file (boundary and part headers), at most.
PART_OVERHEAD = 1024
_ATTRIBUTE = "attest_upload_refusals"


def upload_refusals(request) -> list[str]:
    """Plain messages for uploads refused while the request was received (parses the body)."""
    request.POST  # noqa: B018 - reading the body runs the handlers that record refusals
    return list(getattr(request, _ATTRIBUTE, []))


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


class SizeLimitUploadHandler(FileUploadHandler):
    """Counts what arrives and stops reading at the limits (see the module docstring)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request_length = content_length
        self.before_this_file = 0  # bytes of the files already received in this request
        self.file_bytes = 0
        limit = settings.UPLOAD_MAX_REQUEST_BYTES
        if content_length > limit:
            self._refuse(
                f"This upload is {_mb(content_length)}; one upload may hold at most "
                f"{limit / 1_048_576:.0f} MB, and each file at most "
                f"{settings.UPLOAD_MAX_BYTES / 1_048_576:.0f} MB. Choose fewer files at a "
                "time, or scan large ones at a lower resolution or split them."
            )
            # Parsed as empty: the body is never read.
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file_bytes = 0

    def receive_data_chunk(self, raw_data, start):
        self.file_bytes += len(raw_data)
        limit = settings.UPLOAD_MAX_BYTES
        if self.file_bytes > limit:
            # The rest is never read, so the file's size is what the request declared less
            # what came before it: exact for one file, an upper bound otherwise.
            size = max(self.request_length - self.before_this_file - PART_OVERHEAD, self.file_bytes)
            self._refuse(
                f"“{self.file_name}” is about {_mb(size)}; the limit is "
                f"{limit / 1_048_576:.0f} MB. Scan it at a lower resolution or split it. "
                "Files chosen after it were not received; upload them again."
            )
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        self.before_this_file += file_size + PART_OVERHEAD
        return None

    def _refuse(self, message: str) -> None:
        if self.request is not None:
            refusals = getattr(self.request, _ATTRIBUTE, [])
            refusals.append(message)
            setattr(self.request, _ATTRIBUTE, refusals)
