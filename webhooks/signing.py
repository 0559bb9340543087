"""Standard Webhooks signatures (https://www.standardwebhooks.com/), through the
``standardwebhooks`` package so that Attest signs exactly as its receivers verify.

Headers of every request: ``webhook-id`` (the message id, the same on every attempt),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
``v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>``, where the secret is the
base64 after ``whsec_``.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def secret_new() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 24 random bytes (192 bits)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signed_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` sent at ``at`` (an aware datetime)."""
    at = at.astimezone(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }
