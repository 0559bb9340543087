"""Canonical forms of field values, so that "$1,234.50" and "1234.50" are the same amount.

The canonical form is what rules compare, what grounding searches for and what evals score.
``normalize`` is strict: a value that cannot be read as its kind raises ``NormalizationError``
with a sentence a person can act on, rather than being guessed into shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


class NormalizationError(ValueError):
    """A value that cannot be read as its kind; the message is written for the person typing."""


_MESSAGES = {
    "money": "Enter an amount such as 1,234.50.",
    "date": "Enter a date such as 01/15/2026.",
    "integer": "Enter a whole number such as 2026.",
    "ssn": "Enter a Social Security number such as 123-45-6789.",
    "ein": "Enter an employer ID number such as 12-3456789.",
    "account": "Enter the number using letters and digits only.",
    "rows": "Enter the rows as a list, one row per line of the document.",
    "text": "Enter a value.",
}

_WHITESPACE = re.compile(r"\s+")


def _collapse(value: str) -> str:
    return _WHITESPACE.sub(" ", value).strip()


def _fail(kind: str) -> NormalizationError:
    return NormalizationError(_MESSAGES.get(kind, _MESSAGES["text"]))


# --- money -------------------------------------------------------------------------------------

_CURRENCY = re.compile(r"(?i)\b(?:usd|us)\b|us\$|\$")
_MINUSES = "-\u2212\u2012\u2013"
# Digit grouping characters seen on statements: comma, dot, space, no-break space, apostrophe.
_GROUPING = re.compile(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}\b)")
_MONEY_BODY = re.compile(r"\d[\d.,]*")


def _money(value: str) -> str:
    text = _collapse(value)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = _CURRENCY.sub("", text).strip()
    if text[:1] in _MINUSES:
        negative, text = True, text[1:].strip()
    elif text[-1:] in _MINUSES:
        negative, text = True, text[:-1].strip()
    elif text[:1] == "+":
        text = text[1:].strip()
    # A currency sign may stand after the minus: "-$12.00".
    text = _CURRENCY.sub("", text).strip()
    text = _GROUPING.sub("", text)
    if not _MONEY_BODY.fullmatch(text):
        raise _fail("money")
    amount = Decimal(_money_digits(text))
    if negative:
        amount = -amount
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return "0.00" if amount == 0 else f"{amount:.2f}"


def _money_digits(text: str) -> str:
    """Resolve which separator is the decimal mark: the last one, unless it groups thousands.

    The last separator groups thousands when three digits follow it and it is a comma ("1,234")
    or one of several dots ("1.234.567"); otherwise it is the decimal mark, which also reads
    "1.234,50" and an OCR slip such as "1,841,45" right.
    """
    last = max(text.rfind(","), text.rfind("."))
    if last == -1:
        return text
    mark, head, tail = text[last], text[:last], text[last + 1 :]
    if len(tail) == 3 and (mark == "," or text.count(".") > 1):
        return re.sub(r"[.,]", "", text)
    return re.sub(r"[.,]", "", head) + "." + tail


# --- dates -------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month_name>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4}|\d{2})"
_DATE_PATTERNS = [
    re.compile(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"),
    re.compile(r"(?P<month>\d{1,2})[-/.](?P<day>\d{1,2})[-/.]" + _YEAR),
    re.compile(_MONTH + r"\s*" + _DAY + r",?\s*" + _YEAR),
    re.compile(_DAY + r"[\s-]*" + _MONTH + r",?[\s-]*" + _YEAR),
]


def _two_digit_year(year: int) -> int:
    # The same pivot as strptime's %y: 69 and below are this century.
    return year + (2000 if year <= 68 else 1900)


def _date(value: str) -> str:
    text = _collapse(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        parts = match.groupdict()
        if "month_name" in parts:
            month = _MONTHS.get(parts["month_name"].lower())
            if month is None:
                continue
        else:
            month = int(parts["month"])
        year = int(parts["year"])
        if len(parts["year"]) == 2:
            year = _two_digit_year(year)
        try:
            return date(year, month, int(parts["day"])).isoformat()
        except ValueError:
            raise _fail("date") from None
    raise _fail("date")


# --- numbers and identifiers -------------------------------------------------------------------


def _integer(value: str) -> str:
    text = _collapse(value).replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[-\u2212]?\d+", text):
        raise _fail("integer")
    return str(int(text.replace("\u2212", "-")))


def _digits(value: str, kind: str, count: int) -> str:
    text = _collapse(value)
    if not re.fullmatch(r"[\d\s\-.]+", text):
        raise _fail(kind)
    digits = re.sub(r"\D", "", text)
    if len(digits) != count:
        raise _fail(kind)
    return digits


def _ssn(value: str) -> str:
    digits = _digits(value, "ssn", 9)
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def _ein(value: str) -> str:
    digits = _digits(value, "ein", 9)
    return f"{digits[:2]}-{digits[2:]}"


def _account(value: str) -> str:
    # Masked digits ("****1234", "XXXX1234") are kept as '*' so that a masked number stays
    # recognisably masked instead of becoming a shorter, wrong number.
    text = re.sub(r"[\s\-./]", "", value)
    text = re.sub(r"^(?:[*\u2022#]+|[xX]{2,})", lambda m: "*" * len(m.group()), text)
    if not re.fullmatch(r"\**[A-Za-z0-9]+", text) or not re.search(r"\d", text):
        raise _fail("account")
    return text.upper()


def _text(value: str) -> str:
    text = _collapse(value)
    if not text:
        raise _fail("text")
    return text


# --- rows --------------------------------------------------------------------------------------

_DAY_MONTH_ONLY = re.compile(r"(?P<month>\d{1,2})[/.-](?P<day>\d{1,2})")


def _rows(value: str) -> str:
    """Rows as canonical JSON: a list of objects of strings or nulls, whitespace collapsed.

    Without the columns' kinds this is only the shape; ``normalize_rows`` reads each cell.
    """
    try:
        rows = json.loads(value)
    except ValueError:
        raise _fail("rows") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise _fail("rows")
    canonical = []
    for row in rows:
        cells = {}
        for key, cell in row.items():
            if cell is not None and not isinstance(cell, str | int | float):
                raise _fail("rows")
            text = _collapse(str(cell)) if cell is not None else ""
            cells[str(key)] = text or None
        canonical.append(cells)
    return json.dumps(canonical, ensure_ascii=False)


def normalize_rows(
    *, columns: Iterable[tuple[str, str]], value: str, reference: date | None = None
) -> str:
    """Each cell of ``value``'s rows in its column's canonical form; a cell that cannot be read
    as its kind becomes null rather than being guessed into shape.

    ``columns`` is ``[(key, kind)]``. A statement prints transaction dates without the year
    ("01/02"); with a ``reference`` date (the statement's end) the year is the reference's, or
    the year before for a month after the reference's (a December row on a January statement).
    """
    kinds = dict(columns)
    rows = json.loads(_rows(value))
    for row in rows:
        for key, cell in row.items():
            if cell is None:
                continue
            kind = kinds.get(key, "text")
            try:
                row[key] = normalize(kind, cell)
            except NormalizationError:
                row[key] = _year_completed(cell, reference) if kind == "date" else None
    return json.dumps(rows, ensure_ascii=False)


def _year_completed(value: str, reference: date | None) -> str | None:
    match = _DAY_MONTH_ONLY.fullmatch(_collapse(value))
    if match is None or reference is None:
        return None
    month, day = int(match["month"]), int(match["day"])
    year = reference.year - 1 if month > reference.month else reference.year
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


_NORMALIZERS = {
    "money": _money,
    "date": _date,
    "integer": _integer,
    "ssn": _ssn,
    "ein": _ein,
    "account": _account,
    "rows": _rows,
}


def normalize(kind: str, value: str) -> str:
    """The canonical form of ``value`` read as ``kind``.

    money -> "1234.50", date -> "2026-01-15", integer -> "2026", ssn -> "123-45-6789",
    ein -> "12-3456789", account -> letters and digits, rows -> canonical JSON (see
    ``normalize_rows`` for the cells); every other kind (name, address, text,
    enum, and kinds added later) -> whitespace collapsed.
    """
    if value is None or not str(value).strip():
        raise _fail(kind if kind in _MESSAGES else "text")
    return _NORMALIZERS.get(kind, _text)(str(value))


def mask(kind: str, value: str) -> str:
    """The value as shown where it is sensitive: only the last four characters survive.

    Kinds without a conventional masked form (a date of birth, an address) are hidden whole.
    """
    tail = re.sub(r"[^A-Za-z0-9]", "", value or "")[-4:]
    if len(tail) < 4:
        return "\u2022" * 4
    if kind == "ssn":
        return f"***-**-{tail}"
    if kind == "ein":
        return f"**-***{tail}"
    if kind == "account":
        return "\u2022" * 4 + tail
    return "\u2022" * 6
