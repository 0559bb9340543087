"""What one call costs, from a price table per model (US dollars per million tokens)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

COST_QUANTUM = Decimal("0.000001")  # ExtractionRun.cost has six decimal places.


def call_cost(
    prices: dict[str, dict[str, Any]],
    answered_model: str,
    configured_model: str,
    *,
    tokens_in: int,
    tokens_out: int,
) -> Decimal:
    """The cost of one call; zero for a model missing from the table.

    A response names a dated snapshot ("gpt-4o-mini-2024-07-18") while the table is keyed by the
    configured alias, so the answered name is tried first, then the configured one.
    """
    price = prices.get(answered_model) or prices.get(configured_model)
    if not price:
        return Decimal("0")
    try:
        per_input = Decimal(str(price.get("input", "0")))
        per_output = Decimal(str(price.get("output", "0")))
    except (InvalidOperation, AttributeError):
        return Decimal("0")
    cost = (tokens_in * per_input + tokens_out * per_output) / Decimal(1_000_000)
    return cost.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
