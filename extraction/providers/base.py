"""The contract every extraction provider keeps.

A provider reads the pages of one document of a known type and proposes a value (or None) for
each of the type's fields. It never writes to the database: the pipeline validates, grounds and
saves what it proposes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from extraction.prompts import PROMPT_VERSION
from extraction.schemas import DocumentTypeSpec

__all__ = ["PROMPT_VERSION"]  # re-exported: runs and tests read the version from here


@dataclass(frozen=True)
class PageInput:
    number: int  # 1-based
    image_png: bytes  # the rendered page, already sized for models
    text: str  # the page's text layer or OCR text; may be empty


@dataclass(frozen=True)
class ExtractionRequest:
    document_type: DocumentTypeSpec
    pages: tuple[PageInput, ...]
    # The whole document's page count when ``pages`` is one group of a longer document.
    total_pages: int = 0

    @property
    def page_total(self) -> int:
        return self.total_pages or len(self.pages)


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
    # The configured model: part of the reading cache's key, whatever snapshot answers.
    model: str

    def extract(self, request: ExtractionRequest) -> ExtractionResult: ...
