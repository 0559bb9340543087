"""Telling apart the documents inside one file: two pay stubs and a W-2 scanned together.

Each page is classified on its own text. A page starts a new part when its type differs from
the part before, or when it is of the same type but does not say it continues ("Page 2 of 3",
"continued"), since two pay stubs in a row are two documents. A page that cannot be classified
on its own (a statement's second page of bare transactions) continues the part before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .classify import Catalog, classify

_PAGE_OF = re.compile(r"\bPage\s+(\d+)\s+(?:of|/)\s+(\d+)\b", re.IGNORECASE)
_CONTINUED = re.compile(r"\bcontinued\b", re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    type_key: str | None
    first_page: int  # 1-based, inclusive
    last_page: int


def split_plan(page_texts: list[str], catalog: Catalog) -> list[Part]:
    """The parts of a file, in page order; one part when it holds a single document.
    ``catalog``: the types' keywords (``classify.classification_catalog``)."""
    parts: list[Part] = []
    for number, text in enumerate(page_texts, start=1):
        key = classify(text, catalog)
        if parts and _continues(parts[-1], key, text):
            last = parts[-1]
            parts[-1] = Part(last.type_key or key, last.first_page, number)
        else:
            parts.append(Part(key, number, number))
    return parts


def _continues(part: Part, key: str | None, text: str) -> bool:
    if key is None or part.type_key is None:
        return True
    if key != part.type_key:
        return False
    marker = _PAGE_OF.search(text)
    if marker:
        return int(marker.group(1)) > 1
    return bool(_CONTINUED.search(text))
