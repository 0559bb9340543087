"""A guess at a document's type from its text, for uploads whose type the applicant left open.

Keyword scoring, not a model: a strong phrase ("Wage and Tax Statement") nearly settles it, weak
ones ("Gross pay") add up. When nothing scores enough, or two types score alike, the answer is
None and a person chooses.
"""

from __future__ import annotations

import re

# (phrase, weight); a phrase is matched case-insensitively as whole words.
KEYWORDS: dict[str, tuple[tuple[str, int], ...]] = {
    "w2": (
        ("Form W-2", 3),
        ("Wage and Tax Statement", 3),
        ("Employer identification number", 1),
        ("Wages, tips, other compensation", 2),
        ("Social security wages", 1),
    ),
    "pay_stub": (
        ("Earnings statement", 2),
        ("Pay stub", 3),
        ("Pay period", 2),
        ("Net pay", 2),
        ("Gross pay", 1),
        ("Pay date", 1),
        ("Year to date", 1),
        ("YTD", 1),
    ),
    "bank_statement": (
        ("Opening balance", 2),
        ("Beginning balance", 2),
        ("Statement period", 2),
        ("Closing balance", 1),
        ("Ending balance", 1),
        ("Deposits and other credits", 1),
        ("Withdrawals", 1),
        ("Member FDIC", 1),
    ),
    "drivers_license": (
        ("Driver License", 3),
        ("Driver's License", 3),
        ("Drivers License", 3),
        ("Identification Card", 3),
        ("DOB", 1),
        ("Class", 1),
    ),
    "utility_bill": (
        ("Amount due", 2),
        ("Service address", 2),
        ("kWh", 1),
        ("Meter", 1),
        ("Billing period", 1),
        ("Due date", 1),
    ),
}
MIN_SCORE = 3


def _pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(word).replace("'", "['\u2019]?") for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


_PATTERNS = {
    key: tuple((_pattern(phrase), weight) for phrase, weight in keywords)
    for key, keywords in KEYWORDS.items()
}


def scores(text: str) -> dict[str, int]:
    """Each type's score: the weights of its phrases found in ``text``, each counted once."""
    return {
        key: sum(weight for pattern, weight in patterns if pattern.search(text))
        for key, patterns in _PATTERNS.items()
    }


def classify(text: str) -> str | None:
    """The most likely document type key, or None when no type clearly leads."""
    ranked = sorted(scores(text).items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_, runner_up) = ranked[0], ranked[1]
    if best_score < MIN_SCORE or best_score - runner_up < 2:
        return None
    return best
