"""The shipped price table is well-formed, sourced, and prices no model its vendor's SDK marks
deprecated; the default models are priced."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings

from config.provider_prices import PRICES, default_prices


def test_every_row_has_prices_a_date_and_a_source():
    for row in PRICES:
        assert Decimal(row.input) >= 0 and Decimal(row.output) >= 0, row
        assert date.fromisoformat(row.checked) <= datetime.now(UTC).date(), row
        assert row.source.strip(), row
        assert row.provider in {"openai", "anthropic", "bedrock", "vertex"}, row
    assert len({(r.provider, r.model) for r in PRICES}) == len(PRICES)


def test_no_priced_model_is_deprecated_by_its_sdk():
    from anthropic._data import DEPRECATED_MODELS
    from openai.types.shared import chat_model

    block = inspect.getsource(chat_model).split('"""Deprecated values:', 1)[1]
    openai_deprecated = set(re.findall(r'"([^"]+)"', block))
    for row in PRICES:
        if row.provider == "anthropic":
            assert row.model not in DEPRECATED_MODELS, row.model
        if row.provider == "openai":
            assert row.model not in openai_deprecated, row.model
    assert {"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"} <= openai_deprecated  # the check has teeth
    assert "claude-sonnet-4-5" in DEPRECATED_MODELS


def test_the_default_models_are_priced():
    assert settings.LLM_MODEL in default_prices("openai")
    assert settings.ANTHROPIC_MODEL in default_prices("anthropic")
