"""Anthropic Messages API provider, over httpx (no SDK).

``POST {base_url}/messages`` with ``x-api-key`` and ``anthropic-version: 2026-10-21`` (the
version the official SDK, anthropic 2.14, sends; no sampling parameters: the current request
type has no ``temperature``, ``top_p`` or ``top_k``, and current models refuse them). Pages go
as base64 PNG image blocks beside their text; structured output is a forced tool call whose
``input_schema`` is the document type's JSON schema, so the answer arrives as the tool's input.

The flow is ``http.HttpProvider``'s: retries are the Celery task's job, so 408/409/429/5xx (and
Anthropic's 529 "overloaded") raise ``ProviderTransientError`` at once, with ``retry-after`` when
sent. An answer that fails the schema gets one repair request, sent as the tool's error result; a
refusal or an answer without the tool call is an output error, never a success.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx

from extraction.images import media_type_of
from extraction.prompts import REPAIR_PROMPT, SYSTEM_PROMPT
from extraction.schemas import DocumentTypeSpec, OutputInvalid, validate_output

from .base import ExtractionRequest, ProviderConfigError, ProviderOutputError
from .http import Answer, HttpProvider, page_blocks, parse_values

API_VERSION = "2026-10-21"
TOOL_NAME = "record_fields"


@dataclass(frozen=True)
class _Message(Answer):
    """An answer with the forced tool call, when the model made it."""

    tool_use: dict[str, Any] | None = None


class AnthropicProvider(HttpProvider[_Message]):
    name = "anthropic"
    settings_prefix = "ANTHROPIC"
    base_url_hint = "Set it to https://api.anthropic.com/v1."
    settings_hint = "Check the ANTHROPIC_* settings."
    endpoint = "messages"
    transient_statuses = frozenset({*HttpProvider.transient_statuses, 529})

    def __init__(self, *, max_tokens: int = 2048, **options: Any):
        super().__init__(max_tokens=max_tokens, **options)
        if max_tokens < 1:
            raise ProviderConfigError("ANTHROPIC_MAX_TOKENS must be at least 1.")

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

    def _messages(self, request: ExtractionRequest) -> list[dict[str, Any]]:
        """One user turn: an overview, then each page's text and its image block."""
        return [{"role": "user", "content": page_blocks(request, image_block)}]

    def _body(self, spec: DocumentTypeSpec, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "model": self.model,
            **messages_body(spec, messages, max_tokens=self.max_tokens),
        }

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
            text=text,
            model=str(data.get("model") or self.model),
            tokens_in=int(usage.get("input_tokens") or 0)
            + int(usage.get("cache_read_input_tokens") or 0)
            + int(usage.get("cache_creation_input_tokens") or 0),
            tokens_out=int(usage.get("output_tokens") or 0),
            tool_use=tool_use,
        )

    def _values(self, spec: DocumentTypeSpec, answer: _Message) -> dict[str, str | None]:
        if answer.tool_use is not None:
            return validate_output(spec, answer.tool_use.get("input"))
        # A gateway or model that ignores tool_choice may answer in text; read it as JSON.
        return parse_values(spec, answer.text)

    def _repair_turn(self, answer: _Message, error: OutputInvalid) -> list[dict[str, Any]]:
        """The failed answer replayed, then the errors: as the tool's error result when it was a
        tool call (the API wants every tool_use answered by a tool_result), else as plain text."""
        errors = REPAIR_PROMPT.format(errors=error)
        if answer.tool_use is not None:
            reply: list[dict[str, Any]] = [
                {
                    "type": "tool_result",
                    "tool_use_id": answer.tool_use.get("id", ""),
                    "is_error": True,
                    "content": errors,
                }
            ]
            return [
                {"role": "assistant", "content": [answer.tool_use]},
                {"role": "user", "content": reply},
            ]
        return [
            {"role": "assistant", "content": answer.text or "(no answer)"},
            {"role": "user", "content": errors},
        ]


def messages_body(
    spec: DocumentTypeSpec, messages: list[dict[str, Any]], *, max_tokens: int
) -> dict[str, Any]:
    """A Messages API body without ``model``: the system prompt, the turns and the forced tool
    whose ``input_schema`` is the type's JSON schema. Shared with Claude on Vertex AI, where
    the model is part of the URL."""
    return {
        "max_tokens": max_tokens,
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


def image_block(image_png: bytes) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": media_type_of(image_png),
            "data": base64.b64encode(image_png).decode("ascii"),
        },
    }
