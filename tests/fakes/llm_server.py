"""A fake LLM provider: a real HTTP server on loopback that speaks OpenAI's Chat Completions.

Tests and benchmarks point a provider's base URL at it, so the real HTTP client, headers, status
handling and JSON parsing all run. Every request body is checked against the official request
contract (``shared/contracts/openai-chat-completions-request.schema.json``); a body the real API
would refuse gets a 400 here too, and is kept in ``rejected``.

Behaviour is scripted per test with a queue (``answer``, ``delay``, ``status``, ``reset``,
``broken_json``, ``schema_invalid``, ``refusal``, ``empty``, ``truncated``); each request to a
model endpoint takes the next item. With the queue empty the server answers with the values
registered by ``expect`` for the requested schema's fields, or all nulls.

Anthropic's ``POST /v1/messages`` belongs in ``_ROUTES`` beside Chat Completions.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

OPENAI_CONTRACT = "openai-chat-completions-request.schema.json"
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
    path = contracts_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"Request contract {path} not found. Set ATTEST_CONTRACTS_DIR to the folder holding it."
        )
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@dataclass
class RecordedRequest:
    """One request as the server saw it. ``headers`` keys are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or None when the body was not JSON
    raw_body: bytes
    rejected: str | None = None  # why the contract check refused the body

    def text_parts(self) -> list[str]:
        """Every text part of every message, in order; handy for asserting on the prompt."""
        texts: list[str] = []
        for message in (self.body or {}).get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                texts.append(content)
            elif isinstance(content, list):
                texts.extend(p["text"] for p in content if p.get("type") == "text")
        return texts

    def image_urls(self) -> list[str]:
        urls: list[str] = []
        for message in (self.body or {}).get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                urls.extend(p["image_url"]["url"] for p in content if p.get("type") == "image_url")
        return urls


@dataclass
class Reply:
    """What the handler writes back; ``reset`` drops the connection instead."""

    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False


# A scripted behaviour turns the request body into a reply.
Behaviour = Callable[["FakeLLMServer", dict[str, Any]], Reply]


class FakeLLMServer:
    """Start with ``with FakeLLMServer() as llm:`` or ``start()``/``stop()``.

    ``api_key``: when set, requests without ``Authorization: Bearer <api_key>`` get a 401, as the
    real API answers. ``model``: the model named in answers; by default the requested one.
    ``latency``: seconds every request waits before its reply, for benchmarks.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        model: str | None = None,
        latency: float = 0.0,
        host: str = "127.0.0.1",
    ):
        self.api_key = api_key
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

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeLLMServer:
        contract_validator()  # fail here, loudly, when the contract file is missing
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
            lambda fake, body: fake.completion(
                body, content=content, tokens_in=tokens_in, tokens_out=tokens_out
            )
        )

    def delay(self, seconds: float) -> None:
        """Wait, then answer as if the queue were empty (the default answer)."""

        def behaviour(fake: FakeLLMServer, body: dict[str, Any]) -> Reply:
            fake._stopping.wait(seconds)
            return fake.default_reply(body)

        self._push(behaviour)

    def status(
        self,
        code: int,
        *,
        retry_after: str | float | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """An error status with an OpenAI-shaped error body and, optionally, ``Retry-After``."""
        reply_headers = dict(headers or {})
        if retry_after is not None:
            reply_headers["Retry-After"] = (
                retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
            )
        payload = _error_payload(message or f"Fake error {code}.", code)
        self._push(lambda fake, body: Reply(status=code, payload=payload, headers=reply_headers))

    def reset(self) -> None:
        """Drop the connection with a TCP reset, without an HTTP answer."""
        self._push(lambda fake, body: Reply(reset=True))

    def broken_json(self) -> None:
        """A completion whose content is cut-off JSON."""
        self._push(lambda fake, body: fake.completion(body, content='{"value": "unterminated'))

    def schema_invalid(self) -> None:
        """Valid JSON that lacks every field of the schema and adds one it forbids."""
        content = json.dumps({"unexpected_field": "not in the schema"})
        self._push(lambda fake, body: fake.completion(body, content=content))

    def refusal(self, text: str = "I'm sorry, I can't help with that.") -> None:
        self._push(lambda fake, body: fake.completion(body, content=None, refusal=text))

    def empty(self) -> None:
        self._push(lambda fake, body: fake.completion(body, content=""))

    def truncated(self) -> None:
        """A completion stopped at the token limit (``finish_reason: length``)."""
        self._push(
            lambda fake, body: fake.completion(body, content='{"value": "', finish_reason="length")
        )

    def _push(self, behaviour: Behaviour) -> None:
        with self._lock:
            self._queue.append(behaviour)

    # --- answers ---------------------------------------------------------------------------------

    def default_reply(self, body: dict[str, Any]) -> Reply:
        keys = _schema_keys(body)
        with self._lock:
            expected = self._expected.get(frozenset(keys))
        values = expected if expected is not None else dict.fromkeys(keys)
        return self.completion(body, content=json.dumps(values))

    def completion(
        self,
        body: dict[str, Any],
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

    # --- request handling (called from handler threads) ------------------------------------------

    def handle(self, record: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(record)
        route = _ROUTES.get((record.method, record.path))
        if route is None:
            return Reply(status=404, payload=_error_payload(f"No route {record.path}.", 404))
        if self.latency:
            self._stopping.wait(self.latency)
        return route(self, record)

    def _chat_completions(self, record: RecordedRequest) -> Reply:
        if self.api_key and record.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(status=401, payload=_error_payload("Incorrect API key provided.", 401))
        if not isinstance(record.body, dict):
            record.rejected = "The body is not a JSON object."
            return Reply(status=400, payload=_error_payload(record.rejected, 400))
        error = best_match(contract_validator().iter_errors(record.body))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(body)"
            record.rejected = f"{where}: {error.message}"
            return Reply(status=400, payload=_error_payload(record.rejected, 400))
        with self._lock:
            behaviour = self._queue.popleft() if self._queue else None
        if behaviour is None:
            return self.default_reply(record.body)
        return behaviour(self, record.body)


_ROUTES: dict[tuple[str, str], Callable[[FakeLLMServer, RecordedRequest], Reply]] = {
    ("POST", "/v1/chat/completions"): FakeLLMServer._chat_completions,
}


def _schema_keys(body: dict[str, Any]) -> list[str]:
    try:
        schema = body["response_format"]["json_schema"]["schema"]
        return list(schema.get("properties", {}))
    except (KeyError, TypeError, AttributeError):
        return []


def _error_payload(message: str, code: int) -> dict[str, Any]:
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
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_body=raw,
        )
        reply = self.server.fake.handle(record)
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
