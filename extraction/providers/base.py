"""The contract every extraction provider keeps.

A provider reads the pages of one document of a known type and proposes a value (or None) for
each of the type's fields. It never writes to the database: the pipeline validates, grounds and
saves what it proposes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from extraction.schemas import DocumentTypeSpec

PROMPT_VERSION = "2026-11-22.1"


@dataclass(frozen=True)
class PageInput:
    number: int  # 1-based
    image_png: bytes  # the rendered page, already sized for models
    text: str  # the page's text layer or OCR text; may be empty


@dataclass(frozen=True)
class ExtractionRequest:
    document_type: DocumentTypeSpec
    pages: tuple[PageInput, ...]


@dataclass
class ExtractionResult:
    values: dict[str, str | None]
    raw_response: str = ""
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    cost: Decimal = field(default_factory=lambda: Decimal("0"))
    # The page each value was read from, when the provider knows it (1-based).
    pages: dict[str, int] = field(default_factory=dict)


class ProviderError(Exception):
    """A provider failure. ``message`` is plain language for the applicant and the log."""

    code = "provider_error"

    def __init__(self, message: str, *, raw_response: str = ""):
        super().__init__(message)
        self.message = message
        self.raw_response = raw_response


class ProviderTransientError(ProviderError):
    """Worth retrying: timeouts, connection errors, 408/409/429/5xx/529."""

    code = "provider_unavailable"

    def __init__(self, message: str, *, retry_after: float | None = None, raw_response: str = ""):
        super().__init__(message, raw_response=raw_response)
        self.retry_after = retry_after


class ProviderOutputError(ProviderError):
    """The provider answered, but not with usable values (broken JSON, schema, refusal)."""

    code = "unreadable_answer"


class ProviderConfigError(ProviderError):
    """The provider cannot run as configured (no key, unknown name). Not worth retrying."""

    code = "provider_misconfigured"


class Provider(Protocol):
    name: str

    def extract(self, request: ExtractionRequest) -> ExtractionResult: ...
