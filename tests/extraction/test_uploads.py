"""Uploads are checked by content before anything is stored, and bad ones leave no trace."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages

from applications.services import application_create
from audit.seal import seal_append
from extraction.models import Document
from extraction.services import document_upload
from extraction.uploads import UploadRejected, inspect_upload
from tests.builders import pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(django_user_model):
    owner = django_user_model.objects.create_user(email="ann@example.com", password="x")
    return application_create(owner=owner, stated_name="Ann Example")


def stored_files() -> set[str]:
    storage = storages["private"]
    found = set()

    def walk(folder: str) -> None:
        dirs, files = storage.listdir(folder) if storage.exists(folder or ".") else ([], [])
        found.update(f"{folder}/{name}" for name in files)
        for sub in dirs:
            walk(f"{folder}/{sub}" if folder else sub)

    walk("")
    return found


def _sends(callbacks) -> list:
    """The after-commit callbacks other than sealing the audit trail's head."""
    return [c for c in callbacks if getattr(c, "func", None) is not seal_append]


def test_a_pdf_is_stored_unchanged_with_its_hash(application, django_capture_on_commit_callbacks):
    data = pdf_bytes(pages=2)
    with django_capture_on_commit_callbacks() as callbacks:
        document = document_upload(
            application=application, uploaded_file=upload("stub.pdf", data), actor=application.owner
        )
    assert document.media_type == "application/pdf"
    assert document.page_count == 2
    assert document.size == len(data)
    with document.original.open("rb") as handle:
        assert handle.read() == data
    import hashlib

    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.status == Document.Status.QUEUED
    # The worker is asked to read it only once the row is committed (beside sealing the trail).
    assert len(_sends(callbacks)) == 1
    application.refresh_from_db()
    assert application.status == "processing"


def test_the_type_comes_from_content_not_the_name(application):
    document = document_upload(
        application=application,
        uploaded_file=upload("scan.pdf", png_bytes()),
        actor=application.owner,
    )
    assert document.media_type == "image/png"


@pytest.mark.parametrize(
    ("name", "data", "code", "words"),
    [
        ("empty.pdf", b"", "empty", "is empty"),
        ("notes.pdf", b"just some text, not a document", "unsupported_type", "not a file type"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj <<>> garbage", "corrupt", "damaged"),
        ("locked.pdf", pdf_bytes(password="secret"), "password_protected", "password"),
        ("long.pdf", pdf_bytes(pages=4), "too_many_pages", "the limit is 3"),
    ],
)
def test_bad_uploads_are_refused_in_plain_words_and_nothing_is_stored(
    application, settings, name, data, code, words
):
    settings.UPLOAD_MAX_PAGES = 3
    good = document_upload(
        application=application,
        uploaded_file=upload("good.png", png_bytes()),
        actor=application.owner,
    )
    before = stored_files()
    with pytest.raises(UploadRejected) as excinfo:
        document_upload(
            application=application, uploaded_file=upload(name, data), actor=application.owner
        )
    assert excinfo.value.code == code
    assert words in excinfo.value.message
    assert "Traceback" not in excinfo.value.message
    assert stored_files() == before
    assert list(application.documents.all()) == [good]


def test_a_file_over_the_size_limit_is_refused(application, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    with pytest.raises(UploadRejected) as excinfo:
        document_upload(
            application=application,
            uploaded_file=upload("big.png", png_bytes((800, 800), "red") + b"\0" * 2000),
            actor=application.owner,
        )
    assert excinfo.value.code == "too_large"
    assert not application.documents.exists()


def test_a_failed_save_leaves_no_file_behind(application, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("extraction.services.application_documents_changed", explode)
    before = stored_files()
    with pytest.raises(RuntimeError):
        document_upload(
            application=application,
            uploaded_file=upload("a.png", png_bytes()),
            actor=application.owner,
        )
    assert stored_files() == before
    assert not Document.objects.exists()


def test_images_of_every_accepted_format_are_recognised():
    from io import BytesIO

    from PIL import Image

    for fmt, media_type in (("JPEG", "image/jpeg"), ("TIFF", "image/tiff"), ("WEBP", "image/webp")):
        buffer = BytesIO()
        Image.new("RGB", (50, 50), "white").save(buffer, format=fmt)
        assert inspect_upload(buffer.getvalue()).media_type == media_type


def test_a_gif_is_refused_by_name():
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(UploadRejected, match="GIF image"):
        inspect_upload(buffer.getvalue(), filename="x.gif")


def test_a_heic_photo_from_a_phone_is_accepted_and_rendered():
    from io import BytesIO

    from PIL import Image
    from pillow_heif import register_heif_opener

    from extraction.ingest import render_pages

    register_heif_opener()
    buffer = BytesIO()
    Image.new("RGB", (120, 80), "white").save(buffer, format="HEIF")
    inspected = inspect_upload(buffer.getvalue(), filename="IMG_0001.HEIC")
    assert inspected.media_type == "image/heic"
    pages = list(
        render_pages(data=buffer.getvalue(), media_type=inspected.media_type, max_pixels=1600)
    )
    assert len(pages) == 1 and pages[0].image[:2] == b"\xff\xd8"  # a lossy source: a JPEG


def test_a_document_of_unknown_type_is_read_again_once_its_type_is_chosen(
    application, shipped_types, django_capture_on_commit_callbacks
):
    from extraction.services import document_set_type

    document = document_upload(
        application=application, uploaded_file=upload("x.png", png_bytes()), actor=application.owner
    )
    Document.objects.filter(pk=document.pk).update(
        status=Document.Status.NEEDS_MANUAL_ENTRY, reason_code="unknown_type"
    )
    document.refresh_from_db()
    with django_capture_on_commit_callbacks() as callbacks:
        document = document_set_type(
            document=document, document_type=shipped_types["w2"], actor=application.owner
        )
    assert (document.status, document.document_type.key) == (Document.Status.QUEUED, "w2")
    assert len(_sends(callbacks)) == 1
