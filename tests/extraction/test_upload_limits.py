"""Oversized uploads are refused while they arrive: the body is not read to its end."""

from __future__ import annotations

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from django.urls import reverse

from applications.services import application_create
from extraction.models import Document
from tests.builders import pdf_bytes

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024
BOUNDARY = "----attest-boundary"
CSRF = "a" * 32


class CountingBody(io.RawIOBase):
    """A multipart body of any size, made up as it is read, that counts the bytes read."""

    def __init__(self, parts: list[tuple[str, str, bytes | int]]):
        self.pieces = []
        for field, filename, content in parts:
            head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"'
            if filename:
                head += f'; filename="{filename}"\r\nContent-Type: application/pdf'
            self.pieces.append(head.encode() + b"\r\n\r\n")
            self.pieces.append(content)  # bytes, or a count of filler bytes
            self.pieces.append(b"\r\n")
        self.pieces.append(f"--{BOUNDARY}--\r\n".encode())
        self.length = sum(p if isinstance(p, int) else len(p) for p in self.pieces)
        self.read_bytes = 0
        self.index = 0
        self.offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self.index < len(self.pieces):
            piece = self.pieces[self.index]
            size = piece if isinstance(piece, int) else len(piece)
            if self.offset < size:
                count = min(len(buffer), size - self.offset)
                if isinstance(piece, int):
                    buffer[:count] = b"x" * count
                else:
                    buffer[:count] = piece[self.offset : self.offset + count]
                self.offset += count
                self.read_bytes += count
                return count
            self.index += 1
            self.offset = 0
        return 0


@pytest.fixture
def signed_in(django_user_model):
    owner = django_user_model.objects.create_user(email="ann@example.com", password="x")
    application = application_create(owner=owner, stated_name="Ann Example")
    client = Client()
    client.force_login(owner)
    return application, client.cookies["sessionid"].value


def _post(application, session: str, body: CountingBody):
    """POST the body through Django's own WSGI handler, as a server would (JSON answer)."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("application_detail", args=[application.pk]),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BufferedReader(body, buffer_size=64 * 1024),
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(body.length),
        "HTTP_ACCEPT": "application/json",
        "HTTP_COOKIE": f"sessionid={session}; csrftoken={CSRF}",
        "HTTP_X_CSRFTOKEN": CSRF,
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])

    content = b"".join(WSGIHandler()(environ, start_response))
    return answer["status"], json.loads(content)


def test_a_300_mb_upload_is_refused_unread_with_its_true_size(signed_in):
    application, session = signed_in
    body = CountingBody([("document_type", "", b""), ("files", "huge.pdf", 300 * MB)])

    status, answer = _post(application, session, body)

    assert status == 400
    assert body.read_bytes == 0
    (message,) = answer["errors"]
    assert "300.0 MB" in message and "25.0 MB" not in message
    assert not Document.objects.exists()


def test_a_file_over_the_limit_stops_the_reading_there_and_earlier_files_are_kept(signed_in):
    application, session = signed_in
    body = CountingBody(
        [
            ("document_type", "", b""),
            ("files", "small.pdf", pdf_bytes(1)),
            ("files", "big.pdf", 80 * MB),
            ("files", "after.pdf", pdf_bytes(1)),
        ]
    )

    status, answer = _post(application, session, body)

    assert status == 400
    # What was read: the first file, the limit of the second, and one read-ahead buffer.
    assert body.read_bytes <= 25 * MB + 2 * 64 * 1024 + 4096
    assert body.read_bytes < body.length / 3
    (message,) = answer["errors"]
    assert "“big.pdf” is about 80.0 MB" in message
    assert list(Document.objects.values_list("original_name", flat=True)) == ["small.pdf"]
