"""AWS Bedrock provider: the Converse API over httpx, signed with SigV4 through botocore.

``POST {base_url}/model/{model id}/converse`` where ``base_url`` is
``https://bedrock-runtime.{BEDROCK_REGION}.amazonaws.com`` unless ``BEDROCK_BASE_URL`` names
another endpoint (a VPC endpoint, a test server). Converse takes the same body for every vision
model Bedrock hosts (Claude, Nova, Llama...), so the model id alone chooses the model: a
foundation model id (``anthropic.claude-haiku-4-5-20251001-v1:0``), an inference profile
(``us.anthropic...``) or an ARN. Pages go as text blocks and PNG image blocks (base64 bytes,
as the JSON wire format carries blobs); structured output is a forced tool call whose
``inputSchema`` is the document type's JSON schema, as for Anthropic's own API.

Credentials come from botocore's usual chain (environment, ``AWS_PROFILE`` or
``BEDROCK_PROFILE``, shared files, SSO, container and instance roles), resolved once per process
and profile and refreshed by botocore as they near expiry; each request is signed by botocore's
``SigV4Auth`` (never by hand) over the exact bytes sent. The flow, retries and repair request
are ``http.HttpProvider``'s; Bedrock's 429 (ThrottlingException), 408 (ModelTimeoutException)
and 5xx are transient.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, NoCredentialsError
from botocore.session import Session

from extraction.images import media_type_of
from extraction.prompts import REPAIR_PROMPT, SYSTEM_PROMPT
from extraction.schemas import DocumentTypeSpec, OutputInvalid, validate_output

from .anthropic import TOOL_NAME
from .base import (
    ExtractionRequest,
    ProviderConfigError,
    ProviderOutputError,
    ProviderTransientError,
)
from .http import Answer, HttpProvider, page_blocks, parse_values

SIGNING_SERVICE = "bedrock"

_credentials: dict[tuple[int, str], Credentials] = {}
_credentials_lock = threading.Lock()


def aws_credentials(profile: str = "") -> Credentials:
    """This process's credentials for ``profile`` (blank: botocore's default chain).

    Raises ``ProviderConfigError`` when the chain finds none. The object is kept: botocore
    refreshes temporary credentials (roles, SSO) itself when asked for a frozen copy.
    """
    key = (os.getpid(), profile)
    found = _credentials.get(key)
    if found is not None:
        return found
    with _credentials_lock:
        try:
            found = Session(profile=profile or None).get_credentials()
        except BotoCoreError as exc:
            raise ProviderConfigError(
                f"AWS credentials could not be loaded ({exc}). Check BEDROCK_PROFILE or the "
                "AWS_* environment variables."
            ) from exc
        if found is None:
            raise ProviderConfigError(
                "No AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE (or BEDROCK_PROFILE), or run with an instance or task role."
            )
        _credentials[key] = found
        return found


def aws_credentials_forget() -> None:
    """Forget the resolved credentials (tests, and after rotating keys)."""
    with _credentials_lock:
        _credentials.clear()


@dataclass(frozen=True)
class _Converse(Answer):
    """An answer with the forced tool call, when the model made it."""

    tool_use: dict[str, Any] | None = None


class BedrockProvider(HttpProvider[_Converse]):
    name = "bedrock"
    settings_prefix = "BEDROCK"
    settings_options = (
        "base_url",
        "region",
        "profile",
        "model",
        "timeout_seconds",
        "max_tokens",
        "extra_headers",
        "prices",
    )
    base_url_hint = "Set BEDROCK_REGION (or BEDROCK_BASE_URL)."
    settings_hint = "Check BEDROCK_MODEL and BEDROCK_REGION."
    transient_statuses = frozenset({*HttpProvider.transient_statuses, 424})

    def __init__(
        self, *, region: str, base_url: str = "", profile: str = "", **options: Any
    ) -> None:
        if not region:
            raise ProviderConfigError(
                "BEDROCK_REGION is empty. Set it to the AWS region hosting the model."
            )
        super().__init__(
            base_url=base_url or f"https://bedrock-runtime.{region}.amazonaws.com", **options
        )
        self.region = region
        self.profile = profile

    @property
    def url(self) -> str:
        # The model id may hold ':' and, as an ARN, '/': one escaped path segment.
        return f"{self.base_url}/model/{urllib.parse.quote(self.model, safe='')}/converse"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        headers.update(self.extra_headers)
        return headers

    def _request_headers(self, payload: bytes) -> dict[str, str]:
        """The headers with botocore's SigV4 signature over ``payload``: ``Authorization``,
        ``X-Amz-Date`` and, for temporary credentials, ``X-Amz-Security-Token``."""
        credentials = aws_credentials(self.profile)
        try:
            frozen = credentials.get_frozen_credentials()
        except (BotoCoreError, NoCredentialsError) as exc:
            # A role's credentials could not be refreshed (metadata service, STS): try later.
            raise ProviderTransientError(
                f"AWS credentials could not be refreshed ({exc})."
            ) from exc
        request = AWSRequest(method="POST", url=self.url, data=payload, headers=self._headers())
        SigV4Auth(frozen, SIGNING_SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())

    def _auth_message(self, status: int) -> str:
        return (
            f"AWS refused the request ({status}): the credentials are invalid or lack "
            f"bedrock:InvokeModel on '{self.model}' in {self.region}, or the model is not "
            "enabled for the account. Check the AWS credentials, BEDROCK_MODEL and "
            "BEDROCK_REGION."
        )

    def _messages(self, request: ExtractionRequest) -> list[dict[str, Any]]:
        return [{"role": "user", "content": converse_blocks(page_blocks(request, _image_block))}]

    def _body(self, spec: DocumentTypeSpec, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "system": [{"text": SYSTEM_PROMPT}],
            "messages": messages,
            "inferenceConfig": {"maxTokens": self.max_tokens},
            "toolConfig": {
                "tools": [
                    {
                        "toolSpec": {
                            "name": TOOL_NAME,
                            "description": f"Record the fields of this {spec.label} as "
                            "printed, null where a value is not shown.",
                            "inputSchema": {"json": spec.json_schema()},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": TOOL_NAME}},
            },
        }

    def _read(self, response: httpx.Response) -> _Converse:
        body = response.text
        try:
            data = json.loads(body)
            content = data["output"]["message"]["content"]
            if not isinstance(content, list):
                raise TypeError("content is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderOutputError(
                "Bedrock answered with something that is not a Converse response.",
                raw_response=body,
            ) from exc
        stop_reason = data.get("stopReason")
        text = "".join(b["text"] for b in content if isinstance(b, dict) and "text" in b)
        if stop_reason in ("guardrail_intervened", "content_filtered"):
            raise ProviderOutputError(
                f"Bedrock stopped the answer ({stop_reason}).", raw_response=body
            )
        if stop_reason == "max_tokens":
            raise ProviderOutputError(
                "The LLM's answer was cut off at the token limit. Raise BEDROCK_MAX_TOKENS.",
                raw_response=body,
            )
        tool_use = next(
            (
                b["toolUse"]
                for b in content
                if isinstance(b, dict)
                and isinstance(b.get("toolUse"), dict)
                and b["toolUse"].get("name") == TOOL_NAME
            ),
            None,
        )
        if tool_use is None and not text.strip():
            raise ProviderOutputError("The LLM returned an empty answer.", raw_response=body)
        usage = data.get("usage") or {}
        return _Converse(
            body=body,
            text=text,
            # Converse does not name the model in its answer: the configured id is the one.
            model=self.model,
            tokens_in=int(usage.get("inputTokens") or 0)
            + int(usage.get("cacheReadInputTokens") or 0)
            + int(usage.get("cacheWriteInputTokens") or 0),
            tokens_out=int(usage.get("outputTokens") or 0),
            tool_use=tool_use,
        )

    def _values(self, spec: DocumentTypeSpec, answer: _Converse) -> dict[str, str | None]:
        if answer.tool_use is not None:
            return validate_output(spec, answer.tool_use.get("input"))
        return parse_values(spec, answer.text)

    def _repair_turn(self, answer: _Converse, error: OutputInvalid) -> list[dict[str, Any]]:
        """The failed tool call replayed, answered by an error tool result with the errors."""
        errors = REPAIR_PROMPT.format(errors=error)
        if answer.tool_use is not None:
            result = {
                "toolResult": {
                    "toolUseId": answer.tool_use.get("toolUseId", ""),
                    "content": [{"text": errors}],
                    "status": "error",
                }
            }
            return [
                {"role": "assistant", "content": [{"toolUse": answer.tool_use}]},
                {"role": "user", "content": [result]},
            ]
        return [
            {"role": "assistant", "content": [{"text": answer.text or "(no answer)"}]},
            {"role": "user", "content": [{"text": errors}]},
        ]


def converse_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``page_blocks``' typed blocks in Converse's shape: ``{"text": ...}`` or ``{"image":
    ...}`` (Converse names a block by its only key instead of a ``type``)."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") == "text":
            out.append({"text": block["text"]})
        else:
            out.append({"image": block["image"]})
    return out


def _image_block(image_png: bytes) -> dict[str, Any]:
    # A scanned page is sent as a JPEG (``images.encoded_for_model``): the format says what
    # the bytes are, which Converse checks.
    data = base64.b64encode(image_png).decode("ascii")
    image_format = media_type_of(image_png).split("/", 1)[1]
    return {"type": "image", "image": {"format": image_format, "source": {"bytes": data}}}
