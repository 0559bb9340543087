"""Pytest fixtures for the fakes; import them into a conftest to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .llm_server import FakeLLMServer


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A fake OpenAI-compatible server on loopback, fresh for each test."""
    with FakeLLMServer() as server:
        yield server
