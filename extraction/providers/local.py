"""The local provider: label-anchored reading of the page text, with no network and no key.

It reads the text each page already has (PDF text layer or OCR), finds a field's label, and
takes the value of the field's kind that stands right of the label or under it. What it cannot
find is None: it never guesses, so a missing value is for a person to enter.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from extraction.normalize import MONEY_IN_TEXT, NormalizationError, money_in_text, normalize

from .base import ExtractionRequest, ExtractionResult, PageInput
from .local_labels import RULES, Rule

MODEL = "label-patterns-v1"
# How many lines under a label may hold its value (a blank or a label line may come between).
LINES_BELOW = 3

# Any word may be a month's name; ``normalize`` keeps those that are (in several languages).
_MONTH = r"[^\W\d_]{3,10}\.?"
# Candidate values by kind; each candidate must also pass ``normalize`` to count.
VALUE_PATTERNS = {
    # The normalizer's own grammar (normalize.MONEY_IN_TEXT), so that what is found here is
    # read there the same way: "$ 2 450.00", "734.56-", "$108.43 CR", "(2,600.00)".
    "money": MONEY_IN_TEXT,
    "date": re.compile(
        r"(?<![\w/])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})"
        rf"|{_MONTH}\s*\d{{1,2}}(?:st|nd|rd|th)?,?\s*\d{{4}}"
        rf"|\d{{1,2}}(?:st|nd|rd|th|er|\.)?[\s-]*{_MONTH},?[\s-]*(?:\d{{4}}|\d{{2}}(?![\d/])))"
        r"(?![\w/])",
        re.IGNORECASE,
    ),
    "ssn": re.compile(r"(?<![\w-])\d{3}[- ]?\d{2}[- ]?\d{4}(?![\w-])"),
    "ein": re.compile(r"(?<![\w-])\d{2}-?\d{7}(?![\w-])"),
    "integer": re.compile(r"(?<![\w.,-])\d{1,3}(?:,\d{3})+(?![\w.,])|(?<![\w.,-])\d+(?![\w.,])"),
    "account": re.compile(
        r"(?:[*\u2022#]+|[Xx]{2,})?[A-Za-z0-9]*\d[A-Za-z0-9]*(?:[ -][A-Za-z0-9]+)*"
    ),
}
_SEGMENT = re.compile(r"\S+(?: \S+)*")
_CITY_LINE = re.compile(r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b")


@dataclass(frozen=True)
class Found:
    value: str
    page: int
    line: int
    label: str


# A transaction line: a date that starts the line, a description, then one to three amounts.
_ROW_DATE = re.compile(r"^\s*(?P<date>\d{1,2}/\d{1,2}(?:/\d{2,4})?)\s+(?P<rest>.+)$")
_ROW_AMOUNT = re.compile(r"-?\$?\d{1,3}(?:,\d{3})*\.\d{2}-?|\(\$?\d{1,3}(?:,\d{3})*\.\d{2}\)")
# Column headings that say which way an amount goes.
_OUT_HEADINGS = re.compile(r"\b(?:Withdrawals?|Debits?|Payments?)\b", re.IGNORECASE)
_IN_HEADINGS = re.compile(r"\b(?:Deposits?|Credits?)\b", re.IGNORECASE)
_BALANCE_HEADING = re.compile(r"\bBalance\b", re.IGNORECASE)


class LocalProvider:
    name = "local"
    model = MODEL

    def extract(self, request: ExtractionRequest) -> ExtractionResult:
        started = time.monotonic()
        rules = RULES.get(request.document_type.key, {})
        pages = [(page, page.text.splitlines()) for page in request.pages]
        found: dict[str, Found] = {}
        for spec in request.document_type.fields:
            hit = (
                _table_rows(spec, pages)
                if spec.is_rows
                else _find(rules.get(spec.key, ()), spec.kind, pages)
            )
            if hit is not None:
                found[spec.key] = hit
        raw = {key: vars(hit) for key, hit in found.items()}
        return ExtractionResult(
            values={
                spec.key: found[spec.key].value if spec.key in found else None
                for spec in request.document_type.fields
            },
            raw_response=json.dumps({"model": MODEL, "found": raw}, sort_keys=True),
            model=MODEL,
            tokens_in=0,
            tokens_out=0,
            latency_ms=round((time.monotonic() - started) * 1000),
            cost=Decimal("0"),
            pages={key: hit.page for key, hit in found.items()},
        )


def _find(
    rules: tuple[Rule, ...], kind: str, pages: list[tuple[PageInput, list[str]]]
) -> Found | None:
    for rule in rules:
        for page, lines in pages:
            for index, line in enumerate(lines):
                hit = _read_rule(rule, kind, lines, index, line)
                if hit is not None:
                    value, label = hit
                    return Found(value=value, page=page.number, line=index + 1, label=label)
    return None


def _read_rule(
    rule: Rule, kind: str, lines: list[str], index: int, line: str
) -> tuple[str, str] | None:
    if rule.pattern:
        match = re.search(rule.pattern, line)
        if match and _valid(kind, match.group("value")):
            return match.group("value").strip(), "(pattern)"
        return None
    for label in rule.labels:
        match = _label_regex(label).search(line)
        if match is None:
            continue
        value = None
        if rule.right:
            value = _value_right(kind, line[match.end() :], rule.nth)
        if value is None and rule.below:
            value = _value_below(kind, lines, index, match.start(), match.end())
        if value is not None:
            return value, label
    return None


@lru_cache(maxsize=512)
def _label_regex(label: str) -> re.Pattern[str]:
    words = [re.escape(word).replace("'", "['\u2019]?") for word in label.rstrip(":").split()]
    colon = r"\s*:" if label.endswith(":") else r"\s*:?"
    # OCR may leave out the space between a label's words ("StatementPeriod:").
    return re.compile(r"(?<![\w'])" + r"\s*".join(words) + r"(?![\w'])" + colon, re.IGNORECASE)


def _value_right(kind: str, text: str, nth: int) -> str | None:
    pattern = VALUE_PATTERNS.get(kind)
    if pattern is None or kind == "account":
        segment = _first_segment(text)
        value = _shaped(kind, segment) if segment else None
        return value if nth == 0 else None
    matches = money_in_text(text) if kind == "money" else pattern.finditer(text)
    values = [m.group().strip() for m in matches if _valid(kind, m.group())]
    return values[nth] if len(values) > nth else None


def _value_below(kind: str, lines: list[str], index: int, start: int, end: int) -> str | None:
    """The value in the first of the next lines whose text stands under the label."""
    for below in range(index + 1, min(index + 1 + LINES_BELOW, len(lines))):
        for segment in _SEGMENT.finditer(lines[below]):
            if segment.start() >= end or segment.end() <= start:
                continue
            value = _shaped(kind, segment.group())
            if value is not None and kind == "address":
                value = _with_city_line(value, lines, below, segment.start(), segment.end())
            if value is not None:
                return value
    return None


def _first_segment(text: str) -> str:
    match = _SEGMENT.search(text.lstrip(" :#"))
    return match.group().strip(" ,;") if match else ""


def _shaped(kind: str, text: str) -> str | None:
    """The part of ``text`` that reads as ``kind``, or None."""
    pattern = VALUE_PATTERNS.get(kind)
    if pattern is not None:
        for match in money_in_text(text) if kind == "money" else pattern.finditer(text):
            if _valid(kind, match.group()):
                return match.group().strip()
        return None
    text = text.strip(" ,;")
    # A phrase ending in a colon is the next label, not a value.
    if not re.search(r"[^\W_]", text) or text.endswith(":"):
        return None
    if kind == "name" and not re.search(r"[^\W\d_]", text):
        return None
    # "Employee ID: 004417" under a name's label is the next label and its value, never a name.
    if kind == "name" and re.search(r"\w:(?:\s|$)", text):
        return None
    return text


def _with_city_line(value: str, lines: list[str], index: int, start: int, end: int) -> str:
    if _CITY_LINE.search(value) or index + 1 >= len(lines):
        return value
    for segment in _SEGMENT.finditer(lines[index + 1]):
        if segment.start() < end and segment.end() > start and _CITY_LINE.search(segment.group()):
            return f"{value}, {segment.group()}"
    return value


def _valid(kind: str, text: str) -> bool:
    try:
        normalize(kind, text)
    except NormalizationError:
        return False
    return True


def _table_rows(spec, pages: list[tuple[PageInput, list[str]]]) -> Found | None:
    """Rows of a date / description / amount table, read under its column headings.

    An amount's direction comes from the heading it stands under (Withdrawals or Deposits),
    found by the character column where the amount ends; an amount under Balance is the running
    balance and is not a row's amount. Lines without an amount outside Balance ("Beginning
    balance") are not rows. Without such headings nothing is read: a sign is never guessed.
    """
    kinds = {column.kind: column.key for column in spec.columns}
    if not {"date", "money"} <= kinds.keys():
        return None
    text_key = kinds.get("text")
    rows: list[dict[str, str | None]] = []
    first_page = None
    for page, lines in pages:
        columns: dict[str, int] | None = None
        for line in lines:
            heading = _headings(line)
            if heading:
                columns = heading
                continue
            match = _ROW_DATE.match(line)
            if columns is None or match is None:
                continue
            amount = _row_amount(line, columns)
            if amount is None:
                continue
            rest = match.group("rest")
            first_amount = _ROW_AMOUNT.search(rest)
            description = rest[: first_amount.start()].strip() if first_amount else rest.strip()
            row = {column.key: None for column in spec.columns}
            row[kinds["date"]] = match.group("date")
            row[kinds["money"]] = amount
            if text_key:
                row[text_key] = re.sub(r"\s{2,}", " ", description) or None
            rows.append(row)
            first_page = first_page or page.number
    if not rows:
        return None
    return Found(value=json.dumps(rows), page=first_page or 1, line=0, label="(table)")


def _headings(line: str) -> dict[str, int] | None:
    """The end column of each direction heading on a table's heading line, or None."""
    out, into = _OUT_HEADINGS.search(line), _IN_HEADINGS.search(line)
    if not (out and into):
        return None
    headings = {"out": out.end(), "in": into.end()}
    balance = _BALANCE_HEADING.search(line, max(out.end(), into.end()))
    if balance:
        headings["balance"] = balance.end()
    return headings


def _row_amount(line: str, columns: dict[str, int]) -> str | None:
    for match in _ROW_AMOUNT.finditer(line):
        nearest = min(columns, key=lambda name: abs(columns[name] - match.end()))
        if nearest == "balance":
            continue
        text = match.group().strip("()-")
        return f"-{text}" if nearest == "out" else text
    return None
