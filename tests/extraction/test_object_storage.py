"""Originals and page images in an S3-compatible bucket (moto's server on 127.0.0.1).

The web side is this test process; the worker is a real `celery worker` process with a local
folder of its own. They share nothing but the database, Redis and the bucket, as two machines
would: the worker reads the original the web side stored, the web side streams the pages the
worker rendered, and neither local folder gets a single file.
"""

from __future__ import annotations

import pytest
from botocore.config import Config
from django.core.files.storage import storages
from django.urls import reverse
from storages.backends.s3 import S3Storage

from applications.services import application_create
from extraction.models import Document
from extraction.services import document_upload
from tests.builders import pdf_bytes, upload
from tests.waiting import document_finished

PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


@pytest.fixture
def applicant(django_user_model):
    return django_user_model.objects.create_user(email="jordan@example.com", password="x")


@pytest.fixture
def application(applicant):
    return application_create(owner=applicant, stated_name="Jordan A. Rivera")


def files_under(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_private_storage_is_the_bucket_and_hands_out_no_signed_links(s3_bucket, s3_server):
    storage = storages["private"]
    name = storage.save("originals/1/probe.pdf", upload("probe.pdf", b"%PDF-1.4 probe"))

    assert type(storage).__name__ == "S3Storage"
    assert s3_server.keys(s3_bucket) == [name]
    # A URL exists (Django asks for one) but carries no signature, so it opens nothing on a
    # private bucket: the only way to the bytes is a permission-checked view.
    assert "Signature" not in storage.url(name) and "X-Amz" not in storage.url(name)
    grants = s3_server.client().get_object_acl(Bucket=s3_bucket, Key=name)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI") in PUBLIC_GROUPS]


def test_a_second_file_under_a_taken_name_never_replaces_the_first(s3_bucket, s3_server):
    storage = storages["private"]
    first = storage.save("pages/1/page-001.png", upload("page-001.png", b"first"))
    second = storage.save("pages/1/page-001.png", upload("page-001.png", b"second"))

    assert first != second
    assert s3_server.read(s3_bucket, first) == b"first"


@pytest.mark.worker
def test_a_worker_and_the_web_side_share_nothing_but_the_database_the_broker_and_the_bucket(
    s3_bucket,
    s3_server,
    start_worker,
    application,
    applicant,
    shipped_types,
    client_for,
    django_user_model,
    settings,
    tmp_path,
):
    worker_folder = tmp_path / "worker-files"
    worker_folder.mkdir()
    worker = start_worker(
        **s3_server.env(s3_bucket),
        PRIVATE_STORAGE_ROOT=str(worker_folder),
        AUDIT_SEAL_PATH=str(tmp_path / "seal" / "seal.log"),
    )
    original = pdf_bytes(2, title="Stored in the bucket")

    document = document_upload(
        application=application,
        uploaded_file=upload("stub.pdf", original),
        actor=applicant,
        document_type=shipped_types["pay_stub"],
    )
    document_finished(document, worker=worker)

    assert document.status in Document.FINISHED
    assert document.pages.count() == 2, worker.output()[-3000:]
    keys = s3_server.keys(s3_bucket)
    assert keys == sorted(
        [document.original.name, *(page.image.name for page in document.pages.all())]
    )
    assert s3_server.read(s3_bucket, document.original.name) == original

    me = client_for(applicant)
    response = me.get(reverse("document_original", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == original
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "no-store"
    page = document.pages.get(number=2)
    response = me.get(reverse("page_image", args=[document.pk, 2]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == s3_server.read(s3_bucket, page.image.name)

    stranger = django_user_model.objects.create_user(email="someone@example.com", password="x")
    assert client_for(stranger).get(reverse("page_image", args=[document.pk, 2])).status_code == 404
    assert files_under(settings.PRIVATE_STORAGE_ROOT) == []
    assert files_under(worker_folder) == []


def test_a_file_missing_from_the_bucket_is_a_plain_404(
    s3_bucket, s3_server, application, applicant, shipped_types, client_for
):
    document = document_upload(
        application=application,
        uploaded_file=upload("stub.pdf", pdf_bytes()),
        actor=applicant,
        document_type=shipped_types["pay_stub"],
    )
    s3_server.client().delete_object(Bucket=s3_bucket, Key=document.original.name)

    response = client_for(applicant).get(reverse("document_original", args=[document.pk]))

    assert response.status_code == 404


def test_a_store_that_does_not_answer_is_a_plain_try_again_not_a_server_error(
    s3_bucket, application, applicant, shipped_types, client_for, monkeypatch
):
    document = document_upload(
        application=application,
        uploaded_file=upload("stub.pdf", pdf_bytes()),
        actor=applicant,
        document_type=shipped_types["pay_stub"],
    )
    nobody_listens = S3Storage(
        bucket_name=s3_bucket,
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        querystring_auth=False,
        client_config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    monkeypatch.setattr(Document._meta.get_field("original"), "storage", nobody_listens)

    response = client_for(applicant).get(reverse("document_original", args=[document.pk]))

    assert response.status_code == 503
    assert b"try again" in response.content
    assert response["Retry-After"] == "60"
