"""A guess at a document's type from its text, for uploads whose type the applicant left open.

Keyword scoring, not a model: a strong phrase ("Wage and Tax Statement") nearly settles it, weak
ones ("Gross pay") add up. The phrases and weights are each type's ``keywords`` (data, edited
with the type). When nothing scores enough, or two types score alike, the answer is None and a
person chooses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from .models import DocumentType

# {type key: ((phrase, weight), ...)}
Catalog = Mapping[str, Sequence[tuple[str, int]]]
MIN_SCORE = 3


def classification_catalog() -> dict[str, tuple[tuple[str, int], ...]]:
    """The keywords of every active type, from the database (what admins have defined)."""
    return {
        key: tuple((item["phrase"], int(item.get("weight", 1))) for item in keywords or ())
        for key, keywords in DocumentType.objects.filter(is_active=True).values_list(
            "key", "keywords"
        )
    }


def catalog_of(specs) -> dict[str, tuple[tuple[str, int], ...]]:
    """The keywords of the given ``DocumentTypeSpec``s (an eval run, a preview, a test)."""
    return {
        spec.key: tuple((keyword.phrase, keyword.weight) for keyword in spec.keywords)
        for spec in specs
    }


@lru_cache(maxsize=1024)
def _pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(word).replace("'", "['\u2019]?") for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def scores(text: str, catalog: Catalog) -> dict[str, int]:
    """Each type's score: the weights of its phrases found in ``text``, each counted once."""
    return {
        key: sum(weight for phrase, weight in keywords if _pattern(phrase).search(text))
        for key, keywords in catalog.items()
    }


def classify(text: str, catalog: Catalog) -> str | None:
    """The most likely document type key, or None when no type clearly leads."""
    ranked = sorted(scores(text, catalog).items(), key=lambda item: item[1], reverse=True)
    if not ranked:
        return None
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    if best_score < MIN_SCORE or best_score - runner_up < 2:
        return None
    return best
