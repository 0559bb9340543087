"""Where originals and page images live: a local folder or an S3-compatible bucket.

``file_storages`` returns the "default" and "private" entries of Django's ``STORAGES``. Both
point at the same place, so nothing Attest stores ends up anywhere else.

- ``local``: a folder (``PRIVATE_STORAGE_ROOT``) outside every web-served root; one machine, or
  several sharing a network volume.
- ``s3``: any S3-compatible store through django-storages (AWS S3, MinIO, Ceph, R2, GCS's XML
  API...). Objects are private: no ACL is sent unless ``AWS_DEFAULT_ACL`` asks for one (the
  bucket's own policy applies; a new AWS bucket has ACLs off and blocks public access), and the
  storage never signs a URL (``querystring_auth`` off), so the only way to a file is through the
  permission-checked views, which read it with ``storage.open``. An existing name is never
  overwritten (as on a folder), so a page image a past reading points at stays as it was.
  Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` in
  the environment, ``AWS_PROFILE``, or the machine's instance role); they are not settings.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KINDS = ("local", "s3")


def file_storages(
    *,
    kind: str,
    root: Path | str,
    bucket: str = "",
    endpoint_url: str = "",
    region: str = "",
    prefix: str = "",
    addressing_style: str = "",
    default_acl: str = "",
) -> dict[str, dict]:
    """The ``STORAGES`` entries "default" and "private" for ``kind`` ("local" or "s3").

    ``root`` is the folder for ``local``; the other arguments are for ``s3`` (``endpoint_url``
    empty means AWS itself; ``prefix`` is a key prefix inside the bucket). Raises
    ImproperlyConfigured for an unknown kind or ``s3`` without a bucket.
    """
    if kind == "local":
        backend = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        }
    elif kind == "s3":
        if not bucket:
            raise ImproperlyConfigured(
                "ATTEST_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME (the bucket for originals and "
                "page images)."
            )
        backend = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint_url or None,
                "region_name": region or None,
                "location": prefix.strip("/"),
                "addressing_style": addressing_style or None,
                "default_acl": default_acl or None,
                "querystring_auth": False,
                "file_overwrite": False,
            },
        }
    else:
        raise ImproperlyConfigured(
            f"ATTEST_STORAGE must be one of {', '.join(KINDS)}, not {kind!r}."
        )
    return {"default": backend, "private": {**backend, "OPTIONS": dict(backend["OPTIONS"])}}


def file_storages_from_env(env, root: Path | str) -> dict[str, dict]:
    """``file_storages`` from the environment: ATTEST_STORAGE (``local``, or ``s3`` by default
    when AWS_STORAGE_BUCKET_NAME is set), AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL,
    AWS_S3_REGION_NAME, AWS_LOCATION, AWS_S3_ADDRESSING_STYLE, AWS_DEFAULT_ACL."""
    bucket = env("AWS_STORAGE_BUCKET_NAME", default="")
    return file_storages(
        kind=env("ATTEST_STORAGE", default="s3" if bucket else "local"),
        root=root,
        bucket=bucket,
        endpoint_url=env("AWS_S3_ENDPOINT_URL", default=""),
        region=env("AWS_S3_REGION_NAME", default=env("AWS_DEFAULT_REGION", default="")),
        prefix=env("AWS_LOCATION", default=""),
        addressing_style=env("AWS_S3_ADDRESSING_STYLE", default=""),
        default_acl=env("AWS_DEFAULT_ACL", default=""),
    )
