"""A webhook receiver on 127.0.0.1, written as an integrator would write one.

It verifies each request with the ``standardwebhooks`` library (the signature over id,
timestamp and body, and a timestamp within five minutes), remembers the ids it processed and
refuses one seen before, and answers with the codes a test scripts (say 500, then 200).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    reason: str = ""


@dataclass
class Receiver:
    secret: str = ""
    # Answers to give, in order; the last one repeats. Verification failures answer 401 and
    # replays 409 whatever the script says.
    script: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    processed: list[dict] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        if self.delay:
            time.sleep(self.delay)
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as error:
            return 401, f"rejected: {error}"
        with self.lock:
            message_id = headers["webhook-id"]
            if message_id in self.seen_ids:
                return 409, "rejected: replayed webhook-id"
            answered = sum(1 for r in self.requests if r.status not in (401, 409))
            status = self.script[min(answered, len(self.script) - 1)]
            if 200 <= status < 300:
                self.seen_ids.add(message_id)
                self.processed.append(payload)
            return status, "ok" if status < 300 else "receiver error " + "x" * 5000

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        """Send a request to this receiver as anyone could (for replay tests)."""
        import httpx

        return httpx.post(self.url, content=body, headers=headers, timeout=5).status_code


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        receiver = self.server.receiver
        status, text = receiver.handle(headers, body)
        with receiver.lock:
            receiver.requests.append(Received(headers, body, status, text))
        data = json.dumps({"answer": text}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.receiver = receiver


def start_receiver(receiver: Receiver) -> tuple[Receiver, _Server]:
    server = _Server(receiver)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
