"""Reading a document's pages in groups, in parallel, and merging what each group read.

No database here: the pipeline hands in pages and gets back one outcome per group, so that the
same code runs in a worker, a test and a benchmark. Each group is one provider call, taken
under the provider's concurrency limit (``concurrency.ProviderSlots``).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .concurrency import ProviderSlots, SlotTimeout
from .normalize import DateReading, NormalizationError, normalize
from .providers.base import (
    ExtractionRequest,
    ExtractionResult,
    PageInput,
    Provider,
    ProviderError,
    ProviderTransientError,
)
from .schemas import DocumentTypeSpec, FieldSpec, rows_dumps, rows_loads

logger = logging.getLogger(__name__)


@dataclass
class GroupOutcome:
    """One group's call: its pages and either a result or the provider's error."""

    pages: tuple[int, ...]
    result: ExtractionResult | None = None
    error: ProviderError | None = None
    # Set when the result was reused from an earlier identical call rather than paid for.
    cached_from: int | None = None

    @property
    def first_page(self) -> int:
        return self.pages[0]

    @property
    def last_page(self) -> int:
        return self.pages[-1]


def page_groups(numbers: Sequence[int], *, size: int) -> list[tuple[int, ...]]:
    """Consecutive pages in groups of ``size`` (0 or less: one group of every page)."""
    numbers = list(numbers)
    if size <= 0 or size >= len(numbers):
        return [tuple(numbers)] if numbers else []
    return [tuple(numbers[i : i + size]) for i in range(0, len(numbers), size)]


def read_groups(
    *,
    provider: Provider,
    spec: DocumentTypeSpec,
    pages: Sequence[PageInput],
    groups: Sequence[tuple[int, ...]],
    slots: ProviderSlots | None,
    slot_wait_seconds: float = 120,
    max_threads: int = 8,
) -> list[GroupOutcome]:
    """Every group read by ``provider``, in parallel; outcomes in page order.

    Never raises a ProviderError: each group's error is in its outcome, so that the groups that
    succeeded are kept (and recorded) even when another one failed.
    """
    by_number = {page.number: page for page in pages}
    total = len(pages)

    def read(group: tuple[int, ...]) -> GroupOutcome:
        return read_group(
            provider=provider,
            spec=spec,
            pages=tuple(by_number[n] for n in group),
            total_pages=total,
            slots=slots,
            slot_wait_seconds=slot_wait_seconds,
        )

    if len(groups) <= 1:
        return [read(group) for group in groups]
    with ThreadPoolExecutor(max_workers=max(1, min(max_threads, len(groups)))) as pool:
        return list(pool.map(read, groups))


def read_group(
    *,
    provider: Provider,
    spec: DocumentTypeSpec,
    pages: tuple[PageInput, ...],
    total_pages: int,
    slots: ProviderSlots | None,
    slot_wait_seconds: float = 120,
) -> GroupOutcome:
    """One provider call on ``pages`` (one group) under a slot of ``slots``; never raises a
    ProviderError (it is in the outcome). Safe to run in a thread: no database."""
    group = tuple(page.number for page in pages)
    request = ExtractionRequest(document_type=spec, pages=pages, total_pages=total_pages)
    try:
        if slots is None:
            return GroupOutcome(pages=group, result=provider.extract(request))
        with slots.hold(wait_seconds=slot_wait_seconds):
            return GroupOutcome(pages=group, result=provider.extract(request))
    except SlotTimeout:
        return GroupOutcome(
            pages=group,
            error=ProviderTransientError(
                f"Every connection to the {provider.name} provider is busy; waiting for one."
            ),
        )
    except ProviderError as error:
        return GroupOutcome(pages=group, error=error)


def merge_values(
    spec: DocumentTypeSpec, outcomes: Sequence[GroupOutcome]
) -> tuple[dict[str, str | None], dict[str, int]]:
    """One value per field from every group that answered, and the page each came from.

    Rows are concatenated in page order (a statement's transactions from every page); any other
    field takes the first value found in page order, since a later page repeating a header
    value adds nothing and a conflicting one is less likely to be the document's own.
    """
    values: dict[str, str | None] = {field.key: None for field in spec.fields}
    pages: dict[str, int] = {}
    rows: dict[str, list] = {field.key: [] for field in spec.fields if field.is_rows}
    for outcome in sorted(outcomes, key=lambda o: o.first_page):
        if outcome.result is None:
            continue
        for field in spec.fields:
            value = outcome.result.values.get(field.key)
            if not value:
                continue
            if field.is_rows:
                rows[field.key].extend(rows_loads(value))
                pages.setdefault(field.key, outcome.result.pages.get(field.key, outcome.first_page))
            elif values[field.key] is None:
                values[field.key] = value
                pages[field.key] = outcome.result.pages.get(field.key, outcome.first_page)
    for key, found in rows.items():
        values[key] = rows_dumps(found) if found else None
    return values_as_meant(spec, values), pages


def values_as_meant(spec: DocumentTypeSpec, values: dict[str, str | None]) -> dict[str, str | None]:
    """Each value in NFC, and written out where its reading depends on the field's meaning.

    A date whose reading needs the type's date order or the field's era (a two-digit year, a
    day-first date) becomes ISO, so that every later reader (rules, scoring, screens) sees the
    same day without knowing the type. An amount whose label gives its direction
    (``sign: magnitude``) loses its printed sign. Anything else stays as read.
    """
    fields = {field.key: field for field in spec.fields}
    return {
        key: _as_meant(fields[key], value, spec.date_order) if key in fields and value else value
        for key, value in values.items()
    }


def _as_meant(field: FieldSpec, value: str, date_order: str) -> str:
    value = unicodedata.normalize("NFC", value)
    try:
        if field.kind == "date":
            meant = normalize("date", value, dates=DateReading(order=date_order, era=field.era))
            try:
                plain = normalize("date", value)
            except NormalizationError:
                plain = ""
            return value if plain == meant else meant
        if field.kind == "money" and field.sign == "magnitude":
            amount = normalize("money", value)
            return amount.lstrip("-") if amount.startswith("-") else value
    except NormalizationError:
        return value
    return value
