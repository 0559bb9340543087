"""A fake LLM provider: a real HTTP server on loopback that speaks OpenAI's Chat Completions
(``POST /v1/chat/completions``), Anthropic's Messages API (``POST /v1/messages``), Azure
OpenAI's two URL forms, AWS Bedrock's Converse (SigV4 re-verified), Google Vertex AI's Gemini
``generateContent`` and Claude ``rawPredict`` (bearer token checked) and Google's OAuth token
endpoint for service accounts.

Tests and benchmarks point a provider's base URL at it, so the real HTTP client, headers, status
handling and JSON parsing all run. Every request body is checked against its request contract
(``contracts/``: OpenAI's official schema, with unknown keys forbidden; for Anthropic, the
official SDK's own request type through pydantic, ``sdk_contracts``, plus the version header and
turn rules the documentation states); a body the real API would refuse gets a 400 here too, and
is kept in ``rejected``.

Behaviour is scripted per test with a queue (``answer``, ``delay``, ``status``, ``reset``,
``broken_json``, ``schema_invalid``, ``refusal``, ``empty``, ``truncated``); each request to a
model endpoint, of either format, takes the next item and is answered in that request's format.
With the queue empty the server answers with the values registered by ``expect`` for the
requested schema's fields, or all nulls (rows fields: an empty list).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match, by_relevance

from . import sdk_contracts

# A missing required key explains a failure better than the unknown-key error it also causes
# (properties of a failed ``allOf`` part count as unevaluated).
_RELEVANCE = by_relevance(weak=frozenset({"anyOf", "oneOf", "unevaluatedProperties"}))

OPENAI_CONTRACT = "openai-chat-completions-request.schema.json"
GEMINI_CONTRACT = "vertex-generate-content-request.schema.json"
# What Vertex AI wants in a Claude body (Anthropic's Vertex documentation). The anthropic SDK
# 2.14 fills in its own API version instead; the documented value is the one checked here.
VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
SIGV4_MAX_SKEW_SECONDS = 300
# Azure OpenAI data-plane api-versions the fake accepts on deployment URLs: the GA version and
# a later preview, from Azure's API version lifecycle page (a sample, not the full list).
AZURE_API_VERSIONS = frozenset({"2024-10-21", "2025-04-01-preview"})
# Test-only credentials the fake accepts by default (never real ones).
FAKE_AWS_KEY_ID = "AKIDFAKEATTEST"
FAKE_AWS_SECRET = "fake-secret-for-tests-only"  # noqa: S105
FAKE_GOOGLE_TOKEN = "ya29.fake-google-token"  # noqa: S105
OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"
DEFAULT_TOKENS_IN = 1200
DEFAULT_TOKENS_OUT = 80


def contracts_dir() -> Path:
    """The copy of the shared contracts kept in the repository, or ATTEST_CONTRACTS_DIR."""
    override = os.environ.get("ATTEST_CONTRACTS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "contracts"


@lru_cache(maxsize=4)
def contract_validator(name: str = OPENAI_CONTRACT) -> jsonschema.Draft202012Validator:
    """The contract's validator, with unknown keys forbidden (``closed``)."""
    path = contracts_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"Request contract {path} not found. Set ATTEST_CONTRACTS_DIR to the folder holding it."
        )
    schema = closed(json.loads(path.read_text(encoding="utf-8")))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def closed(schema: Any, *, in_all_of: bool = False) -> Any:
    """``schema`` with unknown keys forbidden wherever it describes an object.

    The OpenAPI description leaves ``additionalProperties`` unset on most objects (and the real
    API refuses an unknown parameter with a 400 all the same), so a misspelt or removed key
    would pass a plain validation. Each object schema gains ``unevaluatedProperties: false``,
    which, unlike ``additionalProperties``, sees the properties declared by ``allOf`` parts; a
    direct ``allOf`` part (or ``if``/``then``/``not`` condition) is left open, since its
    siblings declare the rest. Objects that state
    ``additionalProperties`` themselves (free maps such as ``metadata``, the answer's own JSON
    schema) keep what they state.
    """
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "allOf":
            out[key] = [closed(part, in_all_of=True) for part in value]
        elif key in ("if", "then", "else", "not"):
            # Conditions on the same object, not objects of their own.
            out[key] = closed(value, in_all_of=True)
        elif key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: closed(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "required", "examples", "default"):
            out[key] = value
        else:
            out[key] = closed(value)
    describes_object = "properties" in schema or "allOf" in schema
    states_its_own = "additionalProperties" in schema or "unevaluatedProperties" in schema
    if describes_object and not states_its_own and not in_all_of:
        out["unevaluatedProperties"] = False
    return out


@dataclass
class RecordedRequest:
    """One request as the server saw it. ``headers`` keys are lower case."""

    method: str
    path: str  # as sent, percent-escapes kept, without the query
    headers: dict[str, str]
    body: Any  # parsed JSON, or None when the body was not JSON
    raw_body: bytes
    rejected: str | None = None  # why the contract check refused the body
    # time.monotonic() when the request arrived and when its answer was written, so that tests
    # can tell whether requests overlapped without timing the test itself.
    received_at: float = 0.0
    answered_at: float = 0.0
    # The client's (host, port): one port for several requests means one kept-alive connection.
    peer: tuple = ()
    # Which API the request spoke: "openai", "anthropic", "bedrock", "gemini" or
    # "vertex-anthropic" (Claude on Vertex AI: Anthropic's body and answer, Google's errors).
    wire: str = ""
    # Path parameters of the route (model, project, location...), unescaped.
    params: dict[str, str] = field(default_factory=dict)
    raw_path: str = ""  # path and query exactly as sent (SigV4 signs them)

    @property
    def is_anthropic(self) -> bool:
        """The answer is an Anthropic message (Anthropic's API, or Claude on Vertex AI)."""
        return self.path == ANTHROPIC_PATH or self.wire == "vertex-anthropic"

    def text_parts(self) -> list[str]:
        """Every text part of every message, in order; handy for asserting on the prompt.
        Reads each API's shape (OpenAI, Anthropic, Bedrock Converse, Gemini)."""
        texts: list[str] = []
        body = self.body if isinstance(self.body, dict) else {}
        system = body.get("system")
        if isinstance(system, str):
            texts.append(system)
        elif isinstance(system, list):
            texts.extend(b["text"] for b in system if isinstance(b, dict) and "text" in b)
        instruction = body.get("systemInstruction") or {}
        texts.extend(p["text"] for p in instruction.get("parts", []) if "text" in p)
        for message in [*body.get("messages", []), *body.get("contents", [])]:
            content = message.get("content", message.get("parts"))
            if isinstance(content, str):
                texts.append(content)
            elif isinstance(content, list):
                texts.extend(
                    p["text"]
                    for p in content
                    if isinstance(p, dict) and "text" in p and p.get("type", "text") == "text"
                )
        return texts

    def image_urls(self) -> list[str]:
        """Every image as a data URL, whichever API's shape carried it."""
        urls: list[str] = []
        body = self.body if isinstance(self.body, dict) else {}
        for message in [*body.get("messages", []), *body.get("contents", [])]:
            content = message.get("content", message.get("parts"))
            if not isinstance(content, list):
                continue
            for p in content:
                if not isinstance(p, dict):
                    continue
                if p.get("type") == "image_url":
                    urls.append(p["image_url"]["url"])
                elif p.get("type") == "image":
                    urls.append(f"data:{p['source']['media_type']};base64,{p['source']['data']}")
                elif isinstance(p.get("image"), dict):
                    image = p["image"]
                    urls.append(f"data:image/{image['format']};base64,{image['source']['bytes']}")
                elif isinstance(p.get("inlineData"), dict):
                    data = p["inlineData"]
                    urls.append(f"data:{data['mimeType']};base64,{data['data']}")
        return urls

    def page_numbers(self) -> list[int]:
        """The page numbers whose text this request carried."""
        found = []
        for text in self.text_parts():
            match = _PAGE_NUMBER.search(text)
            if match:
                found.append(int(match.group(1)))
        return found


@dataclass
class Reply:
    """What the handler writes back; ``reset`` drops the connection instead."""

    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False


# A scripted behaviour turns a request into a reply in the request's own wire format.
Behaviour = Callable[["FakeLLMServer", RecordedRequest], Reply]


class FakeLLMServer:
    """Start with ``with FakeLLMServer() as llm:`` or ``start()``/``stop()``.

    ``api_key``: when set, requests without ``Authorization: Bearer <api_key>`` (OpenAI) or
    ``x-api-key: <api_key>`` (Anthropic) get a 401, as the real APIs answer.
    ``model``: the model named in answers; by default the requested one.
    ``latency``: seconds every request waits before its reply, for benchmarks.
    ``aws_*``: the credentials and region Bedrock requests must be SigV4-signed with (the fake
    re-computes the signature with botocore and the same secret).
    ``google_token``: the OAuth access token Vertex AI requests must carry as a bearer token.

    Besides ``base_url`` (OpenAI, Anthropic), ``root_url`` serves Bedrock's
    ``/model/{id}/converse`` and Vertex AI's ``/v1/projects/{p}/locations/{l}/publishers/
    {google|anthropic}/models/{model}:{generateContent|rawPredict}``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        model: str | None = None,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        aws_access_key_id: str = FAKE_AWS_KEY_ID,
        aws_secret_access_key: str = FAKE_AWS_SECRET,
        aws_session_token: str | None = None,
        aws_region: str = "us-east-1",
        google_token: str = FAKE_GOOGLE_TOKEN,
    ):
        self.api_key = api_key
        # What Bedrock's SigV4 check and Vertex's bearer check accept.
        self.aws_access_key_id = aws_access_key_id
        self.aws_secret_access_key = aws_secret_access_key
        self.aws_session_token = aws_session_token
        self.aws_region = aws_region
        self.google_token = google_token
        # Azure OpenAI: the resource's key and its deployments (name -> model).
        self.azure_api_key = "azure-fake-key"  # noqa: S105
        self.azure_deployments = {"attest-reader": "gpt-5.4-mini"}
        # Public keys (PEM) of the service accounts whose signed assertions /token accepts.
        self.google_service_account_keys: list[bytes] = []
        self.model = model
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        self._host = host
        self._queue: deque[Behaviour] = deque()
        self._expected: dict[frozenset[str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._completions = 0
        self._answer_by: Callable[[RecordedRequest], dict[str, Any]] | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeLLMServer:
        # Fail here, loudly, when a contract file is missing.
        contract_validator(OPENAI_CONTRACT)
        sdk_contracts.warm_up()
        contract_validator(GEMINI_CONTRACT)
        self._stopping.clear()
        self._httpd = _Server((self._host, 0), _Handler)
        self._httpd.fake = self
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-llm",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in delay()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The fake LLM server is not running.")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """What a provider's LLM_BASE_URL should be: ``http://127.0.0.1:<port>/v1``."""
        return f"http://{self._host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>``: BEDROCK_BASE_URL, or VERTEX_BASE_URL without ``/v1``."""
        return f"http://{self._host}:{self.port}"

    @property
    def rejected(self) -> list[RecordedRequest]:
        """Requests whose body broke the official contract."""
        return [r for r in self.requests if r.rejected]

    def clear(self) -> None:
        """Forget recorded requests, scripted behaviours and expected values."""
        with self._lock:
            self.requests.clear()
            self._queue.clear()
            self._expected.clear()

    # --- scripting -------------------------------------------------------------------------------

    def expect(self, values: dict[str, Any]) -> None:
        """Default answer for any request whose schema has exactly these field keys."""
        with self._lock:
            self._expected[frozenset(values)] = dict(values)

    def answer_by(self, values_for: Callable[[RecordedRequest], dict[str, Any]] | None) -> None:
        """Default answer computed from each request (say, from the pages it carries); None
        goes back to ``expect``'s values."""
        with self._lock:
            self._answer_by = values_for

    def answer(
        self,
        values: dict[str, Any],
        *,
        tokens_in: int = DEFAULT_TOKENS_IN,
        tokens_out: int = DEFAULT_TOKENS_OUT,
    ) -> None:
        """A normal completion whose content is ``json.dumps(values)``."""
        content = json.dumps(values)
        self._push(
            lambda fake, record: fake.completion(
                record, content=content, tokens_in=tokens_in, tokens_out=tokens_out
            )
        )

    def delay(self, seconds: float) -> None:
        """Wait, then answer as if the queue were empty (the default answer)."""

        def behaviour(fake: FakeLLMServer, record: RecordedRequest) -> Reply:
            fake._stopping.wait(seconds)
            return fake.default_reply(record)

        self._push(behaviour)

    def status(
        self,
        code: int,
        *,
        retry_after: str | float | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """An error status with the API's error body and, optionally, ``Retry-After``."""
        reply_headers = dict(headers or {})
        if retry_after is not None:
            reply_headers["Retry-After"] = (
                retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
            )
        text = message or f"Fake error {code}."
        self._push(
            lambda fake, record: Reply(
                status=code, payload=_error_payload(text, code, record), headers=reply_headers
            )
        )

    def reset(self) -> None:
        """Drop the connection with a TCP reset, without an HTTP answer."""
        self._push(lambda fake, record: Reply(reset=True))

    def broken_json(self) -> None:
        """A completion whose content is cut-off JSON (for Anthropic: as text, no tool call)."""
        self._push(lambda fake, record: fake.completion(record, content='{"value": "unterminated'))

    def schema_invalid(self) -> None:
        """Valid JSON that lacks every field of the schema and adds one it forbids."""
        content = json.dumps({"unexpected_field": "not in the schema"})
        self._push(lambda fake, record: fake.completion(record, content=content))

    def refusal(self, text: str = "I'm sorry, I can't help with that.") -> None:
        self._push(lambda fake, record: fake.completion(record, content=None, refusal=text))

    def empty(self) -> None:
        self._push(lambda fake, record: fake.completion(record, content=""))

    def truncated(self) -> None:
        """A completion stopped at the token limit (``finish_reason: length``)."""
        self._push(
            lambda fake, record: fake.completion(
                record, content='{"value": "', finish_reason="length"
            )
        )

    def _push(self, behaviour: Behaviour) -> None:
        with self._lock:
            self._queue.append(behaviour)

    # --- answers ---------------------------------------------------------------------------------

    def default_reply(self, record: RecordedRequest) -> Reply:
        properties = _schema_properties(record.body)
        with self._lock:
            expected = self._expected.get(frozenset(properties))
            answer_by = self._answer_by
        if answer_by is not None:
            expected = answer_by(record)
        if expected is None:
            expected = {
                key: [] if "array" in _types(prop) else None for key, prop in properties.items()
            }
        return self.completion(record, content=json.dumps(expected))

    def completion(
        self,
        record: RecordedRequest,
        *,
        content: str | None,
        refusal: str | None = None,
        finish_reason: str = "stop",
        tokens_in: int = DEFAULT_TOKENS_IN,
        tokens_out: int = DEFAULT_TOKENS_OUT,
    ) -> Reply:
        with self._lock:
            self._completions += 1
            number = self._completions
        body = record.body
        if record.wire == "bedrock":
            return Reply(
                payload=_converse(
                    number=number,
                    content=content,
                    refusal=refusal,
                    truncated=finish_reason == "length",
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                )
            )
        if record.wire == "gemini":
            return Reply(
                payload=_gemini(
                    model=self.model or record.params.get("model", "fake-model"),
                    number=number,
                    content=content,
                    refusal=refusal,
                    truncated=finish_reason == "length",
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                )
            )
        if record.is_anthropic:
            body = {**body, "model": body.get("model") or record.params.get("model")}
            return Reply(
                payload=self._message(
                    body,
                    number=number,
                    content=content,
                    refusal=refusal,
                    truncated=finish_reason == "length",
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                )
            )
        payload = {
            "id": f"chatcmpl-fake-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model or body.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }
        return Reply(payload=payload)

    def _message(
        self,
        body: dict[str, Any],
        *,
        number: int,
        content: str | None,
        refusal: str | None,
        truncated: bool,
        tokens_in: int,
        tokens_out: int,
    ) -> dict[str, Any]:
        """An Anthropic message: a JSON object answer becomes the forced tool's input; anything
        else (broken JSON) is a text block without the tool call, as a model ignoring the tool
        would send."""
        blocks: list[dict[str, Any]] = []
        stop_reason = "end_turn"
        if refusal is not None:
            stop_reason = "refusal"
            blocks = [{"type": "text", "text": refusal}]
        elif content:
            try:
                data = json.loads(content)
            except ValueError:
                data = None
            if isinstance(data, dict):
                tool = (body.get("tool_choice") or {}).get("name", "tool")
                blocks = [
                    {"type": "tool_use", "id": f"toolu_fake_{number}", "name": tool, "input": data}
                ]
                stop_reason = "tool_use"
            else:
                blocks = [{"type": "text", "text": content}]
        if truncated:
            stop_reason = "max_tokens"
        return {
            "id": f"msg_fake_{number}",
            "type": "message",
            "role": "assistant",
            "model": self.model or body.get("model", "fake-model"),
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
        }

    # --- request handling (called from handler threads) ------------------------------------------

    def handle(self, record: RecordedRequest) -> Reply:
        record.received_at = time.monotonic()
        with self._lock:
            self.requests.append(record)
        route = _ROUTES.get((record.method, record.path))
        if route is not None:
            record.wire = {ANTHROPIC_PATH: "anthropic", "/token": "oauth"}.get(
                record.path, "openai"
            )
        else:
            for method, pattern, wire, handler in _PATTERN_ROUTES:
                match = pattern.match(record.path) if method == record.method else None
                if match:
                    record.wire = wire
                    record.params = {
                        k: urllib.parse.unquote(v) for k, v in match.groupdict().items()
                    }
                    route = handler
                    break
        if route is None:
            return Reply(
                status=404, payload=_error_payload(f"No route {record.path}.", 404, record)
            )
        if self.latency:
            self._stopping.wait(self.latency)
        return route(self, record)

    def max_overlap(self) -> int:
        """The most requests that were being answered at one moment."""
        events = sorted(
            [(r.received_at, 1) for r in self.requests if r.answered_at]
            + [(r.answered_at, -1) for r in self.requests if r.answered_at]
        )
        current = peak = 0
        for _, change in events:
            current += change
            peak = max(peak, current)
        return peak

    def _chat_completions(self, record: RecordedRequest) -> Reply:
        if self.api_key and record.headers.get("authorization") != f"Bearer {self.api_key}":
            payload = _error_payload("Incorrect API key provided.", 401, record)
            return Reply(status=401, payload=payload)
        if not isinstance(record.body, dict):
            record.rejected = "The body is not a JSON object."
            return Reply(status=400, payload=_error_payload(record.rejected, 400, record))
        problem = schema_problem(OPENAI_CONTRACT, record.body)
        if problem is not None:
            record.rejected = problem
            return Reply(status=400, payload=_error_payload(record.rejected, 400, record))
        return self._scripted(record)

    def _messages(self, record: RecordedRequest) -> Reply:
        if self.api_key and record.headers.get("x-api-key") != self.api_key:
            return Reply(status=401, payload=_error_payload("invalid x-api-key", 401, record))
        problem = _anthropic_problem(record)
        if problem is not None:
            record.rejected = problem
            return Reply(status=400, payload=_error_payload(problem, 400, record))
        return self._scripted(record)

    def _converse(self, record: RecordedRequest) -> Reply:
        """Bedrock: the SigV4 signature re-computed with the same credentials, then the body
        against botocore's own model of Converse."""
        problem = sigv4_problem(self, record)
        if problem is not None:
            return Reply(
                status=403,
                payload=_error_payload(problem, 403, record),
                headers={"x-amzn-ErrorType": "InvalidSignatureException"},
            )
        problem = sdk_contracts.bedrock_converse_problem(record.body, record.params["model"])
        if problem is not None:
            record.rejected = problem
            return Reply(
                status=400,
                payload=_error_payload(problem, 400, record),
                headers={"x-amzn-ErrorType": "ValidationException"},
            )
        return self._scripted(record)

    def _vertex(self, record: RecordedRequest) -> Reply:
        """Vertex AI: the bearer token, then the body (Gemini's generateContent, or Claude's
        Messages body with ``anthropic_version`` and no ``model``)."""
        if record.headers.get("authorization") != f"Bearer {self.google_token}":
            message = "Request had invalid authentication credentials."
            return Reply(status=401, payload=_error_payload(message, 401, record))
        if record.wire == "gemini":
            problem = gemini_problem(record.body)
        elif not isinstance(record.body, dict):
            problem = "The body is not a JSON object."
        elif record.body.get("anthropic_version") != VERTEX_ANTHROPIC_VERSION:
            problem = (
                f"anthropic_version is {record.body.get('anthropic_version')!r}; "
                f"expected {VERTEX_ANTHROPIC_VERSION!r}."
            )
        else:
            body = {k: v for k, v in record.body.items() if k != "anthropic_version"}
            problem = messages_problem(body, model_in_body=False)
        if problem is not None:
            record.rejected = problem
            return Reply(status=400, payload=_error_payload(problem, 400, record))
        return self._scripted(record)

    def _azure(self, record: RecordedRequest) -> Reply:
        """Azure OpenAI, as its two URL forms behave: ``/openai/v1/chat/completions`` names the
        deployment in ``model`` and needs no api-version; ``/openai/deployments/{name}/chat/
        completions`` names it in the URL and needs a known ``api-version``. The key comes as
        ``api-key`` (either form) or as a bearer token (v1 only)."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(record.raw_path).query)
        by_url = "deployment" in record.params
        key_ok = record.headers.get("api-key") == self.azure_api_key or (
            not by_url and record.headers.get("authorization") == f"Bearer {self.azure_api_key}"
        )
        if not key_ok:
            message = "Access denied due to invalid subscription key or wrong API endpoint."
            return Reply(status=401, payload=_error_payload(message, 401, record))
        if by_url:
            version = (query.get("api-version") or [""])[0]
            if version not in AZURE_API_VERSIONS:
                return Reply(
                    status=404 if not version else 400,
                    payload=_error_payload(
                        f"API version {version!r} is not supported."
                        if version
                        else "Resource not found (api-version is required).",
                        404 if not version else 400,
                        record,
                    ),
                )
            deployment = record.params["deployment"]
        else:
            deployment = (record.body or {}).get("model") if isinstance(record.body, dict) else ""
        if deployment not in self.azure_deployments:
            message = f"The API deployment {deployment!r} does not exist (DeploymentNotFound)."
            return Reply(status=404, payload=_error_payload(message, 404, record))
        record.params["deployment"] = deployment
        return self._chat_completions(record)

    def _token(self, record: RecordedRequest) -> Reply:
        """Google's OAuth token endpoint for a service account (the ``token_uri`` of its key
        file): the JWT assertion must be signed by a trusted key, for this endpoint and the
        cloud-platform scope; the answer is ``google_token``."""
        import google.auth.jwt

        form = urllib.parse.parse_qs(record.raw_body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return Reply(status=400, payload={"error": "unsupported_grant_type"})
        # google-auth addresses the assertion to Google's token endpoint whatever token_uri is.
        audience = "https://oauth2.googleapis.com/token"
        claims = None
        for key in self.google_service_account_keys:
            try:
                claims = google.auth.jwt.decode(
                    form.get("assertion", [""])[0], certs=key, audience=audience
                )
                break
            except ValueError:
                continue
        if claims is None:
            return Reply(
                status=400,
                payload={"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
            )
        if "https://www.googleapis.com/auth/cloud-platform" not in claims.get("scope", ""):
            return Reply(status=400, payload={"error": "invalid_scope"})
        return Reply(
            payload={"access_token": self.google_token, "expires_in": 3600, "token_type": "Bearer"}
        )

    def _scripted(self, record: RecordedRequest) -> Reply:
        with self._lock:
            behaviour = self._queue.popleft() if self._queue else None
        if behaviour is None:
            return self.default_reply(record)
        return behaviour(self, record)


_ROUTES: dict[tuple[str, str], Callable[[FakeLLMServer, RecordedRequest], Reply]] = {
    ("POST", OPENAI_PATH): FakeLLMServer._chat_completions,
    ("POST", ANTHROPIC_PATH): FakeLLMServer._messages,
    ("POST", "/token"): FakeLLMServer._token,
}
_PATTERN_ROUTES: list[
    tuple[str, re.Pattern[str], str, Callable[[FakeLLMServer, RecordedRequest], Reply]]
] = [
    ("POST", re.compile(r"^/model/(?P<model>[^/]+)/converse$"), "bedrock", FakeLLMServer._converse),
    (
        "POST",
        re.compile(
            r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
            r"/publishers/google/models/(?P<model>[^/:]+):generateContent$"
        ),
        "gemini",
        FakeLLMServer._vertex,
    ),
    (
        "POST",
        re.compile(
            r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
            r"/publishers/anthropic/models/(?P<model>[^/:]+):rawPredict$"
        ),
        "vertex-anthropic",
        FakeLLMServer._vertex,
    ),
]
_PATTERN_ROUTES += [
    ("POST", re.compile(r"^/openai/v1/chat/completions$"), "openai", FakeLLMServer._azure),
    (
        "POST",
        re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions$"),
        "openai",
        FakeLLMServer._azure,
    ),
]
_PAGE_NUMBER = re.compile(r'<page_text page="(\d+)">')


def _anthropic_problem(record: RecordedRequest) -> str | None:
    """Why the Messages API would refuse this request, or None.

    The version header is the installed SDK's; the body's shape is the SDK's request type; the
    rest comes from the documentation: turns that start with the user and alternate, every
    tool_result answering a tool_use of the turn before, and a forced tool that exists.
    """
    version = record.headers.get("anthropic-version")
    expected = sdk_contracts.anthropic_api_version()
    if version != expected:
        return f"anthropic-version header is {version!r}; expected {expected!r}."
    if "json" not in record.headers.get("content-type", ""):
        return "content-type must be application/json."
    return messages_problem(record.body)


def messages_problem(body: Any, *, model_in_body: bool = True) -> str | None:
    """Why the Messages API would refuse this body: the SDK's request type, then the turn
    rules the documentation states. On Vertex and Bedrock the model is in the URL and the
    body carries ``anthropic_version`` instead (``model_in_body=False``)."""
    if not isinstance(body, dict):
        return "The body is not a JSON object."
    if not model_in_body:
        if "model" in body:
            return "model: not allowed in the body here (it is part of the URL)."
        body = {**body, "model": "in-the-url"}
    problem = sdk_contracts.anthropic_request_problem(body)
    if problem is not None:
        return problem
    record_body = body
    messages = record_body["messages"]
    if not messages or messages[0]["role"] != "user":
        return "messages: the first message must use the user role."
    for before, after in zip(messages, messages[1:], strict=False):
        if before["role"] == after["role"]:
            return "messages: roles must alternate between user and assistant."
        used = {
            b["id"]
            for b in (before["content"] if isinstance(before["content"], list) else [])
            if b.get("type") == "tool_use"
        }
        for block in after["content"] if isinstance(after["content"], list) else []:
            if block.get("type") == "tool_result" and block["tool_use_id"] not in used:
                return "messages: a tool_result must answer a tool_use of the previous turn."
    choice = record_body.get("tool_choice") or {}
    names = {tool["name"] for tool in record_body.get("tools", [])}
    if choice.get("type") == "tool" and choice.get("name") not in names:
        return f"tool_choice: no tool named {choice.get('name')!r}."
    return None


def _schema_properties(body: Any) -> dict[str, Any]:
    """The requested answer schema's properties, from either wire format."""
    try:
        if "response_format" in body:
            schema = body["response_format"]["json_schema"]["schema"]
        elif "toolConfig" in body:
            name = body["toolConfig"]["toolChoice"]["tool"]["name"]
            schema = next(
                t["toolSpec"]["inputSchema"]["json"]
                for t in body["toolConfig"]["tools"]
                if t["toolSpec"]["name"] == name
            )
        elif "generationConfig" in body:
            schema = body["generationConfig"]["responseJsonSchema"]
        else:
            name = body["tool_choice"]["name"]
            schema = next(t["input_schema"] for t in body["tools"] if t["name"] == name)
        return dict(schema.get("properties", {}))
    except (KeyError, TypeError, AttributeError, StopIteration):
        return {}


def _types(prop: Any) -> list[str]:
    kind = prop.get("type") if isinstance(prop, dict) else None
    return kind if isinstance(kind, list) else [kind]


def _error_payload(message: str, code: int, record: RecordedRequest) -> dict[str, Any]:
    if record.wire == "bedrock":
        return {"message": message}
    if record.wire in ("gemini", "vertex-anthropic"):
        status = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
            503: "UNAVAILABLE",
        }.get(code, "INTERNAL")
        return {"error": {"code": code, "message": message, "status": status}}
    if record.is_anthropic:
        kind = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }.get(code, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind = "invalid_request_error" if 400 <= code < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Handlers sleeping in delay() must not hold up stop(); the stop event wakes them anyway.
    block_on_close = False
    fake: FakeLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or connections reset on purpose are expected here; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects from a real API
    server: _Server

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = RecordedRequest(
            method=self.command,
            path=self.path.split("?", 1)[0],
            raw_path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_body=raw,
            peer=tuple(self.client_address),
        )
        reply = self.server.fake.handle(record)
        record.answered_at = time.monotonic()
        if reply.reset:
            self._reset_connection()
            return
        data = json.dumps(reply.payload).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            # The client gave up (timeout) before the answer was ready.
            self.close_connection = True

    def _reset_connection(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; requests are recorded instead


# --- Bedrock and Vertex AI ---------------------------------------------------------------------

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)"
    r"/(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


def sigv4_problem(fake: FakeLLMServer, record: RecordedRequest) -> str | None:
    """Why AWS would refuse this request's signature, or None.

    As Bedrock does: the credential scope names the known access key, this region, service
    ``bedrock`` and the request's own date; ``host``, ``x-amz-date`` and ``content-type`` (and
    ``x-amz-security-token`` with temporary credentials) are signed; the time is within five
    minutes; and the signature, re-computed by botocore's SigV4 with the fake's secret over the
    method, path, signed headers and the body's bytes, is the one sent.
    """
    import hmac
    from datetime import UTC, datetime

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = record.headers
    match = _AUTHORIZATION.match(headers.get("authorization", ""))
    if match is None:
        return "Missing or malformed SigV4 Authorization header."
    if match["key"] != fake.aws_access_key_id:
        return "The security token included in the request is invalid (unknown access key)."
    if (match["region"], match["service"]) != (fake.aws_region, "bedrock"):
        return f"Credential scope {match['region']}/{match['service']} is not this endpoint's."
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "X-Amz-Date is missing or malformed."
    if amz_date[:8] != match["date"]:
        return "The credential scope's date is not the request's date."
    if abs((datetime.now(UTC) - signed_at).total_seconds()) > SIGV4_MAX_SKEW_SECONDS:
        return "Signature expired: the request time is too far from the server's."
    signed = match["signed"].split(";")
    required = {"host", "x-amz-date", "content-type"}
    if fake.aws_session_token:
        required.add("x-amz-security-token")
        if headers.get("x-amz-security-token") != fake.aws_session_token:
            return "The security token included in the request is invalid."
    if not required <= set(signed):
        return f"SignedHeaders lacks {sorted(required - set(signed))}."
    missing = [h for h in signed if h not in headers]
    if missing:
        return f"Signed headers {missing} were not sent."
    request = AWSRequest(
        method=record.method,
        url=f"http://{headers['host']}{record.raw_path}",
        data=record.raw_body,
        headers={h: headers[h] for h in signed if h != "host"},
    )
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(
        Credentials(fake.aws_access_key_id, fake.aws_secret_access_key, fake.aws_session_token),
        "bedrock",
        fake.aws_region,
    )
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return "The request signature we calculated does not match the signature you provided."
    return None


def gemini_problem(body: Any) -> str | None:
    """Why Vertex AI's generateContent would refuse this body (the closed contract), or None."""
    if not isinstance(body, dict):
        return "The body is not a JSON object."
    return schema_problem(GEMINI_CONTRACT, body)


def schema_problem(contract: str, body: Any) -> str | None:
    """Why ``body`` breaks the (closed) contract, or None.

    One unknown key inside a ``oneOf`` member fails every member, and a failed ``allOf`` part
    leaves its properties unevaluated at the top; the telling error is the unknown-key error
    that lists the fewest keys, the deepest first. Otherwise, jsonschema's best match.
    """
    errors = list(contract_validator(contract).iter_errors(body))
    if not errors:
        return None
    unknown = [
        e
        for e in _error_tree(errors)
        if e.validator == "unevaluatedProperties"
        and e.validator_value is False
        # Declared keys reported as unexpected: an artifact of another failure (a missing
        # required key fails the allOf part that declares them), not an unknown key.
        and not set(re.findall(r"'([^']+)'", e.message)) & _declared(e.schema)
    ]
    if unknown:
        error = min(unknown, key=lambda e: (len(e.message.split("', '")), -len(e.absolute_path)))
    else:
        error = best_match(errors, key=_RELEVANCE)
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message}"


def _declared(schema: Any) -> set[str]:
    """The property names a schema declares, itself or through its composition parts."""
    if not isinstance(schema, dict):
        return set()
    names = set(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            names |= _declared(part)
    return names


def _error_tree(errors: Any) -> Any:
    for error in errors:
        yield error
        yield from _error_tree(error.context or [])


def _converse(
    *,
    number: int,
    content: str | None,
    refusal: str | None,
    truncated: bool,
    tokens_in: int,
    tokens_out: int,
) -> dict[str, Any]:
    """A Converse answer: a JSON object becomes the forced tool's input, other text a text
    block; a refusal is Bedrock's guardrail stop."""
    blocks: list[dict[str, Any]] = []
    stop_reason = "end_turn"
    if refusal is not None:
        stop_reason = "guardrail_intervened"
        blocks = [{"text": refusal}]
    elif content:
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        if isinstance(data, dict):
            blocks = [
                {
                    "toolUse": {
                        "toolUseId": f"tooluse_fake_{number}",
                        "name": "record_fields",
                        "input": data,
                    }
                }
            ]
            stop_reason = "tool_use"
        else:
            blocks = [{"text": content}]
    if truncated:
        stop_reason = "max_tokens"
    return {
        "output": {"message": {"role": "assistant", "content": blocks}},
        "stopReason": stop_reason,
        "usage": {
            "inputTokens": tokens_in,
            "outputTokens": tokens_out,
            "totalTokens": tokens_in + tokens_out,
        },
        "metrics": {"latencyMs": 1},
    }


def _gemini(
    *,
    model: str,
    number: int,
    content: str | None,
    refusal: str | None,
    truncated: bool,
    tokens_in: int,
    tokens_out: int,
) -> dict[str, Any]:
    """A generateContent answer: the text in one candidate; a refusal is a SAFETY stop with no
    content, as Gemini sends it."""
    candidate: dict[str, Any] = {"index": 0}
    if refusal is not None:
        candidate["finishReason"] = "SAFETY"
    else:
        candidate["content"] = {"role": "model", "parts": [{"text": content or ""}]}
        candidate["finishReason"] = "MAX_TOKENS" if truncated else "STOP"
    return {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": tokens_in,
            "candidatesTokenCount": tokens_out,
            "totalTokenCount": tokens_in + tokens_out,
        },
        "modelVersion": model,
        "responseId": f"fake-{number}",
    }
