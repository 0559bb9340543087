"""Where files go is chosen by settings alone: a local folder, or any S3-compatible bucket."""

from __future__ import annotations

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.storage import file_storages_from_env


def storages_for(monkeypatch, **variables: str) -> dict:
    for name in ("ATTEST_STORAGE", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return file_storages_from_env(environ.Env(), "/srv/attest/files")


def test_without_storage_settings_files_go_to_the_local_folder(monkeypatch):
    chosen = storages_for(monkeypatch)

    assert chosen["private"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert chosen["private"]["OPTIONS"]["location"] == "/srv/attest/files"
    assert chosen["default"] == chosen["private"]


def test_a_bucket_sends_every_file_to_it_private_and_never_overwritten(monkeypatch):
    chosen = storages_for(
        monkeypatch,
        AWS_STORAGE_BUCKET_NAME="lender-files",
        AWS_S3_ENDPOINT_URL="https://minio.internal:9000",
        AWS_S3_REGION_NAME="eu-west-1",
        AWS_LOCATION="attest/",
    )

    for alias in ("default", "private"):
        assert chosen[alias]["BACKEND"] == "storages.backends.s3.S3Storage"
        options = chosen[alias]["OPTIONS"]
        assert options["bucket_name"] == "lender-files"
        assert options["endpoint_url"] == "https://minio.internal:9000"
        assert options["region_name"] == "eu-west-1"
        assert options["location"] == "attest"
        assert options["querystring_auth"] is False
        assert options["file_overwrite"] is False
        assert options["default_acl"] is None


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"ATTEST_STORAGE": "s3"}, "needs AWS_STORAGE_BUCKET_NAME"),
        ({"ATTEST_STORAGE": "ftp"}, "must be one of local, s3"),
    ],
)
def test_a_storage_setting_that_cannot_work_stops_the_start_with_a_reason(
    monkeypatch, variables, message
):
    with pytest.raises(ImproperlyConfigured, match=message):
        storages_for(monkeypatch, **variables)
