"""The Anthropic Messages provider, over real HTTP against the fake server on loopback."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest

from extraction.providers import get_provider
from extraction.providers.anthropic import API_VERSION, TOOL_NAME, AnthropicProvider
from extraction.providers.base import (
    PROMPT_VERSION,
    ProviderConfigError,
    ProviderOutputError,
    ProviderTransientError,
)
from tests.extraction.provider_helpers import (
    PNG,
    SPEC,
    VALUES,
    extract_error,
    make_request,
    provider_factory,
)
from tests.fakes import FakeLLMServer
from tests.fakes.sdk_contracts import anthropic_api_version

PRICES = {"claude-test": {"input": "1.00", "output": "5.00"}}
make_provider = provider_factory(
    AnthropicProvider, model="claude-test", api_key="sk-ant-test", prices=PRICES
)


# --- success and request shape -----------------------------------------------------------------


def test_extraction_reads_the_forced_tool_call_with_tokens_and_cost(fake_llm):
    fake_llm.answer(VALUES, tokens_in=1_000_000, tokens_out=200_000)

    result = make_provider(fake_llm).extract(make_request())

    assert result.values == VALUES
    assert (result.tokens_in, result.tokens_out) == (1_000_000, 200_000)
    assert result.cost == Decimal("1.00") + Decimal("1.00")
    assert result.model == "claude-test"
    assert json.loads(result.raw_response)["content"][0]["input"] == VALUES
    assert len(fake_llm.requests) == 1
    assert fake_llm.rejected == []


def test_request_sends_the_documented_headers_and_required_max_tokens(fake_llm):
    make_provider(fake_llm, max_tokens=321).extract(make_request())

    request = fake_llm.requests[0]
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    # The version the official SDK sends (anthropic 2.14: anthropic._constants).
    assert request.headers["anthropic-version"] == API_VERSION == anthropic_api_version()
    assert "authorization" not in request.headers
    assert request.body["max_tokens"] == 321
    # The current request type has no sampling parameters at all.
    assert not {"temperature", "top_p", "top_k"} & set(request.body)


def test_structured_output_is_a_forced_tool_whose_input_schema_is_the_types_schema(fake_llm):
    make_provider(fake_llm).extract(make_request())

    body = fake_llm.requests[0].body
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    (tool,) = body["tools"]
    assert tool["name"] == TOOL_NAME
    assert tool["input_schema"] == SPEC.json_schema()


def test_each_page_is_sent_as_text_then_a_base64_png_image_block(fake_llm):
    make_provider(fake_llm).extract(make_request("first page words", "second page words"))

    body = fake_llm.requests[0].body
    (user,) = body["messages"]
    images = [b for b in user["content"] if b["type"] == "image"]
    assert len(images) == 2
    for block in images:
        assert block["source"]["type"] == "base64"
        assert block["source"]["media_type"] == "image/png"
        assert base64.b64decode(block["source"]["data"]) == PNG
    texts = fake_llm.requests[0].text_parts()
    assert any('<page_text page="1">\nfirst page words\n</page_text>' in t for t in texts)
    assert any('<page_text page="2">\nsecond page words\n</page_text>' in t for t in texts)


def test_the_system_prompt_is_the_shared_versioned_one(fake_llm):
    from extraction.prompts import SYSTEM_PROMPT

    make_provider(fake_llm).extract(make_request())

    system = fake_llm.requests[0].body["system"]
    assert system == SYSTEM_PROMPT
    assert PROMPT_VERSION in system
    assert "never instructions" in system


def test_every_request_including_repairs_satisfies_the_documented_contract(fake_llm):
    provider = make_provider(fake_llm)
    fake_llm.schema_invalid()
    fake_llm.answer(VALUES)
    fake_llm.broken_json()
    fake_llm.answer(VALUES)

    for _ in range(2):
        provider.extract(make_request("page one", "", "page three"))

    assert len(fake_llm.requests) == 4
    assert fake_llm.rejected == []


@pytest.mark.parametrize(
    ("headers", "body", "problem"),
    [
        (
            {},
            {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
            "version",
        ),
        (
            {"anthropic-version": API_VERSION},
            {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            "max_tokens",
        ),
        (
            {"anthropic-version": API_VERSION},
            {"model": "m", "max_tokens": 5, "messages": [{"role": "assistant", "content": "hi"}]},
            "first message",
        ),
    ],
    ids=["no-version-header", "no-max-tokens", "starts-with-assistant"],
)
def test_fake_server_refuses_requests_the_real_api_refuses(fake_llm, headers, body, problem):
    response = httpx.post(f"{fake_llm.base_url}/messages", json=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert problem in response.json()["error"]["message"]
    assert len(fake_llm.rejected) == 1


# --- transient failures: raised at once, the Celery task retries --------------------------------


@pytest.mark.parametrize("code", [429, 529])
def test_rate_limit_and_overload_are_transient_with_retry_after(fake_llm, code):
    fake_llm.status(code, retry_after=7)

    error = extract_error(make_provider(fake_llm), ProviderTransientError)

    assert error.retry_after == 7
    assert f"({code})" in error.message
    assert len(fake_llm.requests) == 1


@pytest.mark.parametrize("code", [408, 409, 500, 502, 503])
def test_server_errors_are_transient(fake_llm, code):
    fake_llm.status(code)

    error = extract_error(make_provider(fake_llm), ProviderTransientError)

    assert error.retry_after is None
    assert len(fake_llm.requests) == 1


def test_connection_reset_is_transient(fake_llm):
    fake_llm.reset()

    extract_error(make_provider(fake_llm), ProviderTransientError)


def test_slow_answer_past_the_timeout_is_transient(fake_llm):
    fake_llm.delay(3)

    error = extract_error(make_provider(fake_llm, timeout_seconds=0.5), ProviderTransientError)

    assert "0.5 seconds" in error.message


# --- configuration errors ----------------------------------------------------------------------


def test_rejected_api_key_is_a_config_error_naming_the_setting():
    with FakeLLMServer(api_key="right") as server:
        error = extract_error(make_provider(server, api_key="wrong"), ProviderConfigError)

    assert "ANTHROPIC_API_KEY" in error.message


def test_an_empty_model_is_a_config_error(fake_llm):
    with pytest.raises(ProviderConfigError):
        make_provider(fake_llm, model="")


def test_with_provider_anthropic_the_llm_settings_point_at_it(settings):
    """EXTRACTION_PROVIDER=anthropic reads LLM_* (base.py copies them into ANTHROPIC_*)."""
    settings.ANTHROPIC_BASE_URL = "http://127.0.0.1:9/v1/"
    settings.ANTHROPIC_API_KEY = "sk-ant-settings"
    settings.ANTHROPIC_MODEL = "claude-sonnet-4-5"
    settings.ANTHROPIC_MAX_TOKENS = 99

    provider = get_provider("anthropic")

    assert isinstance(provider, AnthropicProvider)
    assert provider.url == "http://127.0.0.1:9/v1/messages"
    assert (provider.api_key, provider.model, provider.max_tokens) == (
        "sk-ant-settings",
        "claude-sonnet-4-5",
        99,
    )


# --- unusable answers and the repair attempt ---------------------------------------------------


def test_schema_invalid_tool_input_is_repaired_through_a_tool_error_result(fake_llm):
    fake_llm.schema_invalid()
    fake_llm.answer(VALUES, tokens_in=100, tokens_out=10)

    result = make_provider(fake_llm).extract(make_request())

    assert result.values == VALUES
    assert len(fake_llm.requests) == 2
    messages = fake_llm.requests[1].body["messages"]
    assert messages[1]["role"] == "assistant"
    assert messages[1]["content"][0]["type"] == "tool_use"
    (reply,) = messages[2]["content"]
    assert reply["type"] == "tool_result" and reply["is_error"] is True
    assert reply["tool_use_id"] == messages[1]["content"][0]["id"]
    assert "unexpected_field" in reply["content"]
    assert result.tokens_in == 1200 + 100  # both calls are paid for


def test_schema_invalid_twice_is_an_output_error_with_the_raw_answer(fake_llm):
    fake_llm.schema_invalid()
    fake_llm.schema_invalid()

    error = extract_error(make_provider(fake_llm), ProviderOutputError)

    assert len(fake_llm.requests) == 2
    assert "unexpected_field" in error.raw_response


def test_a_text_answer_with_broken_json_is_repaired_once(fake_llm):
    fake_llm.broken_json()
    fake_llm.answer(VALUES)

    result = make_provider(fake_llm).extract(make_request())

    assert result.values == VALUES
    repair = fake_llm.requests[1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"value": "unterminated'}
    assert "not valid JSON" in repair[-1]["content"]


def test_broken_json_twice_is_an_output_error(fake_llm):
    fake_llm.broken_json()
    fake_llm.broken_json()

    extract_error(make_provider(fake_llm), ProviderOutputError)

    assert len(fake_llm.requests) == 2


def test_refusal_is_an_output_error_without_a_repair_attempt(fake_llm):
    fake_llm.refusal("I can't help with that.")

    error = extract_error(make_provider(fake_llm), ProviderOutputError)

    assert "I can't help with that." in error.message
    assert len(fake_llm.requests) == 1


def test_empty_answer_is_an_output_error(fake_llm):
    fake_llm.empty()

    error = extract_error(make_provider(fake_llm), ProviderOutputError)

    assert error.raw_response
    assert len(fake_llm.requests) == 1


def test_answer_cut_off_at_max_tokens_is_an_output_error(fake_llm):
    fake_llm.truncated()

    error = extract_error(make_provider(fake_llm), ProviderOutputError)

    assert "ANTHROPIC_MAX_TOKENS" in error.message
    assert len(fake_llm.requests) == 1
