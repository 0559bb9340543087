"""Comparing two independent readings of one document, field by field.

Values are compared in canonical form, so "$1,234.50" and "1234.5" agree. Agreement is
evidence, not proof: two readings can share a mistake, and a disagreement says "look here".
"""

from __future__ import annotations

from .models import Agreement
from .normalize import NormalizationError, normalize


def compare(*, kind: str, first: str | None, second: str | None) -> str:
    """An ``Agreement`` value for one field's two readings."""
    if not first and not second:
        return Agreement.AGREE
    if not first or not second:
        return Agreement.SINGLE
    return (
        Agreement.AGREE
        if _canonical(kind, first) == _canonical(kind, second)
        else (Agreement.DISAGREE)
    )


def _canonical(kind: str, value: str) -> str:
    try:
        return normalize(kind, value)
    except NormalizationError:
        return " ".join(value.split()).lower()
