"""Scoring one reading against its answers, field by field, and adding scores up.

Every field of every document gets exactly one outcome:

- ``exact``: the value as read equals the answer character for character;
- ``normalized``: equal once both are in canonical form ("$1,234.50" for "1234.50");
- ``absent``: the document shows no value and none was read (a correct blank);
- ``missing``: the document shows a value and none was read (empty when expected);
- ``invented``: a value was read where the document shows none: the worst error, since a
  person checking the page finds nothing to compare it with;
- ``wrong``: a value was read and it is not the answer.

Names, addresses and other text compare without regard to case ("ARIZONA" reads "Arizona"),
and names and addresses also without regard to spaces and punctuation ("SDN. BHD." reads
"Sdn Bhd"): a person checking the value would not correct them. Answers are normalized too,
so a folder of real documents whose answer files hold values as printed ("$1,234.50") scores
the same as the generated corpus.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from extraction.normalize import NormalizationError, normalize, normalize_rows
from extraction.schemas import DocumentTypeSpec, FieldSpec

EXACT, NORMALIZED, ABSENT, MISSING, INVENTED, WRONG = (
    "exact",
    "normalized",
    "absent",
    "missing",
    "invented",
    "wrong",
)
OUTCOMES = (EXACT, NORMALIZED, ABSENT, MISSING, INVENTED, WRONG)
CORRECT = frozenset({EXACT, NORMALIZED, ABSENT})
# Kinds whose canonical form is the text itself (``normalize`` collapses whitespace only).
CASELESS_KINDS = frozenset({"text", "name", "address", "enum"})
# Kinds compared without regard to case, spaces or punctuation.
LOOSE_KINDS = frozenset({"name", "address"})


def _blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _rows_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def canonical(spec: FieldSpec, value: Any, *, reference: date | None = None) -> str | None:
    """The canonical form of a value (read or expected); None for a blank.

    A value that cannot be read as its kind keeps its own text (whitespace collapsed), so that
    it can still equal an answer written the same way but never a well-formed one.
    """
    if _blank(value):
        return None
    if spec.is_rows:
        columns = [(c.key, c.kind) for c in spec.columns]
        try:
            rows = json.loads(
                normalize_rows(columns=columns, value=_rows_text(value), reference=reference)
            )
        except (NormalizationError, ValueError):
            return " ".join(_rows_text(value).split())
        # Only the schema's columns count: an answer file may carry more (a running balance).
        keys = [c.key for c in spec.columns]
        return json.dumps([{k: row.get(k) for k in keys} for row in rows], ensure_ascii=False)
    try:
        text = normalize(spec.kind, str(value))
    except NormalizationError:
        text = " ".join(str(value).split())
    if spec.kind in LOOSE_KINDS:
        # "MR. D.I.Y. (M) SDN BHD" is "Mr DIY (M) Sdn. Bhd.": a person checking a name or an
        # address would not correct its case, spacing or punctuation.
        return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())
    return text.casefold() if spec.kind in CASELESS_KINDS else text


def latest_date(spec: DocumentTypeSpec, values: dict[str, Any]) -> date | None:
    """The latest date among a document's values (a statement's end), which dates its
    year-less transaction rows, as the pipeline does when it saves them."""
    found = []
    for field_spec in spec.fields:
        if field_spec.kind != "date" or _blank(values.get(field_spec.key)):
            continue
        try:
            found.append(date.fromisoformat(normalize("date", str(values[field_spec.key]))))
        except (NormalizationError, ValueError):
            continue
    return max(found) if found else None


def outcome(
    spec: FieldSpec,
    *,
    expected: Any,
    value: str | None,
    expected_reference: date | None = None,
    value_reference: date | None = None,
) -> str:
    answer = canonical(spec, expected, reference=expected_reference)
    if _blank(value):
        return ABSENT if answer is None else MISSING
    if answer is None:
        return INVENTED
    if spec.is_rows:
        try:
            as_read = json.loads(value)
            answer_rows = expected if isinstance(expected, list) else json.loads(expected)
        except (TypeError, ValueError):
            as_read, answer_rows = None, []
        if as_read == answer_rows:
            return EXACT
    elif str(value).strip() == str(expected).strip():
        return EXACT
    read = canonical(spec, value, reference=value_reference)
    return NORMALIZED if read == answer else WRONG


@dataclass
class FieldTally:
    """Outcomes of one field over many documents, and how often a read value was on the page."""

    required: bool = False
    outcomes: Counter = field(default_factory=Counter)
    read: int = 0  # values read (not blank)
    grounded: int = 0  # of those, found on the page

    def add(self, result: str, *, grounded: bool | None) -> None:
        self.outcomes[result] += 1
        if result in (EXACT, NORMALIZED, INVENTED, WRONG):
            self.read += 1
            self.grounded += bool(grounded)

    def merge(self, other: FieldTally) -> None:
        self.required = self.required or other.required
        self.outcomes.update(other.outcomes)
        self.read += other.read
        self.grounded += other.grounded

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def expected(self) -> int:
        """Documents that show a value for this field."""
        return (
            self.outcomes[EXACT]
            + self.outcomes[NORMALIZED]
            + self.outcomes[MISSING]
            + (self.outcomes[WRONG])
        )

    def rate(self, count: int, of: int) -> float | None:
        return count / of if of else None

    def summary(self) -> dict[str, Any]:
        o = self.outcomes
        return {
            "required": self.required,
            "documents": self.total,
            "expected": self.expected,
            "outcomes": {name: o[name] for name in OUTCOMES},
            "accuracy": self.rate(sum(o[n] for n in CORRECT), self.total),
            "exact_rate": self.rate(o[EXACT], self.expected),
            "match_rate": self.rate(o[EXACT] + o[NORMALIZED], self.expected),
            "empty_rate": self.rate(o[MISSING], self.expected),
            "invented": o[INVENTED],
            "wrong": o[WRONG],
            "grounded_rate": self.rate(self.grounded, self.read),
        }


def _usage(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Pages, and what reading them cost per page: tokens, dollars, provider latency."""
    pages = sum(d.get("pages", 0) for d in documents)

    def per_page(total: float) -> float | None:
        return round(total / pages, 6) if pages else None

    cost = sum((Decimal(d.get("cost", "0")) for d in documents), Decimal("0"))
    return {
        "documents": len(documents),
        "pages": pages,
        "errors": sum(1 for d in documents if d.get("errors")),
        "cost": str(cost),
        "cost_per_page": per_page(float(cost)),
        "tokens_in_per_page": per_page(sum(d.get("tokens_in", 0) for d in documents)),
        "tokens_out_per_page": per_page(sum(d.get("tokens_out", 0) for d in documents)),
        "latency_ms_per_page": per_page(sum(d.get("latency_ms", 0) for d in documents)),
        "provider_seconds_per_page": per_page(
            sum(d.get("provider_seconds", 0.0) for d in documents)
        ),
        "render_seconds_per_page": per_page(sum(d.get("render_seconds", 0.0) for d in documents)),
    }


def _tallies(documents: list[dict[str, Any]]) -> dict[tuple[str, str], FieldTally]:
    tallies: dict[tuple[str, str], FieldTally] = {}
    for document in documents:
        for key, scored in document.get("fields", {}).items():
            tally = tallies.setdefault((document["document_type"], key), FieldTally())
            tally.required = tally.required or scored["required"]
            tally.add(scored["outcome"], grounded=scored["grounded"])
    return tallies


def _group(documents: list[dict[str, Any]]) -> dict[str, Any]:
    tallies = _tallies(documents)
    everything, required = FieldTally(), FieldTally(required=True)
    for tally in tallies.values():
        everything.merge(tally)
        if tally.required:
            required.merge(tally)
    return {
        **_usage(documents),
        "fields": everything.summary(),
        "required_fields": required.summary(),
    }


def summarize(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the run, per variant, per document type, and per field (also per variant)."""
    from itertools import groupby

    def grouped(key: str) -> dict[str, Any]:
        ordered = sorted(documents, key=lambda d: d.get(key, ""))
        return {
            name: _group(list(members))
            for name, members in groupby(ordered, key=lambda d: d.get(key, ""))
        }

    by_variant_field = []
    for variant, members in groupby(
        sorted(documents, key=lambda d: d.get("variant", "")), key=lambda d: d.get("variant", "")
    ):
        for (document_type, key), tally in sorted(_tallies(list(members)).items()):
            by_variant_field.append(
                {"variant": variant, "document_type": document_type, "field": key} | tally.summary()
            )
    return {
        "overall": _group(documents),
        "by_variant": grouped("variant"),
        "by_type": grouped("document_type"),
        "by_field": [
            {"document_type": document_type, "field": key} | tally.summary()
            for (document_type, key), tally in sorted(_tallies(documents).items())
        ],
        "by_variant_field": by_variant_field,
    }
