"""Finding where a value stands on the page, so that a person can check it against its evidence.

A value is found when a run of the page's words reads as the same canonical value: "$1,234.50"
grounds "1234.50", "Jan 15, 2026" grounds "2026-01-15". Names and addresses match word by word,
ignoring case and punctuation. A value that is nowhere on the page is not grounded, which is
itself worth showing: it may have been misread, or invented.

A document is grounded through one ``PageWords`` index, built once: its lines, each word's
token, every reading of a run of words remembered, and which lines hold which amount and which
token. Grounding a document is then linear in its words and rows (a 50-page statement with
1,500 rows in a fraction of a second), with the same results as matching every row against
every line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .normalize import NormalizationError, date_readings, may_stand_in_amount, normalize


@dataclass(frozen=True)
class Location:
    page: int
    box: list[float]  # [x0, y0, x1, y1], fractions of the page, origin top-left


# How many words a value of each kind may span on the page: "$ 1,234.50", "Jan 15 , 2026",
# "4417 0093 2281".
MAX_RUN = {
    "money": 3,
    "date": 4,
    "integer": 2,
    "ssn": 3,
    "ein": 2,
    "account": 6,
    "currency": 1,
    "reference": 2,
}
# A numeric-looking stretch inside a longer word ("Total:$1,234.50", "DOB:01/15/1990").
_NUMERIC_PART = re.compile(r"[($\-]?\d[\d,./\-]*\d\)?|\d")
_EDGE_PUNCTUATION = re.compile(r"^\W+|\W+$")
# Pieces of a value split over lines (an address in a column beside other text) must be close.
MAX_PIECE_GAP = 0.08


class PageWords:
    """A document's words, indexed once for grounding all of its values and rows.

    ``pages`` is ``[(page_number, words)]`` with words as ``[text, x0, y0, x1, y1]``. What is
    worked out is kept: each text's reading as a kind, each page's tokens, the lines and the
    amounts and tokens on each line.
    """

    def __init__(self, pages: Sequence[tuple[int, list[list]]]):
        self.pages = list(pages)
        self._readings: dict[tuple[str, str], str | None] = {}
        self._dates: dict[tuple[str, str], frozenset[str]] = {}
        # By the list's id, with the list itself kept so that its id is never reused.
        self._tokens: dict[int, tuple[list[list], list[str]]] = {}
        self._token_of: dict[str, str] = {}
        self._money_part: dict[str, object] = {}
        self._lines: list[tuple[int, list[list]]] | None = None
        self._line_amounts: list[dict[str, list[list]]] = []
        self._line_kept: list[list[list]] = []
        self._lines_by_amount: dict[str, list[int]] = {}
        self._lines_by_token: dict[str, list[int]] = {}

    @classmethod
    def of(cls, pages: PageWords | Sequence[tuple[int, list[list]]]) -> PageWords:
        return pages if isinstance(pages, PageWords) else cls(pages)

    def reading(self, kind: str, text: str) -> str | None:
        """``normalize(kind, text)``, or None when ``text`` does not read as ``kind``."""
        key = (kind, text)
        canonical = self._readings.get(key, _UNREAD)
        if canonical is not _UNREAD:
            return canonical
        if kind == "money" and not _DIGIT.search(text):
            canonical = None  # every amount has a digit: no need to parse "PURCHASE"
        else:
            try:
                canonical = normalize(kind, text)
            except NormalizationError:
                canonical = None
        self._readings[key] = canonical
        return canonical

    def date_readings(self, text: str, order: str) -> frozenset[str]:
        key = (order, text)
        found = self._dates.get(key)
        if found is None:
            found = self._dates[key] = frozenset(date_readings(text, order=order))
        return found

    def tokens(self, words: list[list]) -> list[str]:
        kept = self._tokens.get(id(words))
        if kept is None:
            kept = self._tokens[id(words)] = (words, [self.token(w[0]) for w in words])
        return kept[1]

    def token(self, text: str) -> str:
        """``_token(text)``, worked out once per distinct text (a statement repeats its words)."""
        token = self._token_of.get(text)
        if token is None:
            token = self._token_of[text] = _token(text)
        return token

    def indexed(self) -> PageWords:
        """This index with its lines and their amounts and tokens built now rather than at the
        first row grounded (the pipeline does it while it waits for the model)."""
        self.lines()
        return self

    # --- lines, for rows -----------------------------------------------------------------------

    def lines(self) -> list[tuple[int, list[list]]]:
        """Every printed line of the document, page by page, top to bottom, with what each
        holds: its amounts (sign left out) and its tokens."""
        if self._lines is None:
            from .ingest import group_lines

            self._lines = [(n, line) for n, words in self.pages for line in group_lines(words)]
            for index, (_, line) in enumerate(self._lines):
                amounts = self._amounts(line)
                self._line_amounts.append(amounts)
                for amount in amounts:
                    self._lines_by_amount.setdefault(amount, []).append(index)
                # Words that are only punctuation ("&", "|") are skipped on both sides.
                tokens = [self.token(w[0]) for w in line]
                kept = [w for w, token in zip(line, tokens, strict=True) if token]
                self._tokens[id(kept)] = (kept, [token for token in tokens if token])
                self._line_kept.append(kept)
                for token in set(self.tokens(kept)):
                    self._lines_by_token.setdefault(token, []).append(index)
        return self._lines

    def _amounts(self, line: list[list]) -> dict[str, list[list]]:
        """Each amount the line reads as (unsigned), with the first whole run that reads so:
        what ``_exact_run`` would find for it.

        Only runs that may read as money are read: with a digit, and no word that cannot stand
        in an amount ("PURCHASE"; ``may_stand_in_amount``), which also ends the longer runs
        from the same start. The others would read as nothing.
        """
        found: dict[str, list[list]] = {}
        parts = [self._part_of_amount(w[0]) for w in line]
        for start in range(len(line)):
            digit = False
            for length in range(1, MAX_RUN["money"] + 1):
                end = start + length
                if end > len(line) or parts[end - 1] is _NEVER:
                    break
                digit = digit or parts[end - 1] is _DIGITS
                if not digit:
                    continue
                run = line[start:end]
                canonical = self.reading("money", " ".join(w[0] for w in run))
                if canonical is None:
                    continue
                unsigned = canonical.lstrip("-")
                if unsigned not in found and _whole("money", line, start, end, self):
                    found[unsigned] = run
        return found

    def _part_of_amount(self, text: str) -> object:
        """``_DIGITS`` for a word with a digit; else ``_AFFIX`` or ``_NEVER`` as it may or may
        not stand in an amount printed over several words."""
        part = self._money_part.get(text)
        if part is None:
            if _DIGIT.search(text):
                part = _DIGITS
            else:
                part = _AFFIX if may_stand_in_amount(text) else _NEVER
            self._money_part[text] = part
        return part


_DIGIT = re.compile(r"\d")
_UNREAD = object()
# What a word can be in a run of words read as money (``PageWords._part_of_amount``).
_DIGITS, _AFFIX, _NEVER = object(), object(), object()


def locate(
    *,
    value: str,
    kind: str,
    pages: PageWords | Sequence[tuple[int, list[list]]],
    date_order: str = "",
    unsigned: bool = False,
) -> Location | None:
    """Where ``value`` (of ``kind``) first appears on ``pages``, or None.

    ``pages`` is ``[(page_number, words)]`` with words as ``[text, x0, y0, x1, y1]``. An
    exact reading anywhere beats a partial one (the value inside a longer word, or a name
    broken over lines), so a label glued to its value is only used when nothing cleaner exists.

    Found means found as whole tokens: 450.00 does not stand in "2 450.00", nor 108.43 in
    "108.43 CR". A date matches when the page's date can mean the same day under
    ``date_order`` (any order when blank), with a two-digit year in any century; ``unsigned``
    compares amounts by size (a total whose label says its direction). ``pages`` may be a
    ``PageWords`` built once for the document.
    """
    index = PageWords.of(pages)
    try:
        if kind == "date":
            wanted = date_readings(value, order=date_order)
            if not wanted:
                return None
        else:
            target = normalize(kind, value)
    except NormalizationError:
        return None
    if kind == "date":

        def reads(text: str) -> bool:
            return bool(wanted & index.date_readings(text, date_order))

    elif kind == "money" and unsigned:
        magnitude = target.lstrip("-")

        def reads(text: str) -> bool:
            canonical = index.reading(kind, text)
            return canonical is not None and canonical.lstrip("-") == magnitude

    else:

        def reads(text: str) -> bool:
            return index.reading(kind, text) == target

    if kind in MAX_RUN:
        for strategy in (_exact_run, _partial_word):
            for number, words in index.pages:
                found = strategy(reads, kind, words, index)
                if found:
                    return Location(page=number, box=_union(found))
        return None
    for strategy in (_same_words, _same_letters, _words_in_pieces):
        for number, words in index.pages:
            found = strategy(target, kind, words, index)
            if found:
                return Location(page=number, box=_union(found))
    return None


def _reads_as(kind: str, text: str, target: str, *, unsigned: bool = False) -> bool:
    try:
        canonical = normalize(kind, text)
    except NormalizationError:
        return False
    return (canonical.lstrip("-") if unsigned else canonical) == target


def _is_value(kind: str, text: str, index: PageWords | None = None) -> bool:
    if index is not None:
        return index.reading(kind, text) is not None
    try:
        normalize(kind, text)
    except NormalizationError:
        return False
    return True


def _beside(a: list, b: list) -> bool:
    """Two words on one line with no more than a wide space between them."""
    height = min(a[4] - a[2], b[4] - b[2])
    overlap = min(a[4], b[4]) - max(a[2], b[2])
    gap = max(b[1] - a[3], a[1] - b[3])
    return height > 0 and overlap > 0.5 * height and gap < 1.5 * max(a[4] - a[2], b[4] - b[2])


def _whole(
    kind: str, words: list[list], start: int, end: int, index: PageWords | None = None
) -> bool:
    """The run ``words[start:end]`` is a whole value: the word just before or after it on the
    same line does not continue it into another value ("2" before "450.00", "CR" after).

    Identifiers are exempt: a label glued before one ("No. SX449120") would read as one.
    """
    if kind not in {"money", "date", "integer"}:
        return True
    run = " ".join(w[0] for w in words[start:end])
    before = start > 0 and _beside(words[start - 1], words[start])
    if before and _is_value(kind, words[start - 1][0] + " " + run, index):
        return False
    after = end < len(words) and _beside(words[end - 1], words[end])
    return not (after and _is_value(kind, run + " " + words[end][0], index))


def _exact_run(
    reads: Callable[[str], bool], kind: str, words: list[list], index: PageWords | None = None
) -> list[list] | None:
    for start in range(len(words)):
        for length in range(1, MAX_RUN[kind] + 1):
            run = words[start : start + length]
            if len(run) < length:
                break
            if reads(" ".join(w[0] for w in run)) and _whole(
                kind, words, start, start + length, index
            ):
                return run
    return None


def _partial_word(
    reads: Callable[[str], bool], kind: str, words: list[list], index: PageWords | None = None
) -> list[list] | None:
    for position, word in enumerate(words):
        if kind == "money" and _is_value(kind, word[0], index):
            continue  # the whole word is an amount ("734.56-"): its part is not another one
        for part in _NUMERIC_PART.findall(word[0]):
            if (
                part != word[0]
                and reads(part)
                and _whole(kind, words, position, position + 1, index)
            ):
                return [word]
    return None


def _token(text: str) -> str:
    return _EDGE_PUNCTUATION.sub("", unicodedata.normalize("NFC", text)).lower()


def _same_words(
    target: str, kind: str, words: list[list], index: PageWords | None = None
) -> list[list] | None:
    wanted = [t for t in map(_token, target.split()) if t]
    if not wanted:
        return None
    tokens = index.tokens(words) if index else [_token(w[0]) for w in words]
    # Words are stored left to right; a right-to-left phrase reads right to left.
    rtl = any(unicodedata.bidirectional(ch) in {"R", "AL"} for ch in target)
    for order in (wanted, wanted[::-1]) if rtl else (wanted,):
        for start in range(len(words) - len(order) + 1):
            if tokens[start : start + len(order)] == order:
                return words[start : start + len(order)]
    return None


def _same_letters(
    target: str, kind: str, words: list[list], index: PageWords | None = None
) -> list[list] | None:
    """A run whose letters and digits spell the value, for words split or glued differently."""
    wanted = re.sub(r"\W", "", target).lower()
    if not wanted:
        return None
    for start in range(len(words)):
        spelled = ""
        for end in range(start, len(words)):
            spelled += re.sub(r"\W", "", words[end][0]).lower()
            if spelled == wanted:
                return words[start : end + 1]
            if not wanted.startswith(spelled):
                break
    return None


def _words_in_pieces(
    target: str, kind: str, words: list[list], index: PageWords | None = None
) -> list[list] | None:
    """A value broken over lines, with other text between its pieces (an address column).

    Each piece is at least two words and starts within a few lines of the previous one.
    """
    wanted = [t for t in map(_token, target.split()) if t]
    tokens = index.tokens(words) if index else [_token(w[0]) for w in words]
    for start in range(len(words)):
        found = _pieces_from(wanted, tokens, words, start)
        if found:
            return found
    return None


def _pieces_from(
    wanted: list[str], tokens: list[str], words: list[list], start: int
) -> list[list] | None:
    matched: list[list] = []
    position, index, pieces = start, 0, 0
    while index < len(wanted) and pieces < 3:
        length = 0
        while (
            index + length < len(wanted)
            and position + length < len(tokens)
            and tokens[position + length] == wanted[index + length]
        ):
            length += 1
        if length < 2 and not (length and index + length == len(wanted) and matched):
            return None
        matched += words[position : position + length]
        index += length
        pieces += 1
        if index == len(wanted):
            return matched if pieces > 1 else None
        position = _next_piece(wanted[index], tokens, words, position + length, matched[-1])
        if position is None:
            return None
    return None


def _next_piece(token: str, tokens: list[str], words: list[list], after: int, last: list):
    for position in range(after, len(tokens)):
        if words[position][2] - last[4] > MAX_PIECE_GAP:
            return None
        if tokens[position] == token and words[position][2] > last[2]:
            return position
    return None


def _union(words: list[list]) -> list[float]:
    return [
        min(w[1] for w in words),
        min(w[2] for w in words),
        max(w[3] for w in words),
        max(w[4] for w in words),
    ]


def locate_rows(
    *,
    rows: Sequence[dict[str, str | None]],
    columns: Sequence[tuple[str, str]],
    pages: PageWords | Sequence[tuple[int, list[list]]],
) -> list[Location | None]:
    """Where each row of a list (a statement's transactions) stands: one printed line holding
    the row's text cells and its amounts, or None.

    Amounts match by size whatever their sign, since statements print a withdrawal unsigned in
    its own column. Each printed line grounds one row at most, so two identical purchases need
    two lines: each row takes the first line not yet taken that holds all of its cells.

    Only the lines that hold one of the row's amounts (or, for a row without amounts, its
    rarest word) are tried, so a long statement is grounded in time linear in its rows.
    """
    index = PageWords.of(pages)
    lines = index.lines()
    used: set[int] = set()
    # Per candidate list, how many of its first lines are taken: rows come in the page's order,
    # so identical rows do not walk over the lines their twins took.
    skipped: dict[int, int] = {}
    found: list[Location | None] = []
    for row in rows:
        wanted = []
        for key, kind in columns:
            cell = row.get(key)
            if not cell:
                continue
            if kind == "money":
                try:
                    wanted.append(("money", normalize("money", cell).lstrip("-")))
                except NormalizationError:
                    wanted.append(("missing", ""))
            elif kind == "text":
                wanted.append(("text", cell))
        location = None
        if wanted and all(kind != "missing" for kind, _ in wanted):
            candidates = _candidate_lines(index, wanted)
            first = skipped.get(id(candidates), 0)
            while first < len(candidates) and candidates[first] in used:
                first += 1
            skipped[id(candidates)] = first
            for line_index in candidates[first:]:
                if line_index in used:
                    continue
                hits = [_in_line(kind, target, line_index, index) for kind, target in wanted]
                if all(hits):
                    used.add(line_index)
                    number = lines[line_index][0]
                    location = Location(page=number, box=_union([w for h in hits for w in h]))
                    break
        found.append(location)
    return found


_NO_LINES: list[int] = []


def _candidate_lines(index: PageWords, wanted: list[tuple[str, str]]) -> list[int]:
    """The lines that may hold the row, in the page's order: a line holds every amount and
    every word of the row or it is not the row's, so the shortest such list is enough."""
    lists = []
    for kind, target in wanted:
        if kind == "money":
            lists.append(index._lines_by_amount.get(target, _NO_LINES))
        else:
            tokens = [t for t in map(_token, normalize("text", target).split()) if t]
            if not tokens:
                return _NO_LINES
            lists.extend(index._lines_by_token.get(t, _NO_LINES) for t in tokens)
    return min(lists, key=len)


def _in_line(kind: str, target: str, line_index: int, index: PageWords) -> list[list] | None:
    if kind == "text":
        return _same_words(normalize("text", target), "text", index._line_kept[line_index], index)
    # The boxes are the line's own; only the sign is left out of the comparison.
    return index._line_amounts[line_index].get(target)
