"""OpenAI-compatible Chat Completions provider.

One client serves OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio, llama.cpp server, OpenRouter
and other servers that speak ``POST {base_url}/chat/completions``.

Azure OpenAI, two ways (README, "Azure OpenAI"):

- the v1 API: ``LLM_BASE_URL=https://<resource>.openai.azure.com/openai/v1``, ``LLM_MODEL`` the
  *deployment name* (not the OpenAI model name), the key as ``LLM_API_KEY`` (sent as a bearer
  token, which v1 accepts) or as an ``api-key`` header through ``LLM_EXTRA_HEADERS``; no
  api-version;
- a deployment URL: ``LLM_BASE_URL=https://<resource>.openai.azure.com/openai/deployments/
  <deployment>`` with ``LLM_API_VERSION`` (say ``2024-10-21``), sent as ``?api-version=``;
  the deployment in the URL chooses the model, whatever ``LLM_MODEL`` says. Page images go as
PNG data URLs, the document type's strict JSON schema as structured output.

The flow (one repair request for an answer that is not valid JSON or does not match the schema,
transient failures raised at once for the Celery task to retry) is ``http.HttpProvider``'s.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

import httpx

from extraction.images import media_type_of
from extraction.prompts import REPAIR_PROMPT, SYSTEM_PROMPT
from extraction.schemas import DocumentTypeSpec, OutputInvalid

from .base import ExtractionRequest, ProviderConfigError, ProviderOutputError
from .http import Answer, HttpProvider, page_blocks

MAX_TOKENS_PARAMS = ("max_tokens", "max_completion_tokens")
IMAGE_DETAILS = ("auto", "low", "high")


class OpenAIProvider(HttpProvider[Answer]):
    name = "openai"
    settings_prefix = "LLM"
    settings_options = (
        *HttpProvider.settings_options,
        "image_detail",
        "max_tokens_param",
        "temperature",
        "api_version",
    )
    base_url_hint = "Set it to the server's /v1 URL."
    settings_hint = "Check the LLM_* settings for this server."
    endpoint = "chat/completions"

    def __init__(
        self,
        *,
        image_detail: str = "auto",
        max_tokens_param: str = "max_completion_tokens",
        temperature: float | None = None,
        api_version: str = "",
        **options: Any,
    ):
        super().__init__(**options)
        if max_tokens_param not in MAX_TOKENS_PARAMS:
            raise ProviderConfigError(
                f"LLM_MAX_TOKENS_PARAM is '{max_tokens_param}'. "
                "Set it to 'max_tokens' or 'max_completion_tokens'."
            )
        if image_detail not in IMAGE_DETAILS:
            raise ProviderConfigError(
                f"LLM_IMAGE_DETAIL is '{image_detail}'. Set it to 'auto', 'low' or 'high'."
            )
        self.image_detail = image_detail
        self.max_tokens_param = max_tokens_param
        # Not sent unless set: OpenAI's reasoning models (the GPT-5 family) refuse any value
        # but the default, while a local server (Ollama, vLLM) reads best at 0.
        self.temperature = temperature
        # Azure OpenAI's deployment URLs (.../openai/deployments/<name>) need ?api-version=;
        # its v1 API (.../openai/v1) and every other server need none.
        self.api_version = api_version

    @property
    def url(self) -> str:
        url = f"{self.base_url}/{self.endpoint}"
        if self.api_version:
            url += "?" + urllib.parse.urlencode({"api-version": self.api_version})
        return url

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        # Local servers (Ollama, llama.cpp) need no key; sending an empty bearer confuses some.
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        headers.update(self.extra_headers)
        return headers

    def _messages(self, request: ExtractionRequest) -> list[dict[str, Any]]:
        return build_messages(request, image_detail=self.image_detail)

    def _body(self, spec: DocumentTypeSpec, messages: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
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
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    def _repair_turn(self, answer: Answer, error: OutputInvalid) -> list[dict[str, Any]]:
        return [
            {"role": "assistant", "content": answer.text},
            {"role": "user", "content": REPAIR_PROMPT.format(errors=error)},
        ]

    def _bad_url_message(self, exc: httpx.UnsupportedProtocol | httpx.InvalidURL) -> str:
        if isinstance(exc, httpx.UnsupportedProtocol):
            return f"LLM_BASE_URL '{self.base_url}' is not an http(s) URL. Check LLM_BASE_URL."
        return f"LLM_BASE_URL '{self.base_url}' is not a valid URL. Check LLM_BASE_URL."

    def _read(self, response: httpx.Response) -> Answer:
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
        return Answer(
            body=body,
            text=content,
            model=str(data.get("model") or self.model),
            tokens_in=int(usage.get("prompt_tokens") or 0),
            tokens_out=int(usage.get("completion_tokens") or 0),
        )


def build_messages(request: ExtractionRequest, *, image_detail: str) -> list[dict[str, Any]]:
    """The system prompt and one user message: an overview, then each page's text and image."""

    def image_block(image_png: bytes) -> dict[str, Any]:
        url = f"data:{media_type_of(image_png)};base64," + base64.b64encode(image_png).decode(
            "ascii"
        )
        return {"type": "image_url", "image_url": {"url": url, "detail": image_detail}}

    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": page_blocks(request, image_block)},
    ]


def _message_text(content: Any) -> str:
    # Some compatible servers answer with a list of content parts instead of a string.
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""
