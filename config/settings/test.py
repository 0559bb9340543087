"""Tests: the same app, only faster. The database comes from DATABASE_URL (SQLite by default)."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env
from .storage import file_storages_from_env

SECRET_KEY = "test-only-secret-key"  # noqa: S105
AUDIT_HMAC_KEY = "test-only-audit-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
PRIVATE_STORAGE_ROOT = Path(
    env("PRIVATE_STORAGE_ROOT", default=tempfile.mkdtemp(prefix="attest-test-files-"))
)
# Local files by default; ATTEST_STORAGE=s3 (with a bucket) for the storage tests' processes.
STORAGES.update(file_storages_from_env(env, PRIVATE_STORAGE_ROOT))  # noqa: F405
AUDIT_SEAL_PATH = Path(
    env("AUDIT_SEAL_PATH", default=str(PRIVATE_STORAGE_ROOT / "audit" / "seal.log"))
)
# A developer's own provider settings never leak into tests; worker tests choose theirs.
EXTRACTION_PROVIDER = env("TEST_EXTRACTION_PROVIDER", default="local")
# Tests talk to their own Redis database so that a running `make run` worker never takes
# their tasks.
CELERY_BROKER_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
# A queue of its own per test run, so that two runs on one machine never take each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env("TEST_CELERY_QUEUE", default=f"attest-test-{os.getpid()}")
# Webhooks keep a queue of their own in tests too; the worker fixture listens to both.
WEBHOOK_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}-webhooks"
CELERY_TASK_ROUTES = {"webhooks.*": {"queue": WEBHOOK_QUEUE}}
# The tests' receivers listen on 127.0.0.1 (tests/webhooks/test_safety.py turns this off).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
WEBHOOK_TIMEOUT_SECONDS = 3.0
WEBHOOK_RETRY_DELAYS = [float(delay) for delay in env.list("WEBHOOK_RETRY_DELAYS", default=[1, 1])]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory, so that a Celery worker process can open the same test database.
    # One file per test process, so that parallel runs never share it.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")  # noqa: F405
    }
# Tests that call the pipeline in-process read a document in one go; slicing has its own tests.
EXTRACTION_SLICE_SECONDS = env.float("EXTRACTION_SLICE_SECONDS", default=0)
# Staff sign in with a password alone unless a test turns this on (tests/accounts/test_mfa.py).
ATTEST_REQUIRE_STAFF_MFA = False
