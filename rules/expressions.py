"""Rule expressions: CEL (Common Expression Language), compiled once, checked, bounded.

CEL is not Turing-complete, yet a comprehension over a comprehension over a long list can still
run for seconds, and the Rust evaluator holds the GIL and has no cost limit, so it cannot be
interrupted. The bounds are therefore static and checked before an expression is accepted:
its length, how deeply it nests, how deeply comprehensions (``all``, ``exists``, ``map``...)
nest, and how long a list literal may be. With the context's own lists capped (see
``rules.context``), the work an expression can do is bounded by roughly
``MAX_LIST_ITEMS ** MAX_COMPREHENSION_DEPTH`` steps.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import cel
from cel import stdlib as cel_stdlib

from extraction.injection import injection_signals

MAX_LENGTH = 2000
MAX_NESTING = 24
MAX_COMPREHENSION_DEPTH = 2
MAX_LIST_ITEMS = 100

COMPREHENSIONS = frozenset({"all", "exists", "exists_one", "map", "filter"})
# The "lists" extension adds lists.range(n), a way to make a list of any size; "encoders" is
# not needed. The rest of the standard library extensions are safe.
STDLIB_EXTENSIONS = ["core", "strings", "math", "sets"]


class ExpressionError(ValueError):
    """An expression that cannot be accepted or run; line and column are 1-based when known."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass(frozen=True)
class Token:
    text: str
    offset: int


_TOKEN = re.compile(
    r"""(?P<string>[rR]?[bB]?(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[()\[\]{},.])
    |(?P<space>\s+)
    |(?P<other>.)""",
    re.VERBOSE,
)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _tokens(text: str) -> list[Token]:
    return [
        Token(match.group(), match.start())
        for match in _TOKEN.finditer(text)
        if match.lastgroup != "space"
    ]


def _check_bounds(text: str) -> None:
    """Refuse expressions whose size alone could make them slow, before the parser sees them."""
    if not text.strip():
        raise ExpressionError("The expression is empty.")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"The expression is {len(text)} characters long; the limit is {MAX_LENGTH}.",
            line=_position(text, MAX_LENGTH)[0],
            column=_position(text, MAX_LENGTH)[1],
        )
    tokens = _tokens(text)
    # Each open bracket remembers whether it opened a comprehension, and counts its items.
    stack: list[dict] = []
    comprehensions = 0
    for index, token in enumerate(tokens):
        if token.text in "([{" and len(token.text) == 1:
            is_comprehension = (
                token.text == "("
                and index >= 2
                and tokens[index - 1].text in COMPREHENSIONS
                and tokens[index - 2].text == "."
            )
            if is_comprehension:
                comprehensions += 1
                if comprehensions > MAX_COMPREHENSION_DEPTH:
                    raise ExpressionError(
                        f"Comprehensions ({', '.join(sorted(COMPREHENSIONS))}) nest more than "
                        f"{MAX_COMPREHENSION_DEPTH} deep here; split the rule or use a helper.",
                        line=_position(text, token.offset)[0],
                        column=_position(text, token.offset)[1],
                    )
            stack.append({"open": token.text, "comprehension": is_comprehension, "items": 1})
            if len(stack) > MAX_NESTING:
                raise ExpressionError(
                    f"The expression nests more than {MAX_NESTING} brackets deep.",
                    line=_position(text, token.offset)[0],
                    column=_position(text, token.offset)[1],
                )
        elif token.text in ")]}" and len(token.text) == 1:
            if stack:
                frame = stack.pop()
                comprehensions -= frame["comprehension"]
        elif token.text == "," and stack:
            stack[-1]["items"] += 1
            if stack[-1]["open"] == "[" and stack[-1]["items"] > MAX_LIST_ITEMS:
                raise ExpressionError(
                    f"A list written in the expression may hold at most {MAX_LIST_ITEMS} items.",
                    line=_position(text, token.offset)[0],
                    column=_position(text, token.offset)[1],
                )


_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


def _parse_error(error: Exception) -> ExpressionError:
    """CEL's message names the position as ``<input>:line:column: reason`` (both 1-based);
    the caret lines after it are dropped, the screen draws its own."""
    text = str(error)
    match = _CEL_POSITION.search(text)
    if match:
        line, column, reason = int(match.group(1)), int(match.group(2)), match.group(3)
        return ExpressionError(reason.strip(), line=line, column=column)
    return ExpressionError(text.splitlines()[0] if text else "The expression cannot be read.")


@lru_cache(maxsize=1024)
def _compiled(text: str):
    """Checked and compiled once per text: a rule's version never changes its expression, so
    a rules run over many applications neither re-tokenises nor re-parses it. A refused
    expression is not cached; it raises again each time."""
    _check_bounds(text)
    try:
        return cel.compile(text)
    except ValueError as error:
        raise _parse_error(error) from None


def compile_expression(text: str):
    """The compiled program for ``text``; cached by text, so each expression is checked and
    compiled once per process. Raises ExpressionError with the position of the problem."""
    return _compiled(text)


def check_expression(text: str, *, sample: dict | None = None) -> None:
    """Raise ExpressionError if the expression would be refused.

    With a sample context, the expression is also run once on it, which finds names that do not
    exist (``doc.valuse``) and type mistakes (``1 + 'a'``) that parsing alone cannot.
    """
    program = compile_expression(text)
    if sample is not None:
        context = new_context()
        for name, value in sample.items():
            context.add_variable(name, value)
        run(program, context)


def run(program, context):
    """Evaluate; every failure comes back as ExpressionError with a plain message."""
    try:
        return program.execute(context)
    except (RuntimeError, TypeError, ValueError, KeyError, OverflowError) as error:
        message = str(error).split(". Check that")[0].split(". CEL does not coerce")[0]
        if isinstance(error, KeyError):
            message = f"No such key: {message}"
        raise ExpressionError(message) from None


# --- helpers a rule can call ---------------------------------------------------------------------

_LEGAL_WORDS = frozenset(
    {"llc", "inc", "corp", "corporation", "co", "ltd", "company", "lp", "llp", "pllc", "the"}
)


def _name_tokens(name) -> list[str]:
    # Middle initials, punctuation, case and a company's legal form do not decide identity.
    words = re.findall(r"[a-z]+", str(name or "").lower())
    return [word for word in words if len(word) > 1 and word not in _LEGAL_WORDS]


def _similar_word(a: str, b: str) -> bool:
    from difflib import SequenceMatcher

    return a == b or (min(len(a), len(b)) >= 4 and SequenceMatcher(None, a, b).ratio() >= 0.8)


def name_similarity(a, b) -> float:
    """1.0 when the names have the same words (ignoring order, case, initials, "LLC"), falling
    toward 0.0 as words differ; one OCR slip in a long word still counts as the same word."""
    left, right = _name_tokens(a), _name_tokens(b)
    if not left or not right:
        return 0.0
    matched = sum(1 for word in left if any(_similar_word(word, other) for other in right))
    return matched / max(len(left), len(right))


def _as_datetime(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def days_between(start, end):
    """Whole days from ``start`` to ``end`` (negative when end is earlier); null if either is."""
    start, end = _as_datetime(start), _as_datetime(end)
    if start is None or end is None:
        return None
    return (end.date() - start.date()).days


def annualize(amount, start, end):
    """An amount paid for the period start..end (inclusive) scaled to a 365-day year."""
    days = days_between(start, end)
    if amount is None or days is None or days < 0:
        return None
    return float(amount) * 365.0 / (days + 1)


def money(value) -> str:
    if value is None:
        return "—"
    return f"{float(value):,.2f}"


def percent(value) -> str:
    if value is None:
        return "—"
    return f"{float(value):.0%}"


def day(value) -> str:
    value = _as_datetime(value)
    return value.date().isoformat() if value else "—"


def lower(value) -> str:
    return str(value or "").lower()


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower())


def ai_phrases(text) -> list[str]:
    """How ``text`` addresses a language model or an automated reviewer, one plain description
    with its quote per finding (``extraction.injection``); empty for ordinary paperwork."""
    return list(_ai_phrases(str(text or "")))


@lru_cache(maxsize=64)
def _ai_phrases(text: str) -> tuple[str, ...]:
    # Kept per process by the text itself: a document's pages are read again at every change
    # to its application (each rules run), and scanning 20 pages takes about 30 ms.
    return tuple(str(signal) for signal in injection_signals(text))


# Producers and creators that edit existing PDFs rather than print them from a payroll or
# banking system. Matched as lower-case substrings of "producer creator".
EDITING_TOOLS = (
    "pdfescape",
    "sejda",
    "ilovepdf",
    "smallpdf",
    "pdf-xchange editor",
    "pdfelement",
    "nitro pro",
    "foxit phantompdf",
    "foxit pdf editor",
    "acrobat pro",
    "adobe acrobat pro",
    "photoshop",
    "gimp",
    "inkscape",
    "canva",
    "libreoffice draw",
    "pdf editor",
    "docfly",
    "pdffiller",
    "dochub",
)


def editing_tool(text) -> str:
    """The first known PDF editing tool named in ``text``, or "" when none is."""
    haystack = str(text or "").lower()
    return next((tool for tool in EDITING_TOOLS if tool in haystack), "")


def _sum(values) -> float:
    return math.fsum(float(value) for value in values or [] if value is not None)


def _abs(value):
    return abs(value)


# The names rules can call, beside CEL's own. Documented in rules/README.md.
FUNCTIONS = {
    "name_similarity": name_similarity,
    "days_between": days_between,
    "annualize": annualize,
    "money": money,
    "percent": percent,
    "day": day,
    "lower": lower,
    "ai_phrases": ai_phrases,
    "editing_tool": editing_tool,
    "total": _sum,
    "abs": _abs,
}


def new_context() -> cel.Context:
    """A CEL context with the helpers registered and no variables."""
    context = cel.Context()
    cel_stdlib.add_stdlib_to_context(context, STDLIB_EXTENSIONS)
    for name, function in FUNCTIONS.items():
        context.add_function(name, function)
    return context
