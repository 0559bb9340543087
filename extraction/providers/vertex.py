"""Google Vertex AI providers: Gemini (``generateContent``) and Claude (``rawPredict``).

Both call ``{base_url}/v1/projects/{VERTEX_PROJECT}/locations/{VERTEX_LOCATION}/publishers/
{publisher}/models/{VERTEX_MODEL}:{method}`` with ``Authorization: Bearer <OAuth token>``, where
``base_url`` is ``https://{location}-aiplatform.googleapis.com`` (``https://aiplatform.
googleapis.com`` for the ``global`` location) unless ``VERTEX_BASE_URL`` names another.
``VERTEX_PUBLISHER`` chooses the model family:

- ``google`` (Gemini): pages as text parts and inline PNG parts, the system prompt as
  ``systemInstruction``, structured output through ``generationConfig.responseJsonSchema`` (the
  type's JSON schema) with ``responseMimeType: application/json``;
- ``anthropic`` (Claude): Anthropic's Messages body without ``model`` (it is in the URL) and with
  ``anthropic_version: vertex-2023-10-16`` in the body instead of a header, read and repaired
  exactly as ``anthropic.AnthropicProvider`` does.

Credentials come from google-auth's application default credentials
(``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth application-default login``, the metadata
server of GCE, GKE or Cloud Run), resolved once per process and refreshed before they expire;
``VERTEX_ACCESS_TOKEN`` may give a fixed token instead. The flow, retries and repair request are
``http.HttpProvider``'s: 429 (RESOURCE_EXHAUSTED) and 5xx are transient.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from typing import Any

import google.auth
import google.auth.exceptions
import google.auth.transport.requests
import httpx

from extraction.images import media_type_of
from extraction.prompts import REPAIR_PROMPT, SYSTEM_PROMPT
from extraction.schemas import DocumentTypeSpec, OutputInvalid

from .anthropic import AnthropicProvider, messages_body
from .base import (
    ExtractionRequest,
    ProviderConfigError,
    ProviderOutputError,
    ProviderTransientError,
)
from .http import Answer, HttpProvider, page_blocks

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
ANTHROPIC_VERSION = "vertex-2023-10-16"
# Gemini's reasons for stopping without a usable answer.
BLOCKED = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
)

_credentials: dict[int, Any] = {}
_credentials_lock = threading.Lock()


def google_access_token() -> str:
    """A valid OAuth access token from application default credentials, refreshed when it
    is about to expire. ``ProviderConfigError`` when none are configured or they are refused,
    ``ProviderTransientError`` when the token server cannot be reached."""
    pid = os.getpid()
    with _credentials_lock:
        credentials = _credentials.get(pid)
        try:
            if credentials is None:
                credentials, _project = google.auth.default(scopes=list(SCOPES))
                _credentials.clear()
                _credentials[pid] = credentials
            if not credentials.valid:
                credentials.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.DefaultCredentialsError as exc:
            raise ProviderConfigError(
                "No Google credentials found. Set GOOGLE_APPLICATION_CREDENTIALS to a service "
                "account key file, run `gcloud auth application-default login`, or run on "
                "Google Cloud with a service account."
            ) from exc
        except google.auth.exceptions.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise ProviderTransientError(
                    f"Google's token server is unavailable ({exc})."
                ) from exc
            raise ProviderConfigError(
                f"Google refused the credentials ({exc}). Check GOOGLE_APPLICATION_CREDENTIALS."
            ) from exc
        except google.auth.exceptions.TransportError as exc:
            raise ProviderTransientError(f"Could not reach Google's token server ({exc}).") from exc
        return str(credentials.token)


def google_credentials_forget() -> None:
    """Forget the resolved credentials (tests, and after rotating keys)."""
    with _credentials_lock:
        _credentials.clear()


class _VertexAuth:
    """What both Vertex providers share: the URL, the bearer token and what to check on 401/403.
    Mixed in before ``HttpProvider``."""

    settings_prefix = "VERTEX"
    publisher: str
    method: str
    base_url_hint = "Set VERTEX_LOCATION (or VERTEX_BASE_URL)."
    settings_hint = "Check VERTEX_MODEL, VERTEX_PROJECT and VERTEX_LOCATION."
    vertex_options = ("project", "location", "access_token")

    def _setup(self, project: str, location: str, access_token: str) -> str:
        """Check the Vertex settings; return the base URL to use when none is set."""
        if not project:
            raise ProviderConfigError(
                "VERTEX_PROJECT is empty. Set it to the Google Cloud project ID."
            )
        if not location:
            raise ProviderConfigError("VERTEX_LOCATION is empty. Set it, e.g. us-central1.")
        self.project = project
        self.location = location
        self.access_token = access_token
        if location == "global":
            return "https://aiplatform.googleapis.com"
        return f"https://{location}-aiplatform.googleapis.com"

    @property
    def url(self) -> str:
        return (
            f"{self.base_url}/v1/projects/{self.project}/locations/{self.location}"  # type: ignore[attr-defined]
            f"/publishers/{self.publisher}/models/{self.model}:{self.method}"  # type: ignore[attr-defined]
        )

    def _request_headers(self, payload: bytes) -> dict[str, str]:
        token = self.access_token or google_access_token()
        return {**self._headers(), "Authorization": f"Bearer {token}"}  # type: ignore[attr-defined]

    def _auth_message(self, status: int) -> str:
        return (
            f"Google refused the request ({status}): the credentials are invalid or lack "
            f"aiplatform.endpoints.predict on project '{self.project}', or the model "
            f"'{self.model}' is not enabled there. Check GOOGLE_APPLICATION_CREDENTIALS, "  # type: ignore[attr-defined]
            "VERTEX_PROJECT and VERTEX_MODEL."
        )


class VertexGeminiProvider(_VertexAuth, HttpProvider[Answer]):
    name = "vertex"
    publisher = "google"
    method = "generateContent"
    settings_options = (*HttpProvider.settings_options[:1], *HttpProvider.settings_options[2:])
    settings_options = (*settings_options, *_VertexAuth.vertex_options)

    def __init__(
        self,
        *,
        project: str,
        location: str = "us-central1",
        base_url: str = "",
        access_token: str = "",
        **options: Any,
    ):
        default = self._setup(project, location, access_token)
        super().__init__(base_url=base_url or default, **options)

    def _headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **self.extra_headers,
        }

    def _messages(self, request: ExtractionRequest) -> list[dict[str, Any]]:
        return [{"role": "user", "parts": gemini_parts(page_blocks(request, _image_block))}]

    def _body(self, spec: DocumentTypeSpec, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "systemInstruction": {"parts": [{"text": SYSTEM_PROMPT}]},
            "contents": messages,
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": spec.json_schema(),
                "maxOutputTokens": self.max_tokens,
            },
        }

    def _read(self, response: httpx.Response) -> Answer:
        body = response.text
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            candidates = data.get("candidates") or []
        except (ValueError, TypeError) as exc:
            raise ProviderOutputError(
                "Vertex AI answered with something that is not a generateContent response.",
                raw_response=body,
            ) from exc
        blocked = (data.get("promptFeedback") or {}).get("blockReason")
        if blocked:
            raise ProviderOutputError(
                f"Vertex AI blocked the request ({blocked}).", raw_response=body
            )
        if not candidates or not isinstance(candidates[0], dict):
            raise ProviderOutputError("The LLM returned no answer.", raw_response=body)
        candidate = candidates[0]
        finish = candidate.get("finishReason")
        if finish in BLOCKED:
            raise ProviderOutputError(
                f"Vertex AI stopped the answer ({finish}).", raw_response=body
            )
        if finish == "MAX_TOKENS":
            raise ProviderOutputError(
                "The LLM's answer was cut off at the token limit. Raise VERTEX_MAX_TOKENS.",
                raw_response=body,
            )
        parts = (candidate.get("content") or {}).get("parts") or []
        # Thought summaries (``thought: true``) are not the answer.
        text = "".join(
            p.get("text", "") for p in parts if isinstance(p, dict) and not p.get("thought")
        )
        if not text.strip():
            raise ProviderOutputError("The LLM returned an empty answer.", raw_response=body)
        usage = data.get("usageMetadata") or {}
        return Answer(
            body=body,
            text=text,
            model=str(data.get("modelVersion") or self.model),
            tokens_in=int(usage.get("promptTokenCount") or 0),
            # Thinking tokens are billed as output.
            tokens_out=int(usage.get("candidatesTokenCount") or 0)
            + int(usage.get("thoughtsTokenCount") or 0),
        )

    def _repair_turn(self, answer: Answer, error: OutputInvalid) -> list[dict[str, Any]]:
        return [
            {"role": "model", "parts": [{"text": answer.text}]},
            {"role": "user", "parts": [{"text": REPAIR_PROMPT.format(errors=error)}]},
        ]


class VertexClaudeProvider(_VertexAuth, AnthropicProvider):
    """Claude on Vertex AI: Anthropic's Messages body, Google's URL and credentials."""

    name = "vertex"
    publisher = "anthropic"
    method = "rawPredict"
    settings_options = (*HttpProvider.settings_options[:1], *HttpProvider.settings_options[2:])
    settings_options = (*settings_options, *_VertexAuth.vertex_options, "anthropic_version")

    def __init__(
        self,
        *,
        project: str,
        location: str = "us-east5",
        base_url: str = "",
        access_token: str = "",
        anthropic_version: str = ANTHROPIC_VERSION,
        **options: Any,
    ):
        default = self._setup(project, location, access_token)
        super().__init__(base_url=base_url or default, **options)
        self.anthropic_version = anthropic_version

    def _headers(self) -> dict[str, str]:
        # No anthropic-version header and no x-api-key: the version is in the body, the
        # credentials are Google's.
        return {
            "content-type": "application/json",
            "accept": "application/json",
            **self.extra_headers,
        }

    def _body(self, spec: DocumentTypeSpec, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "anthropic_version": self.anthropic_version,
            **messages_body(spec, messages, max_tokens=self.max_tokens),
        }


def vertex_provider_from_settings() -> VertexGeminiProvider | VertexClaudeProvider:
    """The Vertex provider VERTEX_PUBLISHER names, built from the VERTEX_* settings."""
    from django.conf import settings

    publisher = (settings.VERTEX_PUBLISHER or "google").lower()
    if publisher == "google":
        return VertexGeminiProvider.from_settings()
    if publisher == "anthropic":
        return VertexClaudeProvider.from_settings()
    raise ProviderConfigError(
        f"VERTEX_PUBLISHER is '{settings.VERTEX_PUBLISHER}'. Set it to 'google' (Gemini) or "
        "'anthropic' (Claude)."
    )


def gemini_parts(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``page_blocks``' typed blocks as Gemini parts: ``{"text"}`` or ``{"inlineData"}``."""
    return [
        {"text": b["text"]} if b.get("type") == "text" else {"inlineData": b["inlineData"]}
        for b in blocks
    ]


def _image_block(image_png: bytes) -> dict[str, Any]:
    # A scanned page is sent as a JPEG (``images.encoded_for_model``), so its type is read
    # from its bytes.
    data = base64.b64encode(image_png).decode("ascii")
    return {"type": "image", "inlineData": {"mimeType": media_type_of(image_png), "data": data}}
