"""Hostile files are contained: each is refused in plain words or stored and read, never a crash.

The corpus (tests/extraction/hostile_corpus.py) is generated here; bench/hostile_files.py prints
the same files' peak memory and time.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from extraction import sandbox
from extraction.ingest import UnreadableDocument, render_pages
from extraction.models import Document
from extraction.pipeline import document_process
from extraction.services import document_upload
from extraction.uploads import UploadRejected, inspect_upload
from tests.builders import upload
from tests.extraction.hostile_corpus import HostileFile, corpus, plain_pdf

pytestmark = pytest.mark.django_db

CASES = Path("/work/shared/cases/reading")
# Words that belong in a log, never in a message to an applicant.
TECHNICAL = re.compile(r"Traceback|Error\b|Exception|pypdf|pdfium|Pillow|errno|0x[0-9a-f]", re.I)
FILES = {hostile.key: hostile for hostile in corpus()}


def _plain(message: str) -> None:
    assert message and not TECHNICAL.search(message), message
    assert message.rstrip().endswith("."), message


def _stored_files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("hostile", corpus(), ids=lambda hostile: hostile.key)
def test_each_hostile_file_is_refused_plainly_or_stored_whole(
    hostile: HostileFile, applicant_application
):
    """Each file gets its expected verdict; a refusal names the file, says what to do in plain
    words and stores nothing; a stored file keeps its bytes and is read or failed plainly."""
    root = Path(django_settings.PRIVATE_STORAGE_ROOT)
    before = _stored_files(root)
    if hostile.expect == "refused":
        with pytest.raises(UploadRejected) as refusal:
            document_upload(
                application=applicant_application,
                uploaded_file=upload(hostile.name, hostile.data),
                actor=applicant_application.owner,
            )
        assert refusal.value.code == hostile.code, refusal.value.message
        _plain(refusal.value.message)
        assert "“" in refusal.value.message  # the applicant sees which file it was
        assert _stored_files(root) == before
        assert not Document.objects.exists()
        return
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload(hostile.name, hostile.data),
        actor=applicant_application.owner,
    )
    with document.original.open("rb") as handle:
        assert handle.read() == hostile.data
    assert "/" not in document.original_name and "\\" not in document.original_name
    assert Path(document.original.path).resolve().is_relative_to(root.resolve())
    try:
        pages = list(
            render_pages(data=hostile.data, media_type=document.media_type, max_pixels=800)
        )
    except UnreadableDocument as error:
        _plain(error.message)
    else:
        assert len(pages) == document.page_count


@pytest.mark.parametrize("key", ["flate_bomb", "nested_bomb"])
def test_a_bomb_stored_before_the_upload_check_fails_plainly_and_keeps_the_original(
    key, applicant_application, shipped_types
):
    """A decompression bomb that reaches the renderer (a file stored before the upload check
    existed) is rendered, or ended, inside the sandboxed child under RENDER_MEMORY_LIMIT_MB,
    never in the worker: the document ends with a plain reason and its original stays."""
    hostile = FILES[key]
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("fine.pdf", plain_pdf()),
        actor=applicant_application.owner,
    )
    with open(document.original.path, "wb") as handle:  # the bomb in the stored file's place
        handle.write(hostile.data)

    document_process(document_id=document.pk)

    document.refresh_from_db()
    # Under the 2048 MB rendering cap (OCR needs it) the bombs of the corpus render as blank
    # pages, so the document waits for typing in; under a smaller cap the child is ended and
    # the document fails. Either way the reason is plain and nothing reached the worker.
    assert (document.status, document.reason_code) in {
        (Document.Status.FAILED, "unreadable_file"),
        (Document.Status.NEEDS_MANUAL_ENTRY, "unreadable"),
        (Document.Status.NEEDS_MANUAL_ENTRY, "unknown_type"),
    }
    _plain(document.reason)
    with document.original.open("rb") as handle:
        assert handle.read() == hostile.data


@pytest.mark.parametrize("key", ["flate_bomb", "nested_bomb", "huge_pdf_image"])
def test_rendering_stays_within_the_memory_cap(key):
    """The child that renders a bomb is capped: its peak memory never passes the setting."""
    report = sandbox.RunReport()
    limits = sandbox.limits_from_settings(seconds=120)
    options = {
        "media_type": "application/pdf",
        "max_pixels": 800,
        "max_image_pixels": django_settings.PARSE_MAX_IMAGE_PIXELS,
        "max_pages": 50,
    }
    with contextlib.suppress(sandbox.Refused, sandbox.SandboxFailed):
        list(
            sandbox.run(
                "render", data=FILES[key].data, options=options, limits=limits, report=report
            )
        )
    assert 0 < report.peak_rss_bytes <= limits.memory_bytes
    assert report.outcome in {"done", "refused", "memory", "crashed"}


def test_a_child_that_outlives_its_time_limit_is_ended(settings):
    """A parse that takes longer than the limit is refused as too slow, and the child is gone."""
    settings.PARSE_TIME_LIMIT_SECONDS = 0.05  # shorter than starting an interpreter
    settings.SANDBOX_ZYGOTES = False  # a cold child, as this test is about its start
    sandbox.zygotes_close()
    with pytest.raises(UploadRejected) as refusal:
        inspect_upload(plain_pdf(), filename="slow.pdf")
    assert refusal.value.code == "timeout"
    _plain(refusal.value.message)


def test_a_batch_goes_on_after_every_hostile_file(client_for, applicant_application):
    """One upload of the whole corpus plus good files: no error page, every good file stored,
    one plain message per refused file."""
    files = [upload(hostile.name, hostile.data) for hostile in corpus()]
    aes = sorted(CASES.glob("b09_*.pdf")) if CASES.exists() else []
    files += [upload(path.name, path.read_bytes()) for path in aes]
    files.append(upload("last.pdf", plain_pdf()))
    client = client_for(applicant_application.owner)

    response = client.post(
        reverse("application_detail", args=[applicant_application.pk]),
        {"upload": "1", "document_type": "", "files": files},
        HTTP_ACCEPT="application/json",
    )

    refused = [hostile for hostile in corpus() if hostile.expect == "refused"]
    # Files the corpus stores with the same bytes (hostile names on one plain PDF) are one file
    # uploaded twice: the second and later copies are refused as duplicates, each plainly.
    kept = [h.data for h in corpus() if h.expect == "stored"]
    kept += [path.read_bytes() for path in aes] + [plain_pdf()]
    unique = {hashlib.sha256(data).hexdigest() for data in kept}
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == len(refused) + len(kept) - len(unique)
    for message in errors:
        _plain(re.sub(r"“[^”]*”", "“…”", message))  # the file names are the corpus's own
    names = set(Document.objects.values_list("original_name", flat=True))
    assert {path.name for path in aes} <= names
    assert Document.objects.count() == len(unique)


def test_a_hostile_file_name_is_shown_as_text(client_for, applicant_application):
    """A file name with markup is escaped on the page, never run."""
    hostile = FILES["name_markup"]
    client = client_for(applicant_application.owner)
    client.post(
        reverse("application_detail", args=[applicant_application.pk]),
        {"upload": "1", "document_type": "", "files": [upload(hostile.name, hostile.data)]},
    )
    page = client.get(reverse("application_detail", args=[applicant_application.pk]))
    assert b"<img src=x" not in page.content
    assert b"&lt;img src=x onerror=alert(1)&gt;" in page.content


@pytest.mark.parametrize("key", ["polyglot", "javascript", "name_controls", "name_markup"])
def test_an_original_is_only_ever_a_download(key, client_for, applicant_application):
    """A PDF with script or an HTML disguise comes back as a download, sniffing off, no cache,
    and a sandboxing policy; the name in the header carries no control characters."""
    hostile = FILES[key]
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload(hostile.name, hostile.data),
        actor=applicant_application.owner,
    )
    client = client_for(applicant_application.owner)

    response = client.get(reverse("document_original", args=[document.pk]))

    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/pdf"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert not re.search(r"[\r\n\u202e]", response["Content-Disposition"])
    assert b"".join(response.streaming_content) == hostile.data


@pytest.mark.parametrize(
    ("key", "media_type"), [("pages_10000", "application/pdf"), ("tiff_frames", "image/tiff")]
)
def test_rendering_refuses_more_pages_than_allowed_before_rendering_any(key, media_type):
    """A file stored before the page check is refused by the renderer up front, not after
    rendering (and reading by OCR) fifty pages of it."""
    with pytest.raises(UnreadableDocument) as refusal:
        list(render_pages(data=FILES[key].data, media_type=media_type, max_pixels=400))
    assert "the limit is 50" in refusal.value.message
    _plain(refusal.value.message)


@pytest.mark.parametrize("key", ["flate_bomb", "nested_bomb"])
def test_under_a_small_rendering_cap_a_stored_bomb_ends_its_child_and_fails_plainly(
    key, settings, applicant_application, shipped_types
):
    """Where OCR is not needed, a deployment can cap rendering as tightly as the upload check:
    the child is ended at the cap and the document fails with a plain reason."""
    settings.RENDER_MEMORY_LIMIT_MB = 512
    document = document_upload(
        application=applicant_application,
        uploaded_file=upload("fine.pdf", plain_pdf()),
        actor=applicant_application.owner,
    )
    with open(document.original.path, "wb") as handle:
        handle.write(FILES[key].data)

    document_process(document_id=document.pk)

    document.refresh_from_db()
    assert (document.status, document.reason_code) == (Document.Status.FAILED, "unreadable_file")
    _plain(document.reason)
