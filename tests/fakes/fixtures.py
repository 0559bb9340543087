"""Pytest fixtures for the fakes; import them into a conftest to use them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .llm_server import FakeLLMServer
from .s3_server import FakeS3Server


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A fake OpenAI-compatible server on loopback, fresh for each test."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[FakeS3Server]:
    """One moto S3 server on loopback for the run (it takes seconds to start); each test makes
    its own bucket with ``s3_bucket``."""
    server = FakeS3Server(log=tmp_path_factory.mktemp("s3") / "moto.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server, settings, monkeypatch, tmp_path) -> str:
    """A fresh bucket that this test process stores originals and page images in.

    The STORAGES setting points at the bucket, and the two file fields (whose storage Django
    resolves once, when the models load) are pointed at the new "private" storage for the
    test's length. PRIVATE_STORAGE_ROOT becomes an empty folder, so that a test can prove
    nothing was written locally. The bucket's name is returned.
    """
    from django.core.files.storage import storages

    from config.settings.storage import file_storages
    from extraction.models import Document, Page

    bucket = s3_server.create_bucket(f"attest-{uuid.uuid4().hex[:12]}")
    for name, value in s3_server.env(bucket).items():
        monkeypatch.setenv(name, value)
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "web-files"
    settings.PRIVATE_STORAGE_ROOT.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        **file_storages(
            kind="s3",
            root=settings.PRIVATE_STORAGE_ROOT,
            bucket=bucket,
            endpoint_url=s3_server.endpoint_url,
            region="us-east-1",
            addressing_style="path",
        ),
    }
    for model, field in ((Document, "original"), (Page, "image")):
        monkeypatch.setattr(model._meta.get_field(field), "storage", storages["private"])
    return bucket
