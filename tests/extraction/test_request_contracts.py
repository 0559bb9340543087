"""Each fake refuses what the real API refuses: a body the provider really sends, with one
invented key added at one depth, is answered 400 by every fake (OpenAI's schema, the Anthropic
SDK's request type, botocore's Converse model, Vertex AI's generateContent and Claude bodies),
so a misspelt or removed parameter can never pass a test unnoticed."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from extraction.providers.anthropic import AnthropicProvider
from extraction.providers.bedrock import BedrockProvider, aws_credentials_forget
from extraction.providers.openai import OpenAIProvider
from extraction.providers.vertex import VertexClaudeProvider, VertexGeminiProvider
from tests.extraction.provider_helpers import make_request
from tests.fakes import FakeLLMServer
from tests.fakes.llm_server import FAKE_AWS_KEY_ID, FAKE_AWS_SECRET, FAKE_GOOGLE_TOKEN

# Five invented keys: a misspelling, another API's name, a vendor-looking extension, a plausible
# option and a removed parameter's cousin.
INVENTED = ("temprature", "max_output_tokens", "x_attest_trace", "strictness", "top_k_sampling")


def _providers(server: FakeLLMServer) -> dict[str, Any]:
    vertex = {
        "base_url": server.root_url,
        "project": "attest-test",
        "location": "us-central1",
        "access_token": FAKE_GOOGLE_TOKEN,
    }
    return {
        "openai": OpenAIProvider(base_url=server.base_url, model="gpt-5.4-mini"),
        "anthropic": AnthropicProvider(base_url=server.base_url, model="claude-haiku-5-5"),
        "bedrock": BedrockProvider(
            base_url=server.root_url, region="us-east-1", model="anthropic.claude-v1:0"
        ),
        "vertex-gemini": VertexGeminiProvider(model="gemini-2.5-flash", **vertex),
        "vertex-claude": VertexClaudeProvider(model="claude-haiku-4-5@20251001", **vertex),
    }


# Where each invented key goes, per API: the body, a message, a text block, an image's inner
# object, the structured-output definition.
DEPTHS: dict[str, list[tuple]] = {
    "openai": [
        (),
        ("messages", 0),
        ("messages", 1, "content", 0),
        ("messages", 1, "content", 2, "image_url"),
        ("response_format", "json_schema"),
    ],
    "anthropic": [
        (),
        ("messages", 0),
        ("messages", 0, "content", 0),
        ("messages", 0, "content", 2, "source"),
        ("tools", 0),
    ],
    "bedrock": [
        (),
        ("messages", 0),
        ("messages", 0, "content", 0),
        ("messages", 0, "content", 2, "image", "source"),
        ("toolConfig", "tools", 0, "toolSpec"),
    ],
    "vertex-gemini": [
        (),
        ("contents", 0),
        ("contents", 0, "parts", 0),
        ("contents", 0, "parts", 2, "inlineData"),
        ("generationConfig",),
    ],
}
DEPTHS["vertex-claude"] = DEPTHS["anthropic"]
CASES = [(api, key, DEPTHS[api][i]) for api in DEPTHS for i, key in enumerate(INVENTED)]


@pytest.fixture(autouse=True)
def aws_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    aws_credentials_forget()
    yield
    aws_credentials_forget()


def _post(provider: Any, body: dict[str, Any]) -> httpx.Response:
    """Send ``body`` as the provider sends its own: same URL, same (signed) headers."""
    payload = json.dumps(body).encode()
    return httpx.post(provider.url, content=payload, headers=provider._request_headers(payload))


@pytest.mark.parametrize(("api", "key", "where"), CASES, ids=[f"{a}-{k}" for a, k, _ in CASES])
def test_an_invented_key_is_refused_by_the_fake(fake_llm, api, key, where):
    provider = _providers(fake_llm)[api]
    provider.extract(make_request("first page", "second page"))  # the real body, accepted
    assert fake_llm.rejected == []
    body = copy.deepcopy(fake_llm.requests[-1].body)

    target = body
    for step in where:
        target = target[step]
    target[key] = 1
    response = _post(provider, body)

    assert response.status_code == 400, response.text
    assert key in fake_llm.rejected[-1].rejected


@pytest.mark.parametrize("api", sorted(DEPTHS))
def test_the_unchanged_body_resent_the_same_way_is_accepted(fake_llm, api):
    """The control: the refusal above is the key's doing, not the re-sending's."""
    provider = _providers(fake_llm)[api]
    provider.extract(make_request("first page", "second page"))

    response = _post(provider, copy.deepcopy(fake_llm.requests[-1].body))

    assert response.status_code == 200, response.text
    assert fake_llm.rejected == []
