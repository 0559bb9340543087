"""Providers by name. Settings are read when a provider is built, never at import time."""

from __future__ import annotations

from django.conf import settings

from .base import Provider, ProviderConfigError


def get_provider(name: str | None = None) -> Provider:
    name = (name or settings.EXTRACTION_PROVIDER).lower()
    if name == "local":
        from .local import LocalProvider

        return LocalProvider()
    if name == "openai":
        from .openai import OpenAIProvider

        return OpenAIProvider.from_settings()
    if name == "anthropic":
        from .anthropic import AnthropicProvider

        return AnthropicProvider.from_settings()
    if name == "bedrock":
        from .bedrock import BedrockProvider

        return BedrockProvider.from_settings()
    if name == "vertex":
        from .vertex import vertex_provider_from_settings

        return vertex_provider_from_settings()
    raise ProviderConfigError(
        f"Unknown extraction provider '{name}'. Set EXTRACTION_PROVIDER to 'local', 'openai', "
        "'anthropic', 'bedrock' or 'vertex'."
    )
