"""Spreadsheet-safe exports: every CSV Attest writes goes through ``csv_rows``.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets (OWASP "CSV Injection"); such a cell gets a
leading single quote, which those programs show as text. A plain number ("-612.45") is left
alone: it cannot run anything, and reviewers sum those columns.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def safe_cell(value) -> str:
    """``value`` as text that no spreadsheet will evaluate."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_rows(rows: Iterable[Iterable]) -> Iterator[str]:
    """Each row as one CSV line (for a StreamingHttpResponse), every cell made safe."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
