"""OpenAI-compatible Chat Completions provider.

One client serves OpenAI, Azure OpenAI (v1 API), vLLM, Ollama, LM Studio, llama.cpp server,
OpenRouter and other servers that speak ``POST {base_url}/chat/completions``. Page images go as
PNG data URLs, the document type's strict JSON schema as structured output.

Retries are the Celery task's job: a transient failure raises ``ProviderTransientError`` at once.
The single exception is one repair request when the answer is not valid JSON or does not match
the schema, because asking again with the errors usually fixes it for the price of one call.
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
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
from .pricing import call_cost

MAX_TOKENS_PARAMS = ("max_tokens", "max_completion_tokens")
IMAGE_DETAILS = ("auto", "low", "high")
TRANSIENT_STATUSES = frozenset({408, 409, 429})
# Enough of an error body to show what the server said, without flooding the log.
ERROR_DETAIL_CHARS = 300
_CODE_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass(frozen=True)
class _Completion:
    """One successful HTTP exchange: the answer's text and what it cost."""

    body: str
    content: str
    model: str
    tokens_in: int
    tokens_out: int


class OpenAIProvider:
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_seconds: float = 120.0,
        image_detail: str = "auto",
        max_tokens_param: str = "max_completion_tokens",
        max_tokens: int = 2048,
        extra_headers: dict[str, str] | None = None,
        prices: dict[str, dict[str, Any]] | None = None,
    ):
        if not base_url:
            raise ProviderConfigError("LLM_BASE_URL is empty. Set it to the server's /v1 URL.")
        if not model:
            raise ProviderConfigError("LLM_MODEL is empty. Set it to the model to use.")
        if max_tokens_param not in MAX_TOKENS_PARAMS:
            raise ProviderConfigError(
                f"LLM_MAX_TOKENS_PARAM is '{max_tokens_param}'. "
                "Set it to 'max_tokens' or 'max_completion_tokens'."
            )
        if image_detail not in IMAGE_DETAILS:
            raise ProviderConfigError(
                f"LLM_IMAGE_DETAIL is '{image_detail}'. Set it to 'auto', 'low' or 'high'."
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.image_detail = image_detail
        self.max_tokens_param = max_tokens_param
        self.max_tokens = max_tokens
        self.extra_headers = dict(extra_headers or {})
        self.prices = dict(prices or {})

    @classmethod
    def from_settings(cls) -> OpenAIProvider:
        from django.conf import settings

        return cls(
            base_url=settings.LLM_BASE_URL,
            api_key=settings.LLM_API_KEY,
            model=settings.LLM_MODEL,
            timeout_seconds=settings.LLM_TIMEOUT_SECONDS,
            image_detail=settings.LLM_IMAGE_DETAIL,
            max_tokens_param=settings.LLM_MAX_TOKENS_PARAM,
            max_tokens=settings.LLM_MAX_TOKENS,
            extra_headers=settings.LLM_EXTRA_HEADERS,
            prices=settings.LLM_PRICES,
        )

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def extract(self, request: ExtractionRequest) -> ExtractionResult:
        spec = request.document_type
        messages = build_messages(request, image_detail=self.image_detail)
        started = time.monotonic()
        # A client per call: no state shared between Celery threads or forked workers.
        with httpx.Client(timeout=self.timeout_seconds, headers=self._headers()) as client:
            first = self._complete(client, spec, messages)
            try:
                values = parse_values(spec, first.content)
                completions = [first]
            except OutputInvalid as exc:
                repair_messages = [
                    *messages,
                    {"role": "assistant", "content": first.content},
                    {"role": "user", "content": REPAIR_PROMPT.format(errors=exc)},
                ]
                second = self._complete(client, spec, repair_messages)
                try:
                    values = parse_values(spec, second.content)
                except OutputInvalid as again:
                    raise ProviderOutputError(
                        "The LLM's answer did not match the document type's fields, "
                        f"even after asking it to correct itself: {again}",
                        raw_response=second.body,
                    ) from again
                completions = [first, second]
        latency_ms = int((time.monotonic() - started) * 1000)
        return self._result(values, completions, latency_ms)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        # Local servers (Ollama, llama.cpp) need no key; sending an empty bearer confuses some.
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        headers.update(self.extra_headers)
        return headers

    def _body(self, spec: DocumentTypeSpec, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            self.max_tokens_param: self.max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": spec.schema_name,
                    "strict": True,
                    "schema": spec.json_schema(),
                },
            },
        }

    def _complete(
        self, client: httpx.Client, spec: DocumentTypeSpec, messages: list[dict[str, Any]]
    ) -> _Completion:
        """POST one request; return the answer's text or raise the matching ProviderError."""
        try:
            response = client.post(self.url, json=self._body(spec, messages))
        except httpx.TimeoutException as exc:
            raise ProviderTransientError(
                f"The LLM provider did not answer within {self.timeout_seconds:g} seconds."
            ) from exc
        except httpx.UnsupportedProtocol as exc:
            raise ProviderConfigError(
                f"LLM_BASE_URL '{self.base_url}' is not an http(s) URL. Check LLM_BASE_URL."
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderTransientError(
                f"Could not reach the LLM provider at {self.base_url} ({type(exc).__name__})."
            ) from exc
        except httpx.InvalidURL as exc:
            raise ProviderConfigError(
                f"LLM_BASE_URL '{self.base_url}' is not a valid URL. Check LLM_BASE_URL."
            ) from exc
        if response.status_code != 200:
            raise self._status_error(response)
        return self._read_completion(response)

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
                "The LLM provider rejected the API key (401). Check LLM_API_KEY."
                if self.api_key
                else "The LLM provider wants an API key (401). Set LLM_API_KEY."
            )
        elif status == 403:
            message = (
                "The LLM provider refused access (403): the API key may lack permission "
                f"for model '{self.model}'. Check LLM_API_KEY and LLM_MODEL."
            )
        elif status == 404:
            message = (
                f"The LLM provider has no model '{self.model}' or no endpoint {self.url} (404). "
                "Check LLM_MODEL and LLM_BASE_URL."
            )
        else:
            message = (
                f"The LLM provider rejected the request ({status}). {detail} "
                "Check the LLM_* settings for this server."
            )
        return ProviderConfigError(message, raw_response=response.text)

    def _read_completion(self, response: httpx.Response) -> _Completion:
        body = response.text
        try:
            data = json.loads(body)
            choice = data["choices"][0]
            message = choice["message"]
            if not isinstance(message, dict):
                raise TypeError("message is not an object")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ProviderOutputError(
                "The LLM provider answered with something that is not a chat completion.",
                raw_response=body,
            ) from exc
        if message.get("refusal"):
            raise ProviderOutputError(
                f"The LLM refused to read the document: {message['refusal']}", raw_response=body
            )
        finish_reason = choice.get("finish_reason")
        if finish_reason == "length":
            raise ProviderOutputError(
                "The LLM's answer was cut off at the token limit. Raise LLM_MAX_TOKENS.",
                raw_response=body,
            )
        if finish_reason == "content_filter":
            raise ProviderOutputError(
                "The LLM provider's content filter stopped the answer.", raw_response=body
            )
        content = _message_text(message.get("content"))
        if not content.strip():
            raise ProviderOutputError("The LLM returned an empty answer.", raw_response=body)
        usage = data.get("usage") or {}
        return _Completion(
            body=body,
            content=content,
            model=str(data.get("model") or self.model),
            tokens_in=int(usage.get("prompt_tokens") or 0),
            tokens_out=int(usage.get("completion_tokens") or 0),
        )

    def _result(
        self, values: dict[str, str | None], completions: list[_Completion], latency_ms: int
    ) -> ExtractionResult:
        last = completions[-1]
        tokens_in = sum(c.tokens_in for c in completions)
        tokens_out = sum(c.tokens_out for c in completions)
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


def build_messages(request: ExtractionRequest, *, image_detail: str) -> list[dict[str, Any]]:
    """The system prompt and one user message: an overview, then each page's text and image."""
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
                "type": "image_url",
                "image_url": {"url": _png_data_url(page.image_png), "detail": image_detail},
            }
        )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": content},
    ]


def _png_data_url(image_png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image_png).decode("ascii")


def _message_text(content: Any) -> str:
    # Some compatible servers answer with a list of content parts instead of a string.
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def parse_values(spec: DocumentTypeSpec, content: str) -> dict[str, str | None]:
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


def _error_detail(response: httpx.Response) -> str:
    """The server's own error message, when it sent one in OpenAI's error shape."""
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    if not message:
        return ""
    return str(message)[:ERROR_DETAIL_CHARS]


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
