"""What the HTTP providers (``openai.py``, ``anthropic.py``, ``bedrock.py``, ``vertex.py``) share.

``HttpProvider`` holds the settings every such provider takes and the flow of one extraction:
one request on the worker process's shared client, the answer validated, and when it fails the
schema ONE repair request carrying the errors, with tokens, latency and cost summed over both
calls. It maps httpx errors and HTTP statuses to ``ProviderError``s. A subclass says only what
its API does differently: the endpoint, headers, the request body, how an answer is read and
replayed.

Retries are the Celery task's job: a transient failure raises ``ProviderTransientError`` at once,
with ``retry_after`` when the server sent one. The repair request is the single exception,
because asking again with the errors usually fixes an answer for the price of one call.

One ``httpx.Client`` per provider endpoint per process (``shared_client``): its connection pool
and TLS context (loading the CA bundle costs milliseconds) are reused by every call and every
thread of a worker. A client made before a fork is never used by the children: each process
makes its own, keyed by its pid.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, Self, TypeVar

import httpx

from extraction.prompts import overview, page_text
from extraction.schemas import DocumentTypeSpec, OutputInvalid, validate_output

from .base import (
    ExtractionRequest,
    ExtractionResult,
    ProviderConfigError,
    ProviderError,
    ProviderOutputError,
    ProviderTransientError,
)
from .pricing import call_cost

# Enough of an error body to show what the server said, without flooding the log.
ERROR_DETAIL_CHARS = 300
_CODE_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


_clients: dict[tuple[int, str, str, float], httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client(name: str, base_url: str, timeout_seconds: float) -> httpx.Client:
    """This process's client for one provider endpoint, made on first use.

    httpx's client is safe to share between threads. Keyed by ``os.getpid()``: after a fork
    (Celery's prefork pool) a child finds no client of its own and makes one, so no socket or
    TLS session is ever shared between processes; the parent's clients are forgotten in the
    child, not closed, since their sockets are the parent's.
    """
    pid = os.getpid()
    key = (pid, name, base_url, float(timeout_seconds))
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        for other in [k for k in _clients if k[0] != pid]:
            del _clients[other]
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = httpx.Client(timeout=timeout_seconds)
        return client


def shared_clients_close() -> None:
    """Close this process's clients (tests, and a worker shutting down)."""
    with _clients_lock:
        pid = os.getpid()
        for key in [k for k in _clients if k[0] == pid]:
            _clients.pop(key).close()


@dataclass(frozen=True)
class Answer:
    """One successful HTTP exchange: the answer's text and what it cost."""

    body: str
    text: str
    model: str
    tokens_in: int
    tokens_out: int


A = TypeVar("A", bound=Answer)


class HttpProvider(Generic[A]):
    """The shared part of a provider; ``A`` is the answer its ``_read`` returns."""

    name: ClassVar[str]
    # Settings are named f"{settings_prefix}_{option.upper()}", as LLM_BASE_URL for base_url.
    settings_prefix: ClassVar[str]
    settings_options: ClassVar[tuple[str, ...]] = (
        "base_url",
        "api_key",
        "model",
        "timeout_seconds",
        "max_tokens",
        "extra_headers",
        "prices",
    )
    base_url_hint: ClassVar[str]  # how to fill in an empty base URL
    settings_hint: ClassVar[str]  # the last words of a config error for an unexpected status
    endpoint: ClassVar[str]  # below base_url
    # Besides 5xx, the statuses worth retrying.
    transient_statuses: ClassVar[frozenset[int]] = frozenset({408, 409, 429})

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
        prefix = self.settings_prefix
        if not base_url:
            raise ProviderConfigError(f"{prefix}_BASE_URL is empty. {self.base_url_hint}")
        if not model:
            raise ProviderConfigError(f"{prefix}_MODEL is empty. Set it to the model to use.")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.max_tokens = max_tokens
        self.extra_headers = dict(extra_headers or {})
        self.prices = dict(prices or {})

    @classmethod
    def from_settings(cls) -> Self:
        from django.conf import settings

        return cls(
            **{
                option: getattr(settings, f"{cls.settings_prefix}_{option.upper()}")
                for option in cls.settings_options
            }
        )

    @property
    def url(self) -> str:
        return f"{self.base_url}/{self.endpoint}"

    # --- what a subclass says ------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def _messages(self, request: ExtractionRequest) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _body(self, spec: DocumentTypeSpec, messages: list[dict[str, Any]]) -> dict[str, Any]:
        raise NotImplementedError

    def _read(self, response: httpx.Response) -> A:
        """A 200 response's answer, or the ProviderOutputError it amounts to."""
        raise NotImplementedError

    def _values(self, spec: DocumentTypeSpec, answer: A) -> dict[str, str | None]:
        """The answer's values; ``OutputInvalid`` when they do not fit the schema."""
        return parse_values(spec, answer.text)

    def _repair_turn(self, answer: A, error: OutputInvalid) -> list[dict[str, Any]]:
        """The messages that follow the failed answer to ask for a corrected one."""
        raise NotImplementedError

    def _bad_url_message(self, exc: httpx.UnsupportedProtocol | httpx.InvalidURL) -> str:
        return f"{self.settings_prefix}_BASE_URL '{self.base_url}' is not a valid http(s) URL."

    def _request_headers(self, payload: bytes) -> dict[str, str]:
        """The headers of one request carrying ``payload``; a cloud provider adds its
        credentials here (a SigV4 signature, an OAuth token), fresh for each request."""
        return self._headers()

    def _auth_message(self, status: int) -> str:
        """What to check when the server refuses the credentials (401/403)."""
        prefix = self.settings_prefix
        if status == 401:
            return (
                f"The LLM provider rejected the API key (401). Check {prefix}_API_KEY."
                if self.api_key
                else f"The LLM provider wants an API key (401). Set {prefix}_API_KEY."
            )
        return (
            "The LLM provider refused access (403): the API key may lack permission "
            f"for model '{self.model}'. Check {prefix}_API_KEY and {prefix}_MODEL."
        )

    # --- the shared flow -----------------------------------------------------------------------

    def extract(self, request: ExtractionRequest) -> ExtractionResult:
        spec = request.document_type
        messages = self._messages(request)
        started = time.monotonic()
        # The process's client (pool and TLS context reused); the headers go with each request.
        client = shared_client(self.name, self.base_url, self.timeout_seconds)
        first = self._send(client, spec, messages)
        try:
            values = self._values(spec, first)
            answers = [first]
        except OutputInvalid as exc:
            second = self._send(client, spec, [*messages, *self._repair_turn(first, exc)])
            try:
                values = self._values(spec, second)
            except OutputInvalid as again:
                raise ProviderOutputError(
                    "The LLM's answer did not match the document type's fields, "
                    f"even after asking it to correct itself: {again}",
                    raw_response=second.body,
                ) from again
            answers = [first, second]
        latency_ms = int((time.monotonic() - started) * 1000)
        return self._result(values, answers, latency_ms)

    def _send(
        self, client: httpx.Client, spec: DocumentTypeSpec, messages: list[dict[str, Any]]
    ) -> A:
        """POST one request; return its answer or raise the matching ProviderError."""
        # The exact bytes sent, so that a provider that signs the request (Bedrock) signs them.
        payload = json.dumps(self._body(spec, messages)).encode()
        headers = self._request_headers(payload)
        try:
            response = client.post(self.url, content=payload, headers=headers)
        except httpx.TimeoutException as exc:
            raise ProviderTransientError(
                f"The LLM provider did not answer within {self.timeout_seconds:g} seconds."
            ) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ProviderConfigError(self._bad_url_message(exc)) from exc
        except httpx.TransportError as exc:
            raise ProviderTransientError(
                f"Could not reach the LLM provider at {self.base_url} ({type(exc).__name__})."
            ) from exc
        if response.status_code != 200:
            raise self._status_error(response)
        return self._read(response)

    def _status_error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        detail = error_detail(response)
        if status in self.transient_statuses or 500 <= status <= 599:
            return ProviderTransientError(
                f"The LLM provider is unavailable or busy ({status}). {detail}".strip(),
                retry_after=parse_retry_after(response.headers),
                raw_response=response.text,
            )
        prefix = self.settings_prefix
        if status in (401, 403):
            message = self._auth_message(status)
        elif status == 404:
            message = (
                f"The LLM provider has no model '{self.model}' or no endpoint {self.url} (404). "
                f"Check {prefix}_MODEL and {prefix}_BASE_URL."
            )
        else:
            message = (
                f"The LLM provider rejected the request ({status}). {detail} {self.settings_hint}"
            )
        return ProviderConfigError(message, raw_response=response.text)

    def _result(
        self, values: dict[str, str | None], answers: list[A], latency_ms: int
    ) -> ExtractionResult:
        """Tokens and cost summed over every call; the last call's body and model."""
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


def page_blocks(
    request: ExtractionRequest, image_block: Callable[[bytes], dict[str, Any]]
) -> list[dict[str, Any]]:
    """A user turn's content: an overview, then each page's text and its image in the API's
    own block shape."""
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
        content.append(image_block(page.image_png))
    return content


def parse_values(spec: DocumentTypeSpec, content: str) -> dict[str, str | None]:
    """An answer's text read as JSON and validated against the document type's schema."""
    text = content.strip()
    # Servers that ignore strict mode (Ollama, some proxies) tend to wrap JSON in a code fence.
    fenced = _CODE_FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise OutputInvalid(f"The answer is not valid JSON ({exc}).") from exc
    return validate_output(spec, data)


def error_detail(response: httpx.Response) -> str:
    """The server's own error message: ``{"error": {"message": ...}}`` (OpenAI's shape, Google's,
    and Anthropic's ``{"type": "error", "error": {...}}``), ``{"error": "..."}``, or AWS's
    ``{"message": ...}``."""
    try:
        data = response.json()
        error = data.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        message = message or data.get("message") or data.get("Message")
    except (ValueError, AttributeError):
        message = None
    return str(message)[:ERROR_DETAIL_CHARS] if message else ""


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or Azure's ``retry-after-ms``."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
