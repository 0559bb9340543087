"""The Google Vertex AI providers (Gemini's generateContent, Claude's rawPredict), over real HTTP
against the fake server on loopback. Credentials are google-auth's application default
credentials from a service account key file whose token server is the fake: the real token flow
runs, and every model request must carry the token it handed out."""

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
from extraction.providers.vertex import (
    VertexClaudeProvider,
    VertexGeminiProvider,
    google_credentials_forget,
)
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
from tests.fakes.google_credentials import service_account_file
from tests.fakes.llm_server import FAKE_GOOGLE_TOKEN

GEMINI = "gemini-2.5-flash"
CLAUDE = "claude-haiku-4-5@20251001"
PREFIX = "/v1/projects/attest-test/locations/us-central1/publishers"


@pytest.fixture(autouse=True)
def google_adc(monkeypatch, tmp_path, fake_llm):
    """Application default credentials: a service account trusted by the fake's /token."""
    monkeypatch.setenv(
        "GOOGLE_APPLICATION_CREDENTIALS", str(service_account_file(tmp_path, fake_llm))
    )
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # never the real metadata server
    google_credentials_forget()
    yield
    google_credentials_forget()


def gemini(server: FakeLLMServer, **overrides) -> VertexGeminiProvider:
    options = {
        "base_url": server.root_url,
        "project": "attest-test",
        "location": "us-central1",
        "model": GEMINI,
        "timeout_seconds": 5.0,
        "prices": {GEMINI: {"input": "1.00", "output": "5.00"}},
        **overrides,
    }
    return VertexGeminiProvider(**options)


def claude(server: FakeLLMServer, **overrides) -> VertexClaudeProvider:
    options = {
        "base_url": server.root_url,
        "project": "attest-test",
        "location": "us-central1",
        "model": CLAUDE,
        "timeout_seconds": 5.0,
        **overrides,
    }
    return VertexClaudeProvider(**options)


def model_requests(server: FakeLLMServer):
    return [r for r in server.requests if r.wire != "oauth"]


# --- Gemini: success and request shape ----------------------------------------------------------


def test_gemini_reads_the_json_answer_with_tokens_and_cost(fake_llm):
    fake_llm.answer(VALUES, tokens_in=1_000_000, tokens_out=200_000)

    result = gemini(fake_llm).extract(make_request())

    assert result.values == VALUES
    assert (result.model, result.tokens_in, result.tokens_out) == (GEMINI, 1_000_000, 200_000)
    assert result.cost == Decimal("2.000000")
    assert fake_llm.rejected == []


def test_the_token_comes_from_the_service_account_flow_and_is_reused(fake_llm):
    provider = gemini(fake_llm)
    provider.extract(make_request())
    provider.extract(make_request())

    assert [r.wire for r in fake_llm.requests] == ["oauth", "gemini", "gemini"]
    for request in model_requests(fake_llm):
        assert request.headers["authorization"] == f"Bearer {FAKE_GOOGLE_TOKEN}"
        assert request.path == f"{PREFIX}/google/models/{GEMINI}:generateContent"


def test_gemini_asks_for_json_by_the_types_schema_with_pages_as_text_and_png(fake_llm):
    gemini(fake_llm, max_tokens=321).extract(make_request("first page", "second page"))

    (request,) = model_requests(fake_llm)
    config = request.body["generationConfig"]
    assert config == {
        "responseMimeType": "application/json",
        "responseJsonSchema": SPEC.json_schema(),
        "maxOutputTokens": 321,
    }
    png = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert request.image_urls() == [png, png]
    assert request.page_numbers() == [1, 2]
    assert request.body["systemInstruction"]["parts"][0]["text"] == request.text_parts()[0]


def test_gemini_is_sent_a_scanned_page_as_the_jpeg_it_is(fake_llm):
    gemini(fake_llm).extract(scanned_request())

    (request,) = model_requests(fake_llm)
    assert request.image_urls() == [
        "data:image/jpeg;base64," + base64.b64encode(tiny_jpeg()).decode()
    ]
    assert fake_llm.rejected == []


def test_gemini_schema_invalid_answer_is_repaired_once(fake_llm):
    fake_llm.schema_invalid()
    fake_llm.answer(VALUES, tokens_in=100, tokens_out=10)

    result = gemini(fake_llm).extract(make_request())

    assert result.values == VALUES
    contents = model_requests(fake_llm)[1].body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert "unexpected_field" in contents[2]["parts"][0]["text"]
    assert result.tokens_in == 1200 + 100
    assert fake_llm.rejected == []


def test_gemini_broken_json_twice_is_an_output_error(fake_llm):
    fake_llm.broken_json()
    fake_llm.broken_json()

    extract_error(gemini(fake_llm), ProviderOutputError)

    assert len(model_requests(fake_llm)) == 2


def test_gemini_safety_stop_and_max_tokens_are_output_errors(fake_llm):
    fake_llm.refusal()
    fake_llm.truncated()

    assert "SAFETY" in extract_error(gemini(fake_llm), ProviderOutputError).message
    assert "VERTEX_MAX_TOKENS" in extract_error(gemini(fake_llm), ProviderOutputError).message


# --- Claude on Vertex ---------------------------------------------------------------------------


def test_claude_on_vertex_sends_the_messages_body_with_the_vertex_version_and_no_model(fake_llm):
    fake_llm.answer(VALUES)

    result = claude(fake_llm).extract(make_request())

    assert result.values == VALUES
    (request,) = model_requests(fake_llm)
    assert request.path == f"{PREFIX}/anthropic/models/{CLAUDE}:rawPredict"
    assert request.body["anthropic_version"] == "vertex-2023-10-16"
    assert "model" not in request.body
    assert request.body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert "anthropic-version" not in request.headers and "x-api-key" not in request.headers
    assert request.headers["authorization"] == f"Bearer {FAKE_GOOGLE_TOKEN}"
    assert fake_llm.rejected == []


def test_claude_on_vertex_repairs_through_a_tool_error_result(fake_llm):
    fake_llm.schema_invalid()
    fake_llm.answer(VALUES)

    result = claude(fake_llm).extract(make_request())

    assert result.values == VALUES
    reply = model_requests(fake_llm)[1].body["messages"][2]["content"][0]
    assert reply["type"] == "tool_result" and reply["is_error"] is True
    assert fake_llm.rejected == []


def test_claude_on_vertex_refuses_an_old_or_missing_version_as_vertex_does(fake_llm):
    error = extract_error(claude(fake_llm, anthropic_version="2023-06-01"), ProviderConfigError)

    assert "400" in error.message
    assert "vertex-2023-10-16" in fake_llm.rejected[0].rejected


# --- failure modes: the task retries the transient ones ------------------------------------------


@pytest.mark.parametrize("make", [gemini, claude])
def test_throttling_is_transient_with_retry_after(fake_llm, make):
    fake_llm.status(429, retry_after=4, message="Quota exceeded.")

    error = extract_error(make(fake_llm), ProviderTransientError)

    assert error.retry_after == 4
    assert "Quota exceeded" in error.message


@pytest.mark.parametrize("make", [gemini, claude])
@pytest.mark.parametrize("code", [500, 503])
def test_server_errors_are_transient(fake_llm, make, code):
    fake_llm.status(code)

    extract_error(make(fake_llm), ProviderTransientError)


@pytest.mark.parametrize("make", [gemini, claude])
def test_slow_answer_past_the_timeout_is_transient(fake_llm, make):
    fake_llm.delay(3)

    extract_error(make(fake_llm, timeout_seconds=0.5), ProviderTransientError)


def test_connection_reset_is_transient(fake_llm):
    fake_llm.reset()

    extract_error(gemini(fake_llm), ProviderTransientError)


# --- credentials and configuration ---------------------------------------------------------------


def test_a_wrong_token_is_refused_with_the_settings_to_check(fake_llm):
    error = extract_error(gemini(fake_llm, access_token="ya29.stale"), ProviderConfigError)

    assert "Google refused the request (401)" in error.message
    assert "GOOGLE_APPLICATION_CREDENTIALS" in error.message


def test_a_service_account_the_token_server_does_not_trust_is_a_config_error(
    fake_llm, monkeypatch, tmp_path
):
    untrusted = service_account_file(tmp_path, fake_llm, trusted=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(untrusted))
    google_credentials_forget()

    error = extract_error(gemini(fake_llm), ProviderConfigError)

    assert "Google refused the credentials" in error.message
    assert model_requests(fake_llm) == []


def test_an_env_provided_token_is_used_as_is(fake_llm):
    gemini(fake_llm, access_token=FAKE_GOOGLE_TOKEN).extract(make_request())

    assert [r.wire for r in fake_llm.requests] == ["gemini"]  # no token exchange


def test_settings_choose_the_publisher_and_the_regional_endpoint(settings):
    settings.VERTEX_PROJECT = "acme-lending"
    settings.VERTEX_LOCATION = "europe-west1"
    settings.VERTEX_BASE_URL = ""
    settings.VERTEX_MODEL = GEMINI
    settings.VERTEX_PUBLISHER = "google"

    provider = get_provider("vertex")

    assert isinstance(provider, VertexGeminiProvider)
    assert provider.url == (
        "https://europe-west1-aiplatform.googleapis.com/v1/projects/acme-lending/locations/"
        f"europe-west1/publishers/google/models/{GEMINI}:generateContent"
    )
    settings.VERTEX_PUBLISHER = "anthropic"
    settings.VERTEX_MODEL = CLAUDE
    assert isinstance(get_provider("vertex"), VertexClaudeProvider)
    settings.VERTEX_PUBLISHER = "meta"
    with pytest.raises(ProviderConfigError, match="VERTEX_PUBLISHER"):
        get_provider("vertex")


def test_an_empty_project_is_a_config_error(fake_llm):
    with pytest.raises(ProviderConfigError, match="VERTEX_PROJECT"):
        gemini(fake_llm, project="")


# --- concurrency and expiry ---------------------------------------------------------------------


def test_parallel_calls_share_one_token_exchange(fake_llm):
    """Page groups are read in parallel threads: one token for all, every call accepted."""
    from concurrent.futures import ThreadPoolExecutor

    provider = gemini(fake_llm)
    fake_llm.latency = 0.05
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: provider.extract(make_request()), range(8)))

    assert len(results) == 8
    assert [r.wire for r in fake_llm.requests].count("oauth") == 1
    assert len(model_requests(fake_llm)) == 8
    assert fake_llm.rejected == []


def test_an_expired_token_is_refreshed_before_the_next_call(fake_llm):
    import datetime

    from extraction.providers import vertex

    provider = gemini(fake_llm)
    provider.extract(make_request())
    (credentials,) = vertex._credentials.values()
    # google-auth keeps expiry as naive UTC.
    credentials.expiry = datetime.datetime(2000, 1, 1)  # noqa: DTZ001

    provider.extract(make_request())

    assert [r.wire for r in fake_llm.requests] == ["oauth", "gemini", "oauth", "gemini"]
