"""Reusing an earlier reading: identical pages read the same way cost nothing the second time.

A call's key covers everything its answer depends on: the file's sha256 and the pages sent, the
document type and its version, the schema generator's version, the provider, the configured
model and the prompt version. Any change to one of them is a new key, hence a new reading.
"""

from __future__ import annotations

import hashlib
import json

from .models import ExtractionRun
from .prompts import PROMPT_VERSION
from .schemas import SCHEMA_VERSION, DocumentTypeSpec


def schema_version(spec: DocumentTypeSpec) -> str:
    """What ExtractionRun.schema_version records: "bank_statement.v2.s2"."""
    return f"{spec.key}.v{spec.version}.s{SCHEMA_VERSION}"


def call_key(
    *, sha256: str, file_pages: tuple[int, ...], spec: DocumentTypeSpec, provider: str, model: str
) -> str:
    """The cache key of one call; ``file_pages`` are page numbers of the uploaded file."""
    parts = [sha256, list(file_pages), schema_version(spec), provider, model, PROMPT_VERSION]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def earlier_reading(*, key: str) -> ExtractionRun | None:
    """The first paid-for successful call with this key, or None."""
    return (
        ExtractionRun.objects.filter(cache_key=key, outcome=ExtractionRun.Outcome.OK)
        .order_by("cached_from_id", "id")  # an original (no cached_from) before its copies
        .first()
    )
