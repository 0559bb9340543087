"""Telling a real secret key from a placeholder, before production starts with one."""

from __future__ import annotations

# Placeholders seen in examples, tutorials and this repository's own files.
KNOWN_WEAK = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "secret-key",
        "secretkey",
        "django-insecure",
        "test-only-secret-key",
        "replace-me",
        "your-secret-key",
        "dev",
        "development",
    }
)
WEAK_PREFIXES = ("django-insecure", "change-me", "changeme", "replace-me", "your-secret")
MIN_LENGTH = 50
MIN_DISTINCT = 5


def secret_key_problem(key: str) -> str:
    """Why ``key`` must not sign production sessions, or "" when it may (Django's own rules for
    ``check --deploy``, plus known placeholders in any case)."""
    if not key:
        return "SECRET_KEY must be set in production."
    lowered = key.strip().lower()
    if lowered in KNOWN_WEAK or lowered.startswith(WEAK_PREFIXES):
        return "SECRET_KEY is a placeholder; generate a random one of at least 50 characters."
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_DISTINCT:
        return (
            f"SECRET_KEY is too weak: use at least {MIN_LENGTH} random characters "
            f"(of at least {MIN_DISTINCT} different kinds)."
        )
    return ""
