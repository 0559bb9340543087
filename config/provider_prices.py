"""The price list: US dollars per million tokens, one row per model, with where it came from.

This is the one table to edit when a vendor changes a price or a model is retired; the
``*_PRICES`` settings default to it (``default_prices``) and a deployment may still override
them. ``checked`` is the day the row was last compared with its ``source``; ``verified`` is
False where the only source found was a third party rather than the vendor's own page, so the
figure is shown but should be confirmed before it is relied on. A model missing from the table
costs 0 (``extraction.providers.pricing.call_cost``), never a guess.

Plain data only: settings import it, so it imports nothing from the project.
"""

from __future__ import annotations

from typing import NamedTuple


class Price(NamedTuple):
    provider: str  # which *_PRICES setting the row belongs to
    model: str  # the configured model name (or Bedrock/Vertex model id)
    input: str  # USD per million input tokens
    output: str  # USD per million output tokens
    checked: str  # ISO date the row was last compared with its source
    source: str
    verified: bool = True  # False: only a third-party source was found
    note: str = ""


ANTHROPIC_DOCS = "https://platform.claude.com/docs/en/models/{}/overview"

PRICES: tuple[Price, ...] = (
    # --- OpenAI (LLM_PRICES) ---------------------------------------------------------------------
    Price(
        "openai",
        "gpt-5.4-mini",
        "0.75",
        "4.50",
        "2026-11-30",
        "third-party summaries of OpenAI's price list (dev.to, apidog.com, March 2026); "
        "openai.com's pricing page was not reachable from here",
        verified=False,
        note="Not deprecated in openai 3.57.0's ChatModel list.",
    ),
    # --- Anthropic (ANTHROPIC_PRICES) -------------------------------------------------------------
    Price(
        "anthropic",
        "claude-haiku-5-5",
        "0.10",
        "0.50",
        "2026-11-30",
        ANTHROPIC_DOCS.format("haiku-5-5"),
        note="'From' prices: the band for prompts up to 100,000 tokens. A longer prompt is "
        "billed at a higher band that this table does not model (a page group is far shorter).",
    ),
    Price(
        "anthropic",
        "claude-sonnet-5-5",
        "2.00",
        "10.00",
        "2026-11-30",
        ANTHROPIC_DOCS.format("haiku-5-5") + " (comparison table)",
    ),
    Price(
        "anthropic",
        "claude-haiku-4-5",
        "1.00",
        "5.00",
        "2026-11-30",
        ANTHROPIC_DOCS.format("haiku-4-5"),
        note="Legacy, not deprecated in anthropic 2.14.0's DEPRECATED_MODELS.",
    ),
)

# Models the vendors list as deprecated or retired, so no longer priced here (rows removed on
# 2026-11-30): gpt-4o-mini, gpt-4o, gpt-4.1-mini (openai 3.57.0: shutdown 2027-01-14) and
# claude-sonnet-4-5 (anthropic 2.14.0: end of life 2026-11-30).

# Bedrock and Vertex AI bill Anthropic and Google models at their own list prices, which vary by
# region and were not verifiable from here: their tables start empty (cost 0) and are filled in
# per deployment (BEDROCK_PRICES, VERTEX_PRICES).


def default_prices(provider: str) -> dict[str, dict[str, str]]:
    """``{model: {"input": ..., "output": ...}}`` for one provider, as the settings take it."""
    return {
        p.model: {"input": p.input, "output": p.output} for p in PRICES if p.provider == provider
    }
