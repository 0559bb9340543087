"""One HTTP client per provider endpoint per process: connections and the TLS context are
reused between calls and threads, and never shared with a forked child."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from extraction.providers.http import shared_client, shared_clients_close
from extraction.providers.openai import OpenAIProvider
from tests.extraction.provider_helpers import VALUES, make_request, provider_factory

make_provider = provider_factory(OpenAIProvider, model="test-model", api_key="sk-test")


@pytest.fixture(autouse=True)
def _fresh_clients():
    shared_clients_close()
    yield
    shared_clients_close()


def test_calls_reuse_one_connection(fake_llm):
    fake_llm.expect(VALUES)
    provider = make_provider(fake_llm)

    for _ in range(3):
        assert provider.extract(make_request()).values == VALUES

    assert len(fake_llm.requests) == 3
    assert len({r.peer for r in fake_llm.requests}) == 1


def test_threads_share_the_client_and_each_request_carries_its_headers(fake_llm):
    fake_llm.expect(VALUES)
    keys = [f"sk-{n}" for n in range(6)]

    def call(key: str):
        return make_provider(fake_llm, api_key=key).extract(make_request()).values

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(call, keys)) == [VALUES] * 6

    assert sorted(r.headers["authorization"] for r in fake_llm.requests) == sorted(
        f"Bearer {key}" for key in keys
    )
    assert len({r.peer for r in fake_llm.requests}) <= 3


def test_each_endpoint_and_timeout_has_its_own_client():
    a = shared_client("openai", "http://127.0.0.1:1/v1", 30)
    assert shared_client("openai", "http://127.0.0.1:1/v1", 30) is a
    assert shared_client("openai", "http://127.0.0.1:2/v1", 30) is not a
    assert shared_client("openai", "http://127.0.0.1:1/v1", 5) is not a
    assert shared_client("anthropic", "http://127.0.0.1:1/v1", 30) is not a


def test_a_forked_child_makes_its_own_client(fake_llm):
    fake_llm.expect(VALUES)
    provider = make_provider(fake_llm)
    provider.extract(make_request())
    parent = shared_client("openai", provider.base_url, provider.timeout_seconds)

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own client, and a call through it works
        try:
            own = shared_client("openai", provider.base_url, provider.timeout_seconds)
            ok = own is not parent and provider.extract(make_request()).values == VALUES
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    os.close(read)

    assert answer == b"1"
    assert shared_client("openai", provider.base_url, provider.timeout_seconds) is parent
    # The parent's connection and the child's are two connections.
    assert len({r.peer for r in fake_llm.requests}) == 2
