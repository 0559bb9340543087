"""What the tests of the HTTP providers (OpenAI-compatible, Anthropic) share: a document type, its
values, a request to read, and short ways to build a provider and catch the error it raises."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from extraction.providers.base import ExtractionRequest, PageInput, ProviderError
from extraction.schemas import DocumentTypeSpec, FieldSpec
from tests.fakes import FakeLLMServer

SPEC = DocumentTypeSpec(
    key="pay_stub",
    label="Pay stub",
    version=1,
    description="An employee's earnings statement for one pay period.",
    fields=(
        FieldSpec(key="employee_name", label="Employee name", kind="name", required=True),
        FieldSpec(
            key="gross_pay",
            label="Gross pay (this period)",
            kind="money",
            required=True,
            hint="Total earnings before deductions for this period, not year-to-date",
        ),
        FieldSpec(key="pay_date", label="Pay date", kind="date"),
    ),
)
VALUES = {"employee_name": "Jane Q. Doe", "gross_pay": "$2,450.00", "pay_date": None}


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = tiny_png()


def tiny_jpeg() -> bytes:
    """A page as a scan is sent (``images.encoded_for_model`` sends scans and photos as JPEG)."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


def scanned_request() -> ExtractionRequest:
    """One scanned page: its image a JPEG."""
    page = PageInput(number=1, image_png=tiny_jpeg(), text="EARNINGS STATEMENT")
    return ExtractionRequest(document_type=SPEC, pages=(page,))


def make_request(*texts: str) -> ExtractionRequest:
    texts = texts or ("EARNINGS STATEMENT Jane Q. Doe Gross Pay $2,450.00",)
    pages = tuple(
        PageInput(number=i, image_png=PNG, text=text) for i, text in enumerate(texts, start=1)
    )
    return ExtractionRequest(document_type=SPEC, pages=pages)


def provider_factory(provider_class: type, **defaults: Any) -> Callable[..., Any]:
    """``make_provider(server, **overrides)``: a ``provider_class`` pointed at ``server``, with a
    5 second timeout and ``defaults`` (model, api_key, prices), each overridable."""

    def make_provider(server: FakeLLMServer, **overrides: Any) -> Any:
        options = {"base_url": server.base_url, "timeout_seconds": 5.0, **defaults}
        options.update(overrides)
        return provider_class(**options)

    return make_provider


def extract_error(provider: Any, error: type[ProviderError]) -> Any:
    """The ``error`` that reading ``make_request()`` raises (the test fails without one)."""
    with pytest.raises(error) as caught:
        provider.extract(make_request())
    return caught.value
