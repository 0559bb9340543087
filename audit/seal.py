"""The head of the audit chain, sealed outside the database.

After every commit that appended events, one signed line is appended to a file in private
storage (``settings.AUDIT_SEAL_PATH``), and a Celery beat job seals the head every minute in case
a process died between its commit and its seal. A line reads::

    v1 <sequence> <mac> <sealed_at ISO 8601> <signature>

where the signature is an HMAC-SHA256, keyed with ``AUDIT_HMAC_KEY``, of the other fields. Whoever
deletes the newest events must also rewrite this file, which lives elsewhere (ideally on storage
the database's administrators cannot write: see docs/audit.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

VERSION = "v1"


@dataclass(frozen=True)
class Seal:
    """The highest checkpoint found in the seal file; ``line`` counts from 1."""

    sequence: int
    mac: str
    sealed_at: str
    line: int


def seal_path() -> Path:
    return Path(settings.AUDIT_SEAL_PATH)


def _signature(sequence: int, mac: str, sealed_at: str) -> str:
    message = f"audit-seal|{VERSION}|{sequence}|{mac}|{sealed_at}".encode()
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), message, hashlib.sha256).hexdigest()


def seal_line(*, sequence: int, mac: str, sealed_at: datetime | None = None) -> str:
    stamp = (sealed_at or timezone.now()).isoformat()
    return f"{VERSION} {sequence} {mac} {stamp} {_signature(sequence, mac, stamp)}\n"


def seal_append(*, sequence: int, mac: str) -> None:
    """Append one checkpoint. One ``write`` on a file opened for appending, so that lines from
    concurrent processes never interleave; lines may come out of order, which is harmless:
    the highest sequence counts."""
    path = seal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, seal_line(sequence=sequence, mac=mac).encode())
    finally:
        os.close(fd)


class SealError(ValueError):
    """A line of the seal file is malformed or not signed with the key; the message says which."""


def seal_latest() -> Seal | None:
    """The checkpoint with the highest sequence, reading the file line by line; None when there
    is no seal file or it is empty. Raises SealError naming the first bad line."""
    path = seal_path()
    if not path.exists():
        return None
    best: Seal | None = None
    with path.open(encoding="ascii", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 5 or parts[0] != VERSION or not parts[1].isdigit():
                raise SealError(f"Line {number} of the seal file {path} is malformed.")
            _, sequence, mac, stamp, signature = parts
            if not hmac.compare_digest(signature, _signature(int(sequence), mac, stamp)):
                raise SealError(
                    f"Line {number} of the seal file {path} is not signed with the audit key."
                )
            if best is None or int(sequence) > best.sequence:
                best = Seal(sequence=int(sequence), mac=mac, sealed_at=stamp, line=number)
    return best
