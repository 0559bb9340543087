"""Canonical JSON for MACs and hashes, assembled by hand: verification computes one for every
row of the history, and ``json.dumps`` of a whole dict costs several times more. Each function
gives exactly what ``json.dumps`` would (tests/audit/test_canonical.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import orjson

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


# orjson reads integers past 64 bits as floats: text with such a number takes the slow path.
_LONG_NUMBER = re.compile(r"\d{19}")


def quick_load(text: str):
    """JSON text parsed by orjson, or None when orjson might not read it exactly as the
    standard library does (a number of 19 digits or more, or anything orjson refuses)."""
    if _LONG_NUMBER.search(text):
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def quick_payload(
    sequence,
    created_at,
    action,
    actor_id,
    role,
    application_id,
    subject_type,
    subject_id,
    data,
    previous_mac,
) -> bytes | None:
    """A fast candidate for ``audit.services.payload_bytes`` (orjson), or None when orjson
    cannot encode the values. It is byte for byte the canonical payload whenever the content is
    ASCII and holds no float that the two libraries spell differently; otherwise it differs and
    the caller computes the canonical one. Safe to try first: both are JSON texts of the same
    object, and JSON texts decode to one value each, so a candidate that matches the MAC of the
    canonical payload can only be that payload, for that very content (``data`` must come from
    ``quick_load``, which reads exactly what ``json.loads`` reads, or refuses)."""
    try:
        return orjson.dumps(
            {
                "action": action,
                "actor": actor_id,
                "application": application_id,
                "created_at": iso_utc(created_at),
                "data": data,
                "previous": previous_mac,
                "role": role,
                "sequence": sequence,
                "subject_id": subject_id,
                "subject_type": subject_type,
            },
            option=orjson.OPT_SORT_KEYS,
        )
    except TypeError:
        return None
