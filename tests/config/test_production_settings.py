"""Production settings: secure by default, and no start with a weak secret key."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.secrets import secret_key_problem

ROOT = Path(__file__).resolve().parents[2]
STRONG = secrets.token_urlsafe(60)


def _manage(*args: str, secret_key: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secret_key,
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": "postgres://attest@127.0.0.1:5432/attest",  # never connected to
        "ALLOWED_HOSTS": "attest.example.com",
    }
    # Settings the defaults are about, and the browser tests' async escape hatch, stay unset.
    for name in (
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "ATTEST_REQUIRE_STAFF_MFA",
        "CACHE_URL",
    ):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_the_production_defaults():
    completed = _manage("check", "--deploy", "--fail-level", "WARNING", secret_key=STRONG)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no issues" in completed.stdout


def test_production_defaults_turn_on_https_hsts_and_secure_cookies():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG)"
    )
    completed = _manage("shell", "-c", code, secret_key=STRONG)
    assert completed.stdout.strip().splitlines()[-1].split() == [
        "True",
        "True",
        "True",
        "True",
        "False",
    ], completed.stderr


@pytest.mark.parametrize(
    "key", ["", "changeme", "change-me-to-a-long-random-string", "django-insecure-" + "x" * 50]
)
def test_production_refuses_to_start_with_a_weak_secret_key(key):
    completed = _manage("check", secret_key=key)
    assert completed.returncode != 0
    assert "SECRET_KEY" in completed.stderr


@pytest.mark.parametrize(
    ("key", "weak"),
    [
        ("changeme", True),
        ("CHANGEME", True),
        ("a" * 60, True),  # long but one character
        ("short-but-random-9f3k", True),
        ("test-only-secret-key", True),
        (STRONG, False),
    ],
)
def test_a_secret_key_is_judged_by_length_variety_and_known_placeholders(key, weak):
    assert bool(secret_key_problem(key)) is weak


@pytest.mark.parametrize("key", ["", "short-key"])
def test_production_refuses_to_start_without_a_real_audit_key(key):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": STRONG,
        "AUDIT_HMAC_KEY": key,
        "DATABASE_URL": "postgres://attest@127.0.0.1:5432/attest",
        "ALLOWED_HOSTS": "attest.example.com",
    }
    completed = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "AUDIT_HMAC_KEY" in completed.stderr
