"""The AWS Bedrock provider (Converse, SigV4 through botocore), over real HTTP against the fake
server on loopback, which re-computes every signature with the same credentials and checks every
body against botocore's own model of the Converse operation."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from extraction.providers import get_provider
from extraction.providers.anthropic import TOOL_NAME
from extraction.providers.base import (
    ProviderConfigError,
    ProviderOutputError,
    ProviderTransientError,
)
from extraction.providers.bedrock import BedrockProvider, aws_credentials_forget
from tests.extraction.provider_helpers import (
    PNG,
    SPEC,
    VALUES,
    extract_error,
    make_request,
    scanned_request,
    tiny_jpeg,
)
from tests.fakes import FakeLLMServer
from tests.fakes.llm_server import FAKE_AWS_KEY_ID, FAKE_AWS_SECRET

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
PRICES = {MODEL: {"input": "1.00", "output": "5.00"}}


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch, tmp_path):
    """botocore's chain sees only these variables: no ~/.aws files, no instance role."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws_credentials_forget()
    yield
    aws_credentials_forget()


def make_provider(server: FakeLLMServer, **overrides) -> BedrockProvider:
    options = {
        "base_url": server.root_url,
        "region": "us-east-1",
        "model": MODEL,
        "timeout_seconds": 5.0,
        "prices": PRICES,
        **overrides,
    }
    return BedrockProvider(**options)


# --- success and request shape -----------------------------------------------------------------


def test_extraction_reads_the_forced_tool_call_with_tokens_and_cost(fake_llm):
    fake_llm.answer(VALUES, tokens_in=1_000_000, tokens_out=200_000)

    result = make_provider(fake_llm).extract(make_request())

    assert result.values == VALUES
    assert (result.model, result.tokens_in, result.tokens_out) == (MODEL, 1_000_000, 200_000)
    assert result.cost == Decimal("2.000000")  # 1 M in at $1 + 0.2 M out at $5
    assert fake_llm.rejected == []


def test_the_request_is_sigv4_signed_over_the_escaped_model_path(fake_llm):
    make_provider(fake_llm).extract(make_request())

    (request,) = fake_llm.requests
    assert request.raw_path == "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse"
    assert request.params["model"] == MODEL
    authorization = request.headers["authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={FAKE_AWS_KEY_ID}/")
    assert "/us-east-1/bedrock/aws4_request" in authorization
    assert "SignedHeaders=accept;content-type;host;x-amz-date" in authorization
    assert "x-api-key" not in request.headers


def test_structured_output_is_a_forced_tool_whose_input_schema_is_the_types_schema(fake_llm):
    make_provider(fake_llm, max_tokens=321).extract(make_request("first page", "second page"))

    body = fake_llm.requests[0].body
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": TOOL_NAME}}
    (tool,) = body["toolConfig"]["tools"]
    assert tool["toolSpec"]["inputSchema"] == {"json": SPEC.json_schema()}
    assert body["inferenceConfig"] == {"maxTokens": 321}
    assert "temperature" not in body["inferenceConfig"]
    png = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert fake_llm.requests[0].image_urls() == [png, png]
    assert fake_llm.requests[0].page_numbers() == [1, 2]


def test_a_scanned_page_is_sent_as_the_jpeg_it_is(fake_llm):
    make_provider(fake_llm).extract(scanned_request())

    jpeg = "data:image/jpeg;base64," + base64.b64encode(tiny_jpeg()).decode()
    assert fake_llm.requests[0].image_urls() == [jpeg]
    assert fake_llm.rejected == []


def test_temporary_credentials_send_and_sign_the_session_token(monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-from-sts")
    with FakeLLMServer(aws_session_token="session-token-from-sts") as server:
        result = make_provider(server).extract(make_request())

    assert result.values == {key: None for key in VALUES}
    request = server.requests[0]
    assert request.headers["x-amz-security-token"] == "session-token-from-sts"
    assert "x-amz-security-token" in request.headers["authorization"]


# --- what the fake checks, as AWS does ----------------------------------------------------------


def test_a_signature_made_with_another_secret_is_refused_as_aws_refuses_it():
    with FakeLLMServer(aws_secret_access_key="the-real-secret") as server:
        error = extract_error(make_provider(server), ProviderConfigError)

    assert "AWS refused the request (403)" in error.message
    assert "does not match" in error.raw_response


def test_a_signature_for_another_region_is_refused():
    with FakeLLMServer(aws_region="eu-west-1") as server:
        error = extract_error(make_provider(server), ProviderConfigError)

    assert "403" in error.message and "BEDROCK_REGION" in error.message


def test_fake_server_refuses_a_body_outside_botocores_converse_model(fake_llm):
    provider = make_provider(fake_llm)
    provider._body = lambda spec, messages: {"messages": messages, "temperature": 0}

    error = extract_error(provider, ProviderConfigError)

    assert "400" in error.message
    assert 'Unknown parameter in input: "temperature"' in fake_llm.rejected[0].rejected


# --- transient failures: the task retries ------------------------------------------------------


def test_throttling_is_transient_with_retry_after(fake_llm):
    fake_llm.status(429, retry_after=7, message="Too many requests, please wait.")

    error = extract_error(make_provider(fake_llm), ProviderTransientError)

    assert error.retry_after == 7
    assert "Too many requests" in error.message


@pytest.mark.parametrize("code", [500, 503])
def test_server_errors_are_transient(fake_llm, code):
    fake_llm.status(code)

    extract_error(make_provider(fake_llm), ProviderTransientError)


def test_connection_reset_is_transient(fake_llm):
    fake_llm.reset()

    extract_error(make_provider(fake_llm), ProviderTransientError)


def test_slow_answer_past_the_timeout_is_transient(fake_llm):
    fake_llm.delay(3)

    error = extract_error(make_provider(fake_llm, timeout_seconds=0.5), ProviderTransientError)

    assert "0.5 seconds" in error.message


# --- unusable answers and the repair attempt ---------------------------------------------------


def test_schema_invalid_tool_input_is_repaired_through_an_error_tool_result(fake_llm):
    fake_llm.schema_invalid()
    fake_llm.answer(VALUES, tokens_in=100, tokens_out=10)

    result = make_provider(fake_llm).extract(make_request())

    assert result.values == VALUES
    messages = fake_llm.requests[1].body["messages"]
    tool_use = messages[1]["content"][0]["toolUse"]
    (reply,) = messages[2]["content"]
    assert reply["toolResult"]["toolUseId"] == tool_use["toolUseId"]
    assert reply["toolResult"]["status"] == "error"
    assert "unexpected_field" in reply["toolResult"]["content"][0]["text"]
    assert result.tokens_in == 1200 + 100
    assert fake_llm.rejected == []


def test_broken_json_twice_is_an_output_error(fake_llm):
    fake_llm.broken_json()
    fake_llm.broken_json()

    extract_error(make_provider(fake_llm), ProviderOutputError)

    assert len(fake_llm.requests) == 2
    assert fake_llm.rejected == []


def test_guardrail_stop_is_an_output_error(fake_llm):
    fake_llm.refusal()

    error = extract_error(make_provider(fake_llm), ProviderOutputError)

    assert "guardrail_intervened" in error.message
    assert len(fake_llm.requests) == 1


def test_answer_cut_off_at_max_tokens_is_an_output_error(fake_llm):
    fake_llm.truncated()

    error = extract_error(make_provider(fake_llm), ProviderOutputError)

    assert "BEDROCK_MAX_TOKENS" in error.message


# --- configuration ------------------------------------------------------------------------------


def test_no_credentials_anywhere_is_a_config_error_naming_the_chain(fake_llm, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    error = extract_error(make_provider(fake_llm), ProviderConfigError)

    assert "AWS_ACCESS_KEY_ID" in error.message
    assert fake_llm.requests == []


def test_an_empty_region_is_a_config_error(fake_llm):
    with pytest.raises(ProviderConfigError, match="BEDROCK_REGION"):
        make_provider(fake_llm, region="")


def test_settings_choose_region_model_and_the_regional_endpoint(settings):
    settings.BEDROCK_REGION = "eu-central-1"
    settings.BEDROCK_BASE_URL = ""
    settings.BEDROCK_MODEL = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"

    provider = get_provider("bedrock")

    assert isinstance(provider, BedrockProvider)
    assert provider.url == (
        "https://bedrock-runtime.eu-central-1.amazonaws.com"
        "/model/eu.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse"
    )


def test_parallel_calls_are_each_signed_and_accepted(fake_llm):
    """Page groups are read in parallel threads sharing one credentials object."""
    from concurrent.futures import ThreadPoolExecutor

    provider = make_provider(fake_llm)
    fake_llm.latency = 0.05
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: provider.extract(make_request()), range(8)))

    assert len(results) == 8 and len(fake_llm.requests) == 8
    assert fake_llm.max_overlap() > 1  # they really overlapped
    assert fake_llm.rejected == []
