"""How values are shown on screens: sensitive ones masked, revisions described."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateformat import DateFormat
from django.utils.html import format_html
from django.utils.safestring import SafeString

from extraction.normalize import NormalizationError, mask, normalize
from extraction.schemas import rows_dumps, rows_loads


def masked(field, value: str) -> str:
    """The value as shown outside its owner's input: sensitive values keep only their tail."""
    if not value or not field.sensitive:
        return value
    return mask(field.kind, value)


def breakable_email(email: str) -> SafeString | str:
    """An e-mail address that may wrap before its "@" rather than in the middle of a word."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return email or ""
    return format_html("{}<wbr>@{}", local, domain)


@dataclass(frozen=True)
class Moment:
    """A date and time in the current time zone, as the lists show it: ``iso`` (the ``date``
    filter's "c"), ``day`` ("M j, Y"), ``time`` ("H:i") and ``zone`` ("T")."""

    iso: str
    day: str
    time: str
    zone: str


def moment(value: datetime) -> Moment:
    """The texts the ``date`` filter gives for ``value`` in those formats, from one formatter:
    a list of 50 rows formatting each date three times in the template spent about 3 ms of a
    page's 18 ms on it."""
    formatter = DateFormat(timezone.localtime(value))
    return Moment(
        iso=formatter.format("c"),
        day=formatter.format("M j, Y"),
        time=formatter.format("H:i"),
        zone=formatter.format("T"),
    )


def error_text(error: Exception) -> str:
    """A service's error as one plain sentence (or several, joined)."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "That did not work. Please try again."


# How each kind of value is typed: the keyboard a phone shows and an example of the format.
KIND_INPUT = {
    "money": ("decimal", "e.g. 1,234.56"),
    "integer": ("numeric", "e.g. 12"),
    "date": ("text", "MM/DD/YYYY"),
    "ssn": ("numeric", "XXX-XX-XXXX"),
    "account": ("numeric", ""),
}


def decorate_field(field, *, show_real_value: bool) -> None:
    """Attach what the templates show for a field: masked values, the not-found marker, the
    input's keyboard and example, and the normalized value when it reads differently."""
    field.inputmode, field.placeholder = KIND_INPUT.get(field.kind, ("text", ""))
    field.show_normalized = (
        show_real_value
        and bool(field.value)
        and bool(field.normalized)
        and field.normalized != field.value
        and field.kind in KIND_INPUT
    )
    if not hasattr(field, "absent"):
        field.absent = False
    field.display_value = field.value if show_real_value else masked(field, field.value)
    field.display_machine = masked(field, field.machine_value)
    field.not_found = bool(field.value) and not field.grounded
    field.box_style = box_style(field.box)
    field.disagrees = field.agreement == "disagree"
    field.agrees = field.agreement == "agree" and bool(field.second_value)
    field.display_second = second_reading(field, show_real_value=show_real_value)
    if not hasattr(field, "error"):
        field.error = ""
    if not hasattr(field, "typed"):
        field.typed = None


def box_style(box) -> str:
    """CSS placing an evidence box over its page image; boxes are fractions of the page."""
    if not box or len(box) != 4:
        return ""
    x0, y0, x1, y1 = (float(v) for v in box)
    return (
        f"left:{x0 * 100:.3f}%;top:{y0 * 100:.3f}%;"
        f"width:{max(x1 - x0, 0) * 100:.3f}%;height:{max(y1 - y0, 0) * 100:.3f}%"
    )


# --- rows fields (a bank statement's transactions) ---------------------------------------------

# The columns of a rows field whose document type does not name them.
DEFAULT_COLUMNS = (
    ("date", "Date", "date"),
    ("description", "Description", "text"),
    ("amount", "Amount", "money"),
)
ROW_SEPARATOR = "|"
_DAY_MONTH = re.compile(r"\d{1,2}[/.-]\d{1,2}")


def row_columns(field, document_type) -> list[tuple[str, str, str]]:
    """A rows field's columns as ``(key, label, kind)``, from its document type's schema."""
    for spec in getattr(document_type, "fields", None) or []:
        if isinstance(spec, dict) and spec.get("key") == field.key and spec.get("columns"):
            return [
                (c["key"], c.get("label", c["key"]), c.get("kind", "text"))
                for c in spec["columns"]
                if isinstance(c, dict) and c.get("key")
            ]
    return list(DEFAULT_COLUMNS)


def rows_as_text(rows, columns) -> str:
    """Rows as the correction box shows them: one a line, cells separated by " | "."""
    return "\n".join(
        f" {ROW_SEPARATOR} ".join((row.get(key) or "") for key, _, _ in columns) for row in rows
    )


def rows_from_text(text: str, columns) -> tuple[list[dict], list[str]]:
    """The rows typed in the correction box, and one plain error per line that cannot be read.

    Each non-blank line holds one cell per column separated by "|". A date may lack its year
    (as statements print it); a money cell must read as an amount.
    """
    rows, errors = [], []
    names = f" {ROW_SEPARATOR} ".join(label.lower() for _, label, _ in columns)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(ROW_SEPARATOR)]
        if len(cells) != len(columns):
            errors.append(
                f"Line {number}: write {len(columns)} parts separated by “{ROW_SEPARATOR}” "
                f"({names}); this line has {len(cells)}."
            )
            continue
        row, problems = {}, []
        for cell, (key, label, kind) in zip(cells, columns, strict=True):
            row[key] = " ".join(cell.split()) or None
            if not cell or kind not in ("date", "money"):
                continue
            try:
                normalize(kind, cell)
            except NormalizationError:
                if kind == "date" and _DAY_MONTH.fullmatch(cell):
                    continue
                example = "01/15/2026" if kind == "date" else "-45.00"
                noun = label.lower()
                article = "an" if noun[:1] in "aeiou" else "a"
                problems.append(f"“{cell}” is not {article} {noun} (such as {example})")
        if problems:
            errors.append(f"Line {number}: {'; '.join(problems)}.")
        elif any(row.values()):
            rows.append(row)
    return rows, errors


def rows_value(text: str, field, columns) -> tuple[str, list[str]]:
    """The JSON text ``field_correct`` expects for the typed rows, or the errors per line.

    Rows equal to the current ones give the current value unchanged, so typing nothing new
    keeps the machine's reading (and its evidence) as it is.
    """
    rows, errors = rows_from_text(text, columns)
    if errors:
        return "", errors
    keys = [key for key, _, _ in columns]
    current = [{key: row.get(key) for key in keys} for row in rows_loads(field.value)]
    if rows == current:
        return field.value, []
    return (rows_dumps(rows) if rows else ""), []


def decorate_rows(field, document_type, *, page_number: int | None = None) -> None:
    """Attach what a rows field shows: its columns, its rows (each with a box on its page)
    and the text the correction box starts with."""
    field.is_rows = field.kind == "rows"
    if not field.is_rows:
        return
    field.columns = row_columns(field, document_type)
    field.row_list = []
    for index, row in enumerate(field.rows):
        evidence = row.get("evidence") or {}
        field.row_list.append(
            {
                "index": index,
                "cells": [
                    {"text": row.get(key) or "", "num": kind == "money"}
                    for key, _, kind in field.columns
                ],
                "page": evidence.get("page"),
                "box_style": box_style(evidence.get("box")),
                # None when the rows were changed and no longer match the machine's evidence.
                "found": evidence.get("grounded") if evidence else None,
            }
        )
    field.rows_text = rows_as_text(field.rows, field.columns)
    field.machine_summary = _rows_summary(_rows_count(field.machine_value))
    field.value_summary = _rows_summary(_rows_count(field.value))
    # One box per row, not the first row's box for the whole list.
    field.box_style = ""
    field.display_value = field.value_summary
    field.display_machine = field.machine_summary
    field.not_found = (
        bool(field.value) and not field.grounded and field.value == field.machine_value
    )


def _rows_count(value: str) -> list:
    return rows_loads(value)


def rows_summary(value: str) -> str:
    """A rows value in a few words: "12 rows"; empty for no rows."""
    return _rows_summary(_rows_count(value))


def _rows_summary(rows) -> str:
    if not rows:
        return ""
    return f"{len(rows)} row{'' if len(rows) == 1 else 's'}"


def second_reading(field, *, show_real_value: bool) -> str:
    """The other reading's value as shown beside a field whose readings differ."""
    value = field.second_value or ""
    if field.kind == "rows":
        rows = rows_loads(value)
        return f"{len(rows)} row{'' if len(rows) == 1 else 's'}" if rows else "(nothing)"
    if not value:
        return "(nothing)"
    return value if show_real_value else masked(field, value)


def page_range(document) -> str:
    """A split part's pages of the original file in words: "page 2" or "pages 1–3"."""
    first, last = document.page_start, document.page_end
    if not first:
        return ""
    if not last or last == first:
        return f"page {first}"
    return f"pages {first}\u2013{last}"
