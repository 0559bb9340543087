"""Canonical forms of field values, so that "$1,234.50" and "1234.50" are the same amount.

The canonical form is what rules compare, what grounding searches for and what evals score.
``normalize`` is strict: a value that cannot be read as its kind raises ``NormalizationError``
with a sentence a person can act on, rather than being guessed into shape.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    "currency": "Enter a currency code such as EUR or USD.",
    "reference": "Enter the reference as printed, such as INV-2024-0012.",
    "text": "Enter a value.",
}

_WHITESPACE = re.compile(r"\s+")


def _collapse(value: str) -> str:
    """NFC (a name typed with combining accents equals the precomposed one), one space."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()


def _fail(kind: str) -> NormalizationError:
    return NormalizationError(_MESSAGES.get(kind, _MESSAGES["text"]))


# --- money -------------------------------------------------------------------------------------

# One money grammar for every reader, the normalizer and the grounding. An amount is a number
# with optional digit grouping (space, no-break or thin space, apostrophe, comma or dot, one kind
# per number) and a decimal mark that differs from the grouping; around it a currency (before or
# after), a sign (leading, trailing or parentheses) and a credit/debit marker (CR, DR, credit).
_CURRENCY_MARKS = (
    *("US$", "C$", "A$", "NZ$", "HK$", "S$", "$", "USD", "CAD", "AUD", "EUR", "GBP", "CHF"),
    *("MYR", "SGD", "INR", "JPY", "\u20ac", "\u00a3", "\u00a5", "\u20b9", "RM", "Fr.", "kr", "US"),
)
CURRENCY = "(?:" + "|".join(map(re.escape, _CURRENCY_MARKS)) + ")"
_GROUP_MARKS = " \u00a0\u202f\u2009'\u2019"
MINUSES = "-\u2212\u2012\u2013"
_NUMBER = (
    # 1,234,567.89  1 234 567.89  1'234.50  (grouping with a dot as decimal mark)
    rf"\d{{1,3}}(?:(?P<g1>[,{_GROUP_MARKS}])\d{{3}})(?:(?P=g1)\d{{3}})*(?:\.\d{{1,2}})?"
    # 1.234.567,89  1 234,50  (grouping with a comma as decimal mark)
    rf"|\d{{1,3}}(?:(?P<g2>[.{_GROUP_MARKS}])\d{{3}})(?:(?P=g2)\d{{3}})*,\d{{1,2}}"
    r"|\d+(?:[.,]\d{1,2})?"
)
_CREDIT_WORDS = (
    *("CR", "Cr", "cr", "credit", "Credit", "CREDIT"),
    *("DR", "Dr", "dr", "debit", "Debit", "DEBIT"),
)
_CREDIT = "(?:" + "|".join(_CREDIT_WORDS) + r")\b\.?"
# A whole amount as printed. Used with fullmatch on a value, and (as MONEY_IN_TEXT) to find
# amounts inside a line of text.
_AMOUNT = (
    r"(?P<open>\(\s?)?(?P<lead>[-\u2212\u2012\u2013+]\s?)?(?:" + CURRENCY + r"\s?)?"
    r"(?P<lead2>[-\u2212\u2012\u2013]\s?)?(?P<number>" + _NUMBER + r")"
    r"(?:\s?" + CURRENCY + r"(?![A-Za-z]))?(?P<trail>[-\u2212\u2012\u2013])?"
    r"(?:\s?(?P<credit>" + _CREDIT + r"))?(?(open)\s?\))"
)
_AMOUNT_RE = re.compile(_AMOUNT)
# Amounts standing in a line: never inside a longer number or a date; a decimal part is
# required so that a ZIP code or a quantity is not taken for money.
MONEY_IN_TEXT = re.compile(
    r"(?<![\w.,/\u2212-])(?=[(\-\u2212\u2012\u2013+$\u20ac\u00a3\u00a5\u20b9A-Z\d])"
    + _AMOUNT.replace("(?P<", "(?P<t_")
    .replace("(?P=g", "(?P=t_g")
    .replace("(?(open)", "(?(t_open)")
    + r"(?![\d/]|[.,]\d)"
)


# What a word without a digit can be inside an amount, under both the grammar above and
# ``_money_loose``: its parentheses, signs, currencies and credit markers, alone or glued
# together ("$", "(USD", "CR)", "-"). The punctuation of a number is allowed too, so the test
# only ever lets more through. By first character, for ``may_stand_in_amount``.
_AMOUNT_AFFIXES: dict[str, list[str]] = {}
for _affix in (*_CURRENCY_MARKS, *_CREDIT_WORDS, *"()+.,'\u2019", *MINUSES):
    _AMOUNT_AFFIXES.setdefault(_affix[0], []).append(_affix)
del _affix


def may_stand_in_amount(word: str) -> bool:
    """Whether a word without a digit may be part of an amount printed over several words.

    A run of words holding any other such word ("PURCHASE 12.00") is refused by ``normalize``
    as money, so whoever tries runs of words (the grounding) need not read it. The word (in
    NFC, as ``_collapse`` reads it) must be spelled out of the affixes and white space; worked
    out position by position, since a regular expression would backtrack exponentially on a
    hostile word such as "US$US$...US$X" ("US$" is also "US" and "$").
    """
    text = unicodedata.normalize("NFC", word)
    reachable = [True] + [False] * len(text)
    for position, char in enumerate(text):
        if not reachable[position]:
            continue
        if char.isspace():
            reachable[position + 1] = True
            continue
        for mark in _AMOUNT_AFFIXES.get(char, ()):
            if text.startswith(mark, position):
                reachable[position + len(mark)] = True
    return reachable[-1]


def money_in_text(text: str) -> list[re.Match[str]]:
    """The amounts printed in ``text`` (with a decimal part), left to right."""
    return [
        match
        for match in MONEY_IN_TEXT.finditer(text)
        if re.search(r"[.,]\d{1,2}$", match.group("t_number"))
    ]


def _money(value: str) -> str:
    canonical = _money_reading(value)
    if canonical is None:
        raise _fail("money")
    return canonical


@functools.lru_cache(maxsize=65536)
def _money_reading(value: str) -> str | None:
    """``_money_parsed``, or None where it refuses; kept per process, since one document's
    amounts are read again and again (each run of words the grounding tries, the rows'
    cells, the rules' context) and a reading depends on nothing but the text."""
    try:
        return _money_parsed(value)
    except NormalizationError:
        return None


def _money_parsed(value: str) -> str:
    text = _collapse(value).replace("\u2019", "'")
    match = _AMOUNT_RE.fullmatch(text)
    if match is None:
        return _money_loose(text)
    number = match.group("number")
    negative = bool(
        match.group("open")
        or (match.group("lead") or "+").strip() in MINUSES
        or match.group("lead2")
        or match.group("trail")
    )
    credit = (match.group("credit") or "").rstrip(".").lower()
    if credit in {"cr", "credit"}:
        negative = True
    if match.group("g1") is not None or match.group("g2") is not None:
        group = match.group("g1") or match.group("g2")
        number = number.replace(group, "")
        digits = number.replace(",", ".")
    else:
        digits = _money_digits(number)
    return _money_text(Decimal(digits), negative)


def _money_loose(text: str) -> str:
    """The older, looser reading for a value typed without spaces inside the number: an OCR
    slip such as "1,841,45" still reads as 1841.45, while "612.45 1,837.35" (two amounts) is
    refused."""
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = re.sub(CURRENCY, "", text).strip()
    if text[:1] in MINUSES:
        negative, text = True, text[1:].strip()
    elif text[-1:] in MINUSES:
        negative, text = True, text[:-1].strip()
    if not re.fullmatch(r"\d[\d.,]*", text):
        raise _fail("money")
    return _money_text(Decimal(_money_digits(text)), negative)


# The largest amount read as money (a quadrillion): a longer run of digits is an account or
# card number, a barcode or several numbers run together, never an amount, and would overflow
# ``quantize``.
MONEY_MAX_DIGITS = 15


def _money_text(amount: Decimal, negative: bool) -> str:
    if amount.adjusted() >= MONEY_MAX_DIGITS:
        raise _fail("money")
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

# Month names and abbreviations in English, French, Spanish, German, Italian, Portuguese and
# Dutch, accents removed ("fevr." and "fevrier" both read February).
_MONTH_NAMES = [
    "jan january janv janvier ene enero januar gen gennaio janeiro januari jaenner",
    "feb february fev fevr fevrier febrero februar febbraio fevereiro februari",
    "mar march mars marzo maerz marz marco maart",
    "apr april avr avril abr abril aprile",
    "may mai mayo mag maggio maio mei",
    "jun june juin junio juni giu giugno junho",
    "jul july juil juillet julio juli lug luglio julho",
    "aug august aou aout ago agosto augustus",
    "sep sept september septembre septiembre set settembre setembro",
    "oct october octobre octubre okt oktober ott ottobre out outubro",
    "nov november novembre noviembre novembro",
    "dec december decembre dic diciembre dez dezember dicembre dezembro",
]
_MONTHS = {
    name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names.split()
}
DATE_ORDERS = ("MDY", "DMY", "YMD")
_ORDER_EXAMPLES = {"MDY": "01/15/2026", "DMY": "15/01/2026", "YMD": "2026-01-15"}
_ORDER_WORDS = {
    "MDY": "month first (MM/DD/YYYY)",
    "DMY": "day first (DD/MM/YYYY)",
    "YMD": "year first (YYYY-MM-DD)",
}
# What a two-digit year means, by what the date is: a birth date lies in the past; a document
# date lies near today; an expiry date (and anything undeclared) follows strptime's pivot.
DATE_ERAS = ("", "past", "recent", "future")
_MONTH = r"(?P<month_name>[^\W\d_]{3,10})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th|er|\.)?"
_YEAR = r"(?P<year>\d{4}|\d{2})"
_NUMERIC = re.compile(r"(?P<a>\d{1,4})[-/.](?P<b>\d{1,2})[-/.](?P<c>\d{4}|\d{2})")
_NAMED = [
    re.compile(_MONTH + r"\s*" + _DAY + r",?\s*(?:de\s+)?" + _YEAR),
    re.compile(_DAY + r"(?:[\s-]*de)?[\s-]*" + _MONTH + r",?(?:[\s-]*de)?[\s-]*" + _YEAR),
    re.compile(r"(?P<year>\d{4})[\s-]*" + _MONTH + r"[\s-]*" + _DAY),
]


@dataclass(frozen=True)
class DateReading:
    """How to read a date: the order of its numbers and what a two-digit year means.

    ``order`` is "MDY", "DMY" or "YMD" ("" for the deployment's EXTRACTION_DATE_ORDER);
    ``era`` one of DATE_ERAS; ``today`` fixes the present (for tests), else the current date.
    """

    order: str = ""
    era: str = ""
    today: date | None = None


def default_date_order() -> str:
    """The deployment's date order (setting EXTRACTION_DATE_ORDER), "MDY" without Django."""
    try:
        from django.conf import settings

        order = getattr(settings, "EXTRACTION_DATE_ORDER", "MDY") if settings.configured else "MDY"
    except ImportError:  # pragma: no cover - Django is always installed with the app
        order = "MDY"
    return order if order in DATE_ORDERS else "MDY"


def _full_year(year: int, month: int, day: int, reading: DateReading) -> int:
    today = reading.today or datetime.now(UTC).date()
    if reading.era == "past":
        century = today.year // 100 * 100
        candidate = century + year
        try:
            later = date(candidate, month, day) > today
        except ValueError:
            later = candidate > today.year
        return candidate - 100 if later else candidate
    if reading.era == "recent":
        candidates = [today.year // 100 * 100 + year + shift for shift in (-100, 0, 100)]
        return min(candidates, key=lambda y: abs(y - today.year))
    # The same pivot as strptime's %y: 68 and below are this century.
    return year + (2000 if year <= 68 else 1900)


# How far from today a date of each era may plausibly lie, in years (before, after): a date of
# birth is in the past; a pay date or a statement's period near today; an expiry ahead. No date
# on Attest's paperwork is before OLDEST_YEAR. A date of no declared meaning spans the widest
# range, so that strptime's two-digit pivot (up to 2068) still reads.
DATE_ERA_YEARS = {"past": (120, 0), "recent": (30, 2), "future": (30, 30), "": (126, 75)}
OLDEST_YEAR = 1900


def date_year_range(era: str = "", today: date | None = None) -> tuple[int, int]:
    """The first and last year a date of ``era`` may have (see DATE_ERA_YEARS)."""
    today = today or datetime.now(UTC).date()
    before, after = DATE_ERA_YEARS.get(era, DATE_ERA_YEARS[""])
    return max(today.year - before, OLDEST_YEAR), today.year + after


class ImplausibleDate(NormalizationError):
    """A well-formed date whose year no document of the field can carry: OCR ran a time into
    it ("20/06/1800:05"), or a typing slip ("01/15/3026"). ``first`` and ``last`` are the years
    it must lie between, ``year`` the one it has."""

    def __init__(self, text: str, year: int, first: int, last: int):
        super().__init__(
            f"{text} should fall between {first} and {last}. Check the year on the document."
        )
        self.year, self.first, self.last = year, first, last


def _ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _date(value: str, reading: DateReading | None = None) -> str:
    reading = reading or DateReading()
    order = reading.order or default_date_order()
    text = _collapse(value)
    match = _NUMERIC.fullmatch(text)
    if match:
        a, b, c = match["a"], match["b"], match["c"]
        if len(a) == 4:
            year, month, day = a, b, c
        elif len(a) == 3 or (len(a) > 2 and len(c) > 2):
            raise _fail("date")
        elif order == "YMD" and len(c) == 2:
            year, month, day = a, b, c
        elif order == "DMY" or (order == "YMD" and len(c) == 4):
            day, month, year = a, b, c
        else:
            month, day, year = a, b, c
        return _checked(int(year), int(month), int(day), len(year) == 2, reading, order, text)
    for pattern in _NAMED:
        match = pattern.fullmatch(text)
        if not match:
            continue
        month = _MONTHS.get(_ascii_fold(match["month_name"]).rstrip("."))
        if month is None:
            continue
        year = match["year"]
        return _checked(int(year), month, int(match["day"]), len(year) == 2, reading, "", text)
    raise _fail("date")


def _checked(
    year: int, month: int, day: int, short: bool, reading: DateReading, order: str, text: str
) -> str:
    """The ISO date, or a plain refusal naming the order it was read in."""
    if short:
        year = _full_year(year, month, day, reading)
    first, last = date_year_range(reading.era, reading.today)
    if not first <= year <= last:
        raise ImplausibleDate(text, year, first, last)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        if order:
            raise NormalizationError(
                f"{text} is not a date when read {_ORDER_WORDS[order]}. "
                f"Enter a date such as {_ORDER_EXAMPLES[order]}."
            ) from None
        raise _fail("date") from None


def date_readings(value: str, *, order: str = "") -> set[str]:
    """Every ISO date ``value`` may stand for under ``order`` (any order when blank), with a
    two-digit year in any century: what the page can be said to show."""
    found = set()
    for each in (order,) if order else DATE_ORDERS:
        for era in ("", "past", "recent"):
            try:
                found.add(_date(value, DateReading(order=each, era=era)))
            except NormalizationError:
                continue
    return found


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


# --- currencies and references ----------------------------------------------------------------

# Symbols that stand for one currency; "$" alone is read as US dollars, as it is printed on
# most documents that show it without a country ("C$", "A$" say otherwise).
_CURRENCY_SYMBOLS = {
    "\u20ac": "EUR",
    "\u00a3": "GBP",
    "\u00a5": "JPY",
    "\u20b9": "INR",
    "$": "USD",
    "US$": "USD",
    "C$": "CAD",
    "A$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "RM": "MYR",
    "FR.": "CHF",
    "SFR": "CHF",
    "EURO": "EUR",
    "EUROS": "EUR",
}
# ISO 4217 codes of the currencies Attest's documents are printed in; another code is refused
# rather than stored as a currency nobody can check.
CURRENCY_CODES = frozenset(
    [
        "AED",
        "AUD",
        "BRL",
        "CAD",
        "CHF",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "JPY",
        "KRW",
        "MXN",
        "MYR",
        "NOK",
        "NZD",
        "PHP",
        "PLN",
        "RON",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "USD",
        "ZAR",
    ]
)


def _currency(value: str) -> str:
    text = _collapse(value).strip(" .:").upper()
    code = _CURRENCY_SYMBOLS.get(text, text)
    if code not in CURRENCY_CODES:
        raise _fail("currency")
    return code


def _reference(value: str) -> str:
    """An invoice or order number as printed: one token with at least one digit."""
    text = _collapse(value).strip(" :#")
    if not re.fullmatch(r"[\w./#-]*\d[\w./#-]*", text):
        raise _fail("reference")
    return text


_NORMALIZERS = {
    "money": _money,
    "currency": _currency,
    "reference": _reference,
    "date": _date,
    "integer": _integer,
    "ssn": _ssn,
    "ein": _ein,
    "account": _account,
    "rows": _rows,
}


def normalize(kind: str, value: str, *, dates: DateReading | None = None) -> str:
    """The canonical form of ``value`` read as ``kind``; ``dates`` says how to read a date
    (order and era; the deployment's order by default).

    money -> "1234.50", date -> "2026-01-15", integer -> "2026", ssn -> "123-45-6789",
    ein -> "12-3456789", account -> letters and digits, currency -> ISO 4217 code ("€" ->
    "EUR"), reference -> one token as printed ("INV-2024/07"), rows -> canonical JSON (see
    ``normalize_rows`` for the cells); every other kind (name, address, text,
    enum, and kinds added later) -> whitespace collapsed.
    """
    if value is None or not str(value).strip():
        raise _fail(kind if kind in _MESSAGES else "text")
    if kind == "date":
        return _date(str(value), dates)
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
