"""Azure OpenAI through the OpenAI-compatible provider: its two URL conventions (the v1 API with
the deployment name as the model; a deployment URL with ``api-version``), over real HTTP against
the fake server, which answers as Azure does when either is got wrong."""

from __future__ import annotations

import pytest

from extraction.providers import get_provider
from extraction.providers.base import ProviderConfigError, ProviderTransientError
from extraction.providers.openai import OpenAIProvider
from tests.extraction.provider_helpers import VALUES, extract_error, make_request
from tests.fakes import FakeLLMServer

DEPLOYMENT = "attest-reader"  # the fake's deployment of gpt-5.4-mini


def v1(server: FakeLLMServer, **overrides) -> OpenAIProvider:
    options = {
        "base_url": f"{server.root_url}/openai/v1",
        "model": DEPLOYMENT,
        "api_key": server.azure_api_key,
        "timeout_seconds": 5.0,
        **overrides,
    }
    return OpenAIProvider(**options)


def by_deployment_url(server: FakeLLMServer, **overrides) -> OpenAIProvider:
    options = {
        "base_url": f"{server.root_url}/openai/deployments/{DEPLOYMENT}",
        "model": "gpt-5.4-mini",
        "api_version": "2024-10-21",
        "extra_headers": {"api-key": server.azure_api_key},
        "timeout_seconds": 5.0,
        **overrides,
    }
    return OpenAIProvider(**options)


def test_v1_api_takes_the_deployment_name_as_the_model_and_the_key_as_a_bearer(fake_llm):
    fake_llm.answer(VALUES)

    result = v1(fake_llm).extract(make_request())

    assert result.values == VALUES
    (request,) = fake_llm.requests
    assert request.raw_path == "/openai/v1/chat/completions"  # no api-version
    assert request.body["model"] == DEPLOYMENT
    assert fake_llm.rejected == []


def test_v1_api_also_takes_the_key_as_an_api_key_header(fake_llm):
    provider = v1(fake_llm, api_key="", extra_headers={"api-key": fake_llm.azure_api_key})

    provider.extract(make_request())

    assert "authorization" not in fake_llm.requests[0].headers


def test_a_deployment_url_sends_its_api_version(fake_llm):
    fake_llm.answer(VALUES)

    result = by_deployment_url(fake_llm).extract(make_request())

    assert result.values == VALUES
    (request,) = fake_llm.requests
    assert request.raw_path == (
        f"/openai/deployments/{DEPLOYMENT}/chat/completions?api-version=2024-10-21"
    )


def test_a_deployment_url_without_an_api_version_is_a_config_error(fake_llm):
    error = extract_error(by_deployment_url(fake_llm, api_version=""), ProviderConfigError)

    assert "404" in error.message and "LLM_BASE_URL" in error.message


def test_an_unknown_deployment_is_a_config_error_naming_the_model_setting(fake_llm):
    error = extract_error(v1(fake_llm, model="gpt-5.4-mini"), ProviderConfigError)

    assert "LLM_MODEL" in error.message
    assert "DeploymentNotFound" in error.raw_response


def test_a_wrong_key_is_a_config_error(fake_llm):
    error = extract_error(v1(fake_llm, api_key="wrong"), ProviderConfigError)

    assert "LLM_API_KEY" in error.message


def test_azures_retry_after_ms_is_honoured(fake_llm):
    fake_llm.status(429, headers={"retry-after-ms": "1500"})

    error = extract_error(v1(fake_llm), ProviderTransientError)

    assert error.retry_after == pytest.approx(1.5)


def test_both_forms_send_bodies_that_pass_the_official_contract(fake_llm):
    by_deployment_url(fake_llm).extract(make_request())
    v1(fake_llm).extract(make_request())

    assert fake_llm.rejected == []


def test_settings_give_the_api_version(settings):
    settings.LLM_BASE_URL = "https://acme.openai.azure.com/openai/deployments/attest-reader"
    settings.LLM_API_VERSION = "2024-10-21"

    provider = get_provider("openai")

    assert provider.url == (
        "https://acme.openai.azure.com/openai/deployments/attest-reader"
        "/chat/completions?api-version=2024-10-21"
    )
