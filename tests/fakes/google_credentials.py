"""A Google service account key file whose token server is the fake (test environment only).

google-auth reads it as application default credentials (``GOOGLE_APPLICATION_CREDENTIALS``),
signs a JWT assertion with its private key and exchanges it at ``token_uri`` for an access
token: pointed at ``FakeLLMServer``, which trusts the public key, the whole real flow runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .llm_server import FakeLLMServer


def service_account_file(folder: Path, server: FakeLLMServer, *, trusted: bool = True) -> Path:
    """Write a key file for a new key pair; ``trusted``: the fake accepts its assertions."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if trusted:
        server.google_service_account_keys.append(public_pem)
    path = folder / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "attest-test",
                "private_key_id": "fake-key-1",
                "private_key": private_pem,
                "client_email": "attest-reader@attest-test.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{server.root_url}/token",
            }
        ),
        encoding="utf-8",
    )
    return path
