"""Canonical JSON for MACs and hashes, assembled by hand: verification computes one for every
row of the history, and ``json.dumps`` of a whole dict costs several times more. Each function
gives exactly what ``json.dumps`` would (tests/audit/test_canonical.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
_encode_string = json.encoder.encode_basestring_ascii


def json_scalar(value) -> str:
    """``json.dumps(value)`` for a string, an int or None, without its overhead."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    return COMPACT.encode(value)


def iso_utc(moment) -> str:
    """``moment.isoformat()`` for an aware UTC datetime; for the database's text of one
    (PostgreSQL ``2026-11-30 11:00:00.1+00``, SQLite ``2026-11-30 11:00:00.000001``) the same
    string, built without parsing a datetime."""
    if not isinstance(moment, str):
        return moment.isoformat()
    text = moment
    if text.endswith("+00:00"):
        text = text[:-6]
    elif text.endswith("+00"):
        text = text[:-3]
    elif text[-3] in "+-" or text[-6] in "+-":
        # Another offset: a session not in UTC. Parse it, rare and correct.
        return datetime.fromisoformat(text).astimezone(UTC).isoformat()
    day, _, clock = text.replace("T", " ").partition(" ")
    whole, _, fraction = clock.partition(".")
    fraction = fraction.ljust(6, "0") if fraction else ""
    if fraction and fraction != "000000":
        return f"{day}T{whole}.{fraction}+00:00"
    return f"{day}T{whole}+00:00"
