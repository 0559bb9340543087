"""The local provider: the offline reader, driven by each document type's definition.

It reads the text each page already has (PDF text layer or OCR). What it knows about a type is
data (``type_definition``): each field's ``read`` rules say which labels anchor the value (in
any language), where the value stands (right of the label, under it, the next cell), which of
several candidates to take, or where an unlabelled value sits (the top lines, the lines under
another field). No type has code of its own. What no rule finds is None: it never guesses, so
a missing value is for a person to enter.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

import regex

from extraction.normalize import (
    MONEY_IN_TEXT,
    DateReading,
    NormalizationError,
    money_in_text,
    normalize,
)
from extraction.schemas import FieldSpec
from extraction.type_definition import ReadRule

from .base import ExtractionRequest, ExtractionResult, PageInput

MODEL = "label-patterns-v1"
# How long a definition's ``pattern`` may search one line. A pattern that backtracks
# catastrophically ("(a|aa)+$") would otherwise hold a worker, or the admin's preview, for
# ever; one that runs out of time gives its rule up for the document (the field is left for a
# person) and is logged.
PATTERN_SECONDS = 0.1

logger = logging.getLogger(__name__)
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
        # OCR may run the time into the year: "20/06/1800:05" is 20/06/18 at 00:05.
        r"(?<![\w/])(?:\d{1,2}[/-]\d{1,2}[/-]\d{2}(?=\d{1,2}:\d\d)"
        r"|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})"
        # German, Dutch and others: 05.03.2026 (a dotted date always has a four-digit year or
        # stands alone, so an amount such as 1.234,50 is never one).
        r"|\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2}(?![\d.,]))"
        rf"|{_MONTH}\s*\d{{1,2}}(?:st|nd|rd|th)?,?\s*\d{{4}}"
        rf"|\d{{1,2}}(?:st|nd|rd|th|er|\.)?[\s-]*{_MONTH},?[\s-]*(?:\d{{4}}|\d{{2}}(?![\d/])))"
        r"(?:(?![\w/])|(?<=\d\d)(?=\d{1,2}:\d\d))",
        re.IGNORECASE,
    ),
    "currency": re.compile(
        r"(?<![\w$])(?:EUR|USD|GBP|CHF|CAD|AUD|JPY|SEK|NOK|DKK|PLN|CZK|MYR|SGD|INR|NZD|HKD"
        r"|[A-Z]{0,2}\$|\u20ac|\u00a3|\u00a5|\u20b9|RM)(?![A-Za-z])"
    ),
    "reference": re.compile(r"(?<![\w./#-])[A-Za-z#]*[\w./-]*\d[\w./-]*(?<![./-])(?![\w])"),
    "ssn": re.compile(r"(?<![\w-])\d{3}[- ]?\d{2}[- ]?\d{4}(?![\w-])"),
    "ein": re.compile(r"(?<![\w-])\d{2}-?\d{7}(?![\w-])"),
    "integer": re.compile(r"(?<![\w.,-])\d{1,3}(?:,\d{3})+(?![\w.,])|(?<![\w.,-])\d+(?![\w.,])"),
    "account": re.compile(
        r"(?:[*\u2022#]+|[Xx]{2,})?[A-Za-z0-9]*\d[A-Za-z0-9]*(?:[ -][A-Za-z0-9]+)*"
    ),
}
_SEGMENT = re.compile(r"\S+(?: \S+)*")
# Columns of the page's layout text stand two or more spaces apart.
_CELL_GAP = re.compile(r"\s{2,}")
_CITY_LINE = re.compile(r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b")


@dataclass(frozen=True)
class Target:
    """What a value must read as: its kind, and for a date the type's order and the field's
    era (``07/16/58`` is a birth in 1958 and "30-06-2018" is only a date read day first)."""

    kind: str
    dates: DateReading | None = None
    # The type's label words, and whether labels may match with one character misread.
    vocabulary: frozenset[str] = frozenset()
    fuzzy: bool = False


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
        pages = [(page, page.text.splitlines()) for page in request.pages]
        found: dict[str, Found] = {}
        vocabulary = label_vocabulary(request.document_type)
        # A field read "after" another is read once that one is found.
        for spec in sorted(request.document_type.fields, key=lambda s: _depends(s)):
            hit = (
                _table_rows(spec, pages)
                if spec.is_rows
                else _find(spec, pages, found, request.document_type.date_order, vocabulary)
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


class PatternTooSlow(Exception):
    """A definition's pattern ran past ``PATTERN_SECONDS`` on one line."""


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> regex.Pattern:
    return regex.compile(pattern)


def _pattern_search(pattern: str, line: str) -> regex.Match | None:
    """``re.search`` with a time limit (the ``regex`` module's, which also skips much of the
    backtracking ``re`` does). Raises ``PatternTooSlow``."""
    try:
        return _pattern(pattern).search(line, timeout=PATTERN_SECONDS)
    except TimeoutError:
        raise PatternTooSlow(pattern) from None


def _depends(spec: FieldSpec) -> bool:
    return any(rule.after for rule in spec.read)


Pages = list[tuple[PageInput, list[str]]]


def _find(
    spec: FieldSpec,
    pages: Pages,
    found: dict[str, Found],
    date_order: str,
    vocabulary: frozenset[str] = frozenset(),
) -> Found | None:
    """The value of the first of the field's rules that yields one (``ReadRule.choose`` picks
    among that rule's candidates across the document)."""
    target = Target(spec.kind, DateReading(order=date_order, era=spec.era), vocabulary)
    for rule in spec.read:
        try:
            candidates = list(_candidates(rule, target, pages, found))
        except PatternTooSlow:
            logger.warning(
                "field %s: pattern %r ran past %ss on a line; rule skipped",
                spec.key,
                rule.pattern,
                PATTERN_SECONDS,
            )
            continue
        # Only where no label is printed as written, one misread by OCR ("Anount due").
        if not candidates and rule.label_phrases():
            candidates = list(_candidates(rule, replace(target, fuzzy=True), pages, found))
        if candidates:
            return _chosen(rule.choose, target, candidates)
    return None


def _candidates(
    rule: ReadRule, target: Target, pages: Pages, found: dict[str, Found]
) -> Iterator[Found]:
    if rule.after:
        anchor = found.get(rule.after)
        if anchor is not None:
            yield from _after(rule, target, pages, anchor)
        return
    for page, lines in pages:
        if rule.region:
            yield from _in_region(rule, target, page.number, lines)
            if rule.choose == "first" and page.number == 1:
                return
            continue
        for index, line in enumerate(lines):
            for value, label in _read_line(rule, target, lines, index, line):
                yield Found(value=value, page=page.number, line=index + 1, label=label)
                if rule.choose == "first":
                    return


def _chosen(choose: str, target: Target, candidates: list[Found]) -> Found:
    if choose == "last":
        return candidates[-1]
    if choose in ("largest", "smallest"):
        ordered = sorted(candidates, key=lambda hit: _magnitude(target, hit.value))
        return ordered[-1] if choose == "largest" else ordered[0]
    return candidates[0]


def _magnitude(target: Target, value: str) -> Decimal | str:
    canonical = normalize(target.kind, value, dates=target.dates)
    return Decimal(canonical) if target.kind in ("money", "integer") else canonical


def _read_line(
    rule: ReadRule, target: Target, lines: list[str], index: int, line: str
) -> Iterator[tuple[str, str]]:
    if rule.pattern:
        match = _pattern_search(rule.pattern, line)
        if match and _valid(target, match.group("value")):
            yield match.group("value").strip(), "(pattern)"
        return
    excluded = [
        m.span() for phrase in rule.exclude for m in _label_regex(phrase, fuzzy=True).finditer(line)
    ]
    for label in rule.label_phrases():
        for match in _label_regex(label, fuzzy=target.fuzzy).finditer(line):
            if any(start <= match.start() and match.end() <= end for start, end in excluded):
                continue
            if target.fuzzy and _another_label(match.group(), label, target.vocabulary):
                continue
            value = _at_label(rule, target, lines, index, line, match)
            if value is not None:
                yield value, label
                return


def _at_label(
    rule: ReadRule, target: Target, lines: list[str], index: int, line: str, match: re.Match
) -> str | None:
    rest = line[match.end() :]
    for place in rule.where:
        if place == "right":
            value = _value_right(target, rest, rule.nth)
        elif place == "cell":
            cells = _CELL_GAP.split(rest.strip(" :#"), maxsplit=1)
            value = _shaped(target, cells[0]) if cells and cells[0] else None
        else:
            value = _value_below(target, lines, index, match.start(), match.end())
        if value is not None:
            return value
    return None


def _in_region(rule: ReadRule, target: Target, number: int, lines: list[str]) -> Iterator[Found]:
    """Values with no label: in the page's first (or last) ``lines`` non-blank lines, what reads
    as the kind (or matches the rule's pattern), skipping lines with an excluded phrase ("Tax
    invoice", "Receipt")."""
    if number != 1 and rule.region == "top":
        return
    numbered = [(i, line) for i, line in enumerate(lines) if line.strip()]
    numbered = numbered[: rule.lines] if rule.region == "top" else numbered[-rule.lines :]
    for index, line in numbered:
        if any(_label_regex(phrase).search(line) for phrase in rule.exclude):
            continue
        if rule.pattern:
            match = _pattern_search(rule.pattern, line)
            value = _unlabelled(target, match.group("value")) if match else None
        else:
            value = _unlabelled(target, line)
        if value is not None:
            yield Found(value=value, page=number, line=index + 1, label=f"({rule.region})")


# A company's registration number printed after its name: "(519537-X)", "(Co. No: 20154-T)".
_REGISTRATION = re.compile(r"[(（]\s*(?:[A-Za-z. ]+:?\s*)?[\dA-Z-]*\d[\dA-Z-]*\s*[)）]?\s*$")


_REGISTRATION_LINE = re.compile(
    r"[(（]?\s*(?:[A-Za-z. ]+:?\s*)?[\dA-Z-]*\d[\dA-Z-]*\s*[)）]?", re.IGNORECASE
)


def _unlabelled(target: Target, text: str) -> str | None:
    """What of an unlabelled line reads as the kind. A date or an amount may stand anywhere in
    it (even spread over columns: "15  Jun  18"); a name or an address is the whole line, without
    a registration number after it, and must be mostly letters: a date, an amount or a phone
    number standing alone is not a name."""
    if target.kind in VALUE_PATTERNS:
        return _shaped(target, text)
    text = " ".join(text.split())
    if target.kind in ("name", "address"):
        text = _REGISTRATION.sub("", text).strip(" ,;")
    value = _shaped(target, text)
    if value is None or target.kind not in ("name", "address", "text"):
        return value
    letters = sum(ch.isalpha() for ch in value)
    return value if letters >= 3 and letters >= 0.5 * len(value.replace(" ", "")) else None


def _after(rule: ReadRule, target: Target, pages: Pages, anchor: Found) -> Iterator[Found]:
    """The lines under another field's value, joined, up to ``lines`` of them or a line with a
    ``stop`` phrase (a phone number, a tax number, the date), for an address under a name."""
    if anchor.line <= 0:
        return
    for page, lines in pages:
        if page.number != anchor.page:
            continue
        taken: list[str] = []
        for line in lines[anchor.line : anchor.line + rule.lines]:
            if not line.strip():
                if taken:
                    break
                continue
            if any(_label_regex(phrase).search(line) for phrase in rule.stop):
                break
            # A company's registration number under its name is not part of its address.
            if _REGISTRATION_LINE.fullmatch(line.strip()):
                continue
            taken.append(" ".join(line.split()))
        value = _shaped(target, " ".join(taken)) if taken else None
        if value is not None:
            yield Found(value=value, page=page.number, line=anchor.line + 1, label="(after)")


# A label word at least this long still matches with one character misread by OCR ("Anount",
# "INCLJDES", "Tota!"); a shorter one must match exactly ("Net" is not "Not").
FUZZY_WORD_LENGTH = 5


def _exact_word(word: str) -> str:
    return re.escape(word).replace("'", "['\u2019]?")


def _word_pattern(word: str) -> str:
    exact = _exact_word(word)
    if len(word) < FUZZY_WORD_LENGTH or not word.isalpha():
        return exact
    slips = [re.escape(word[:i]) + r"[^\s:]" + re.escape(word[i + 1 :]) for i in range(len(word))]
    return "(?:" + "|".join([exact, *slips]) + ")"


def _another_label(printed: str, label: str, vocabulary: frozenset[str]) -> bool:
    """Whether a loosely matched label is in fact another label of the type as printed:
    "Employee" is not "Employer" misread."""
    wanted = {word.casefold() for word in _WORD.findall(label)}
    return any(
        word.casefold() in vocabulary and word.casefold() not in wanted
        for word in _WORD.findall(printed)
    )


_WORD = re.compile(r"[^\W\d_]+")


def label_vocabulary(spec) -> frozenset[str]:
    """Every word of every label and exclusion of a type, folded: what OCR slips may not be."""
    return frozenset(
        word.casefold()
        for field in spec.fields
        for rule in field.read
        for phrase in (*rule.label_phrases(), *rule.exclude, *rule.stop)
        for word in _WORD.findall(phrase)
    )


@lru_cache(maxsize=2048)
def _label_regex(label: str, fuzzy: bool = False) -> re.Pattern[str]:
    pattern = _word_pattern if fuzzy else _exact_word
    words = [pattern(word) for word in label.rstrip(":").split()]
    colon = r"\s*:" if label.endswith(":") else r"\s*:?"
    # OCR may leave out the space between a label's words ("StatementPeriod:").
    return re.compile(r"(?<![\w'])" + r"\s*".join(words) + r"(?![\w'])" + colon, re.IGNORECASE)


def _value_right(target: Target, text: str, nth: int) -> str | None:
    pattern = VALUE_PATTERNS.get(target.kind)
    if pattern is None or target.kind == "account":
        segment = _first_segment(text)
        value = _shaped(target, segment) if segment else None
        return value if nth == 0 else None
    matches = money_in_text(text) if target.kind == "money" else pattern.finditer(text)
    values = [m.group().strip() for m in matches if _valid(target, m.group())]
    return values[nth] if len(values) > nth else None


def _value_below(target: Target, lines: list[str], index: int, start: int, end: int) -> str | None:
    """The value in the first of the next lines whose text stands under the label."""
    for below in range(index + 1, min(index + 1 + LINES_BELOW, len(lines))):
        for segment in _SEGMENT.finditer(lines[below]):
            if segment.start() >= end or segment.end() <= start:
                continue
            value = _shaped(target, segment.group())
            if value is not None and target.kind == "address":
                value = _with_city_line(value, lines, below, segment.start(), segment.end())
            if value is not None:
                return value
    return None


def _first_segment(text: str) -> str:
    match = _SEGMENT.search(text.lstrip(" :#"))
    return match.group().strip(" ,;") if match else ""


def _shaped(target: Target, text: str) -> str | None:
    """The part of ``text`` that reads as the target kind, or None."""
    pattern = VALUE_PATTERNS.get(target.kind)
    if pattern is not None:
        for match in money_in_text(text) if target.kind == "money" else pattern.finditer(text):
            if _valid(target, match.group()):
                return match.group().strip()
        return None
    text = text.strip(" ,;")
    # A phrase ending in a colon is the next label, not a value.
    if not re.search(r"[^\W_]", text) or text.endswith(":"):
        return None
    if target.kind == "name" and not re.search(r"[^\W\d_]", text):
        return None
    # "Employee ID: 004417" under a name's label is the next label and its value, never a name.
    if target.kind == "name" and re.search(r"\w:(?:\s|$)", text):
        return None
    return text


def _with_city_line(value: str, lines: list[str], index: int, start: int, end: int) -> str:
    if _CITY_LINE.search(value) or index + 1 >= len(lines):
        return value
    for segment in _SEGMENT.finditer(lines[index + 1]):
        if segment.start() < end and segment.end() > start and _CITY_LINE.search(segment.group()):
            return f"{value}, {segment.group()}"
    return value


def _valid(target: Target, text: str) -> bool:
    try:
        normalize(target.kind, text, dates=target.dates)
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
