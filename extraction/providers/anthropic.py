"""Anthropic Messages API provider, over httpx (no SDK).

``POST {base_url}/messages`` with ``x-api-key`` and ``anthropic-version: 2023-06-01``. Pages go
as base64 PNG image blocks beside their text; structured output is a forced tool call whose
``input_schema`` is the document type's JSON schema, so the answer arrives as the tool's input.

As in ``openai.py``, retries are the Celery task's job: 408/409/429/5xx (and Anthropic's 529
"overloaded") raise ``ProviderTransientError`` at once, with ``retry-after`` when sent. An answer
that fails the schema gets one repair request, sent as the tool's error result; a refusal or an
answer without the tool call is an output error, never a success.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from extraction.prompts import REPAIR_PROMPT, SYSTEM_PROMPT, overview, page_text
from extraction.schemas import DocumentTypeSpec, OutputInvalid, validate_output

from .base import (
    ExtractionRequest,
    ExtractionResult,
    ProviderConfigError,
    ProviderError,
    ProviderOutputError,
    ProviderTransientError,
)
from .openai import parse_retry_after, parse_values
from .pricing import call_cost

API_VERSION = "2023-06-01"
TOOL_NAME = "record_fields"
TRANSIENT_STATUSES = frozenset({408, 409, 429, 529})
ERROR_DETAIL_CHARS = 300


@dataclass(frozen=True)
class _Message:
    """One successful exchange: the tool's input (or the answer's text) and its usage."""

    body: str
    content: list[dict[str, Any]]  # the assistant's content blocks, to replay in a repair
    tool_use: dict[str, Any] | None
    text: str
    model: str
    tokens_in: int
    tokens_out: int


class AnthropicProvider:
    name = "anthropic"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_seconds: float = 120.0,
        max_tokens: int = 2048,
        extra_headers: dict[str, str] | None = None,
        prices: dict[str, dict[str, Any]] | None = None,
    ):
        if not base_url:
            raise ProviderConfigError(
                "ANTHROPIC_BASE_URL is empty. Set it to https://api.anthropic.com/v1."
            )
        if not model:
            raise ProviderConfigError("ANTHROPIC_MODEL is empty. Set it to the model to use.")
        if max_tokens < 1:
            raise ProviderConfigError("ANTHROPIC_MAX_TOKENS must be at least 1.")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.max_tokens = max_tokens
        self.extra_headers = dict(extra_headers or {})
        self.prices = dict(prices or {})

    @classmethod
    def from_settings(cls) -> AnthropicProvider:
        from django.conf import settings

        return cls(
            base_url=settings.ANTHROPIC_BASE_URL,
            api_key=settings.ANTHROPIC_API_KEY,
            model=settings.ANTHROPIC_MODEL,
            timeout_seconds=settings.ANTHROPIC_TIMEOUT_SECONDS,
            max_tokens=settings.ANTHROPIC_MAX_TOKENS,
            extra_headers=settings.ANTHROPIC_EXTRA_HEADERS,
            prices=settings.ANTHROPIC_PRICES,
        )

    @property
    def url(self) -> str:
        return f"{self.base_url}/messages"

    def extract(self, request: ExtractionRequest) -> ExtractionResult:
        spec = request.document_type
        messages = build_messages(request)
        started = time.monotonic()
        # A client per call: no state shared between Celery threads or forked workers.
        with httpx.Client(timeout=self.timeout_seconds, headers=self._headers()) as client:
            first = self._send(client, spec, messages)
            try:
                values = _values(spec, first)
                answers = [first]
            except OutputInvalid as exc:
                second = self._send(client, spec, [*messages, *_repair_turn(first, exc)])
                try:
                    values = _values(spec, second)
                except OutputInvalid as again:
                    raise ProviderOutputError(
                        "The LLM's answer did not match the document type's fields, "
                        f"even after asking it to correct itself: {again}",
                        raw_response=second.body,
                    ) from again
                answers = [first, second]
        latency_ms = int((time.monotonic() - started) * 1000)
        last = answers[-1]
        tokens_in = sum(a.tokens_in for a in answers)
        tokens_out = sum(a.tokens_out for a in answers)
        return ExtractionResult(
            values=values,
            raw_response=last.body,
            model=last.model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=latency_ms,
            cost=self._cost(last.model, tokens_in, tokens_out),
        )

    def _cost(self, model: str, tokens_in: int, tokens_out: int) -> Decimal:
        return call_cost(self.prices, model, self.model, tokens_in=tokens_in, tokens_out=tokens_out)

    def _headers(self) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "accept": "application/json",
            "anthropic-version": API_VERSION,
        }
        # A gateway in front of the API may take its own auth header instead (extra headers).
        if self.api_key:
            headers["x-api-key"] = self.api_key
        headers.update(self.extra_headers)
        return headers

    def _body(self, spec: DocumentTypeSpec, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "temperature": 0,
            "system": SYSTEM_PROMPT,
            "messages": messages,
            "tools": [
                {
                    "name": TOOL_NAME,
                    "description": f"Record the fields of this {spec.label} as printed, "
                    "null where a value is not shown.",
                    "input_schema": spec.json_schema(),
                }
            ],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
        }

    def _send(
        self, client: httpx.Client, spec: DocumentTypeSpec, messages: list[dict[str, Any]]
    ) -> _Message:
        try:
            response = client.post(self.url, json=self._body(spec, messages))
        except httpx.TimeoutException as exc:
            raise ProviderTransientError(
                f"The LLM provider did not answer within {self.timeout_seconds:g} seconds."
            ) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ProviderConfigError(
                f"ANTHROPIC_BASE_URL '{self.base_url}' is not a valid http(s) URL."
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderTransientError(
                f"Could not reach the LLM provider at {self.base_url} ({type(exc).__name__})."
            ) from exc
        if response.status_code != 200:
            raise self._status_error(response)
        return self._read(response)

    def _status_error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        detail = _error_detail(response)
        if status in TRANSIENT_STATUSES or 500 <= status <= 599:
            return ProviderTransientError(
                f"The LLM provider is unavailable or busy ({status}). {detail}".strip(),
                retry_after=parse_retry_after(response.headers),
                raw_response=response.text,
            )
        if status == 401:
            message = (
                "The LLM provider rejected the API key (401). Check ANTHROPIC_API_KEY."
                if self.api_key
                else "The LLM provider wants an API key (401). Set ANTHROPIC_API_KEY."
            )
        elif status == 403:
            message = (
                "The LLM provider refused access (403): the API key may lack permission "
                f"for model '{self.model}'. Check ANTHROPIC_API_KEY and ANTHROPIC_MODEL."
            )
        elif status == 404:
            message = (
                f"The LLM provider has no model '{self.model}' or no endpoint {self.url} (404). "
                "Check ANTHROPIC_MODEL and ANTHROPIC_BASE_URL."
            )
        else:
            message = (
                f"The LLM provider rejected the request ({status}). {detail} "
                "Check the ANTHROPIC_* settings."
            )
        return ProviderConfigError(message, raw_response=response.text)

    def _read(self, response: httpx.Response) -> _Message:
        body = response.text
        try:
            data = json.loads(body)
            content = data["content"]
            if not isinstance(content, list):
                raise TypeError("content is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderOutputError(
                "The LLM provider answered with something that is not a message.",
                raw_response=body,
            ) from exc
        stop_reason = data.get("stop_reason")
        text = "".join(
            b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
        if stop_reason == "refusal":
            raise ProviderOutputError(
                "The LLM refused to read the document" + (f": {text}" if text.strip() else "."),
                raw_response=body,
            )
        if stop_reason == "max_tokens":
            raise ProviderOutputError(
                "The LLM's answer was cut off at the token limit. Raise ANTHROPIC_MAX_TOKENS.",
                raw_response=body,
            )
        tool_use = next(
            (
                b
                for b in content
                if isinstance(b, dict)
                and b.get("type") == "tool_use"
                and b.get("name") == TOOL_NAME
            ),
            None,
        )
        if tool_use is None and not text.strip():
            raise ProviderOutputError("The LLM returned an empty answer.", raw_response=body)
        usage = data.get("usage") or {}
        return _Message(
            body=body,
            content=content,
            tool_use=tool_use,
            text=text,
            model=str(data.get("model") or self.model),
            tokens_in=int(usage.get("input_tokens") or 0)
            + int(usage.get("cache_read_input_tokens") or 0)
            + int(usage.get("cache_creation_input_tokens") or 0),
            tokens_out=int(usage.get("output_tokens") or 0),
        )


def build_messages(request: ExtractionRequest) -> list[dict[str, Any]]:
    """One user turn: an overview, then each page's text and its image block."""
    spec = request.document_type
    content: list[dict[str, Any]] = [
        {
            "type": "text",
            "text": overview(
                spec,
                page_numbers=tuple(p.number for p in request.pages),
                total_pages=request.page_total,
            ),
        }
    ]
    for page in request.pages:
        content.append({"type": "text", "text": page_text(page.number, page.text)})
        content.append(
            {
                "type": "image",
                "source": {
                    "type": "base64",
                    "media_type": "image/png",
                    "data": base64.b64encode(page.image_png).decode("ascii"),
                },
            }
        )
    return [{"role": "user", "content": content}]


def _values(spec: DocumentTypeSpec, message: _Message) -> dict[str, str | None]:
    if message.tool_use is not None:
        return validate_output(spec, message.tool_use.get("input"))
    # A gateway or model that ignores tool_choice may answer in text; read it as JSON.
    return parse_values(spec, message.text)


def _repair_turn(message: _Message, error: OutputInvalid) -> list[dict[str, Any]]:
    """The failed answer replayed, then the errors: as the tool's error result when it was a
    tool call (the API wants every tool_use answered by a tool_result), else as plain text."""
    errors = REPAIR_PROMPT.format(errors=error)
    if message.tool_use is not None:
        reply: list[dict[str, Any]] = [
            {
                "type": "tool_result",
                "tool_use_id": message.tool_use.get("id", ""),
                "is_error": True,
                "content": errors,
            }
        ]
        return [
            {"role": "assistant", "content": [message.tool_use]},
            {"role": "user", "content": reply},
        ]
    return [
        {"role": "assistant", "content": message.text or "(no answer)"},
        {"role": "user", "content": errors},
    ]


def _error_detail(response: httpx.Response) -> str:
    """The server's own message, in Anthropic's ``{"type": "error", "error": {...}}`` shape."""
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    return str(message)[:ERROR_DETAIL_CHARS] if message else ""
