"""Static type checking of rule expressions against the declared fields of document types.

The CEL binding compiles (parses) an expression but exposes no checker and no syntax tree, so
this module parses the expression itself (after the binding accepted it) and infers a type for
every part from what a rule sees (``rules.context``) and the fields each document type declares:

- an unknown key (``doc.values.gros_pay``), variable or function is an error at its position,
  with the nearest known name ("did you mean gross_pay?");
- the expression of a rule must give true or false;
- amounts (``money``: double), dates (``date``: timestamp) and whole numbers (``integer``: int)
  are checked where CEL itself would refuse them at run time: comparing a date with a number,
  adding an int to a double, passing an amount where a helper wants a date.

Where a type cannot be known (``field.value`` in a rule over every field, a map from page data)
it is ``dyn`` and anything goes, as in CEL. The checker only ever adds refusals for expressions
that would fail at run time or read a key no document type declares; if it cannot parse an
expression the binding accepted, it says nothing rather than refuse a good rule.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from cel import stdlib as cel_stdlib

from extraction.catalog import shipped_document_types
from extraction.models import DocumentType

from .expressions import FUNCTIONS, STDLIB_EXTENSIONS, ExpressionError
from .models import Scope

# --- types ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class T:
    """A CEL type: a primitive (``name``), ``list`` (``item``), ``map`` (``item`` = value) or a
    ``record``: a map with known keys, where an unknown key is an error."""

    name: str
    item: Any = None
    keys: tuple = ()  # for records: ((key, T), ...)
    what: str = ""  # for records: how an error names it ("doc.values of a pay stub")

    def key(self, name: str):
        return dict(self.keys).get(name)

    @property
    def known(self) -> bool:
        return self.name != "dyn"


DYN = T("dyn")
BOOL = T("bool")
INT = T("int")
UINT = T("uint")
DOUBLE = T("double")
STRING = T("string")
BYTES = T("bytes")
NULL = T("null")
TIMESTAMP = T("timestamp")
DURATION = T("duration")
TYPE = T("type")
NUMBERS = frozenset({"int", "uint", "double"})


def list_of(item: T) -> T:
    return T("list", item)


def map_of(value: T) -> T:
    return T("map", value)


def record(what: str, keys: dict[str, T]) -> T:
    return T("record", None, tuple(sorted(keys.items())), what)


_PLAIN = {
    "bool": "true or false",
    "int": "a whole number",
    "uint": "an unsigned number",
    "double": "an amount (a number with decimals)",
    "string": "text",
    "bytes": "bytes",
    "null": "null",
    "timestamp": "a date (timestamp)",
    "duration": "a duration",
    "list": "a list",
    "map": "a map",
    "record": "a map",
    "type": "a type",
}


def plain(t: T) -> str:
    return _PLAIN.get(t.name, t.name)


# How each field kind reaches a rule (rules.context.typed).
KIND_TYPES = {"money": DOUBLE, "date": TIMESTAMP, "integer": INT}
ROW_COLUMNS = {"amount": DOUBLE, "balance": DOUBLE, "date": TIMESTAMP}


def kind_type(spec: dict) -> T:
    kind = spec.get("kind", "text")
    if kind == "rows":
        # Rows come from JSON the model wrote: columns are typed by name, not checked as keys.
        return list_of(map_of(DYN))
    return KIND_TYPES.get(kind, STRING)


def field_record(what: str, value: T) -> T:
    return record(
        what,
        {
            "id": INT,
            "key": STRING,
            "label": STRING,
            "kind": STRING,
            "required": BOOL,
            "sensitive": BOOL,
            "grounded": BOOL,
            "status": STRING,
            "value": value,
            "machine": value,
            "text": STRING,
            "machine_text": STRING,
            "changed": BOOL,
            "changed_by": STRING,
            "changed_by_email": STRING,
            "change": DOUBLE,
            "delta": DOUBLE,
        },
    )


def _merge(a: T, b: T) -> T:
    return a if a == b else DYN


def document_record(label: str, specs: list[dict]) -> T:
    """What ``doc`` is for documents with these declared fields (one type, or all types)."""
    values: dict[str, T] = {}
    for spec in specs:
        key = spec.get("key")
        if key:
            values[key] = _merge(values[key], kind_type(spec)) if key in values else kind_type(spec)
    fields = {key: field_record(f"field {key}", value) for key, value in values.items()}
    return record(
        label,
        {
            "id": INT,
            "type": STRING,
            "name": STRING,
            "sha256": STRING,
            "media_type": STRING,
            "status": STRING,
            "page_count": INT,
            "pdf": record(
                "doc.pdf",
                {
                    "producer": STRING,
                    "creator": STRING,
                    "created": TIMESTAMP,
                    "modified": TIMESTAMP,
                },
            ),
            "text": STRING,
            "hidden_text": STRING,
            "text_sources": list_of(STRING),
            "same_file_elsewhere": list_of(STRING),
            "deposits": list_of(DOUBLE),
            "values": record(f"the values of {label}", values),
            "fields": record(f"the fields of {label}", fields),
            "field_list": list_of(field_record("a field", DYN)),
        },
    )


def variables_for(scope: str, types: dict[str, dict]) -> dict[str, T]:
    """The variables a rule of ``scope`` sees, typed. ``types`` maps a document type key to
    ``{"label", "fields"}`` (its declared field specs)."""
    every = [spec for t in types.values() for spec in t.get("fields", [])]
    any_document = document_record("a document", every)
    by_type = {
        key: document_record(f"a {t.get('label') or key}", t.get("fields", []))
        for key, t in types.items()
    }
    variables = {
        "today": TIMESTAMP,
        "now": TIMESTAMP,
        "application": record(
            "application",
            {
                "id": INT,
                "reference": STRING,
                "status": STRING,
                "submitted": BOOL,
                "stated": record(
                    "application.stated",
                    {"name": STRING, "employer": STRING, "monthly_income": DOUBLE},
                ),
            },
        ),
        "documents": list_of(any_document),
        "docs": record(
            "docs (one list per document type)", {k: list_of(v) for k, v in by_type.items()}
        ),
    }
    if scope == Scope.FIELD:
        variables["doc"] = any_document
        variables["field"] = field_record("field", DYN)
    elif scope == Scope.DOCUMENT:
        variables["doc"] = any_document
    elif scope != Scope.APPLICATION:
        variables["doc"] = by_type.get(scope, any_document)
    return variables


# --- functions -----------------------------------------------------------------------------------

# name -> (argument types (None: any), result). A result of None means "the first argument's type".
SIGNATURES: dict[str, tuple[tuple | None, T | None]] = {
    "days_between": ((TIMESTAMP, TIMESTAMP), INT),
    "annualize": ((DOUBLE, TIMESTAMP, TIMESTAMP), DOUBLE),
    "name_similarity": ((STRING, STRING), DOUBLE),
    "money": (None, STRING),
    "percent": (None, STRING),
    "day": ((TIMESTAMP,), STRING),
    "lower": (None, STRING),
    "ai_phrases": ((STRING,), list_of(STRING)),
    "editing_tool": ((STRING,), STRING),
    "total": (None, DOUBLE),
    "abs": (None, None),
    "size": (None, INT),
    "int": (None, INT),
    "uint": (None, UINT),
    "double": (None, DOUBLE),
    "string": (None, STRING),
    "bytes": (None, BYTES),
    "bool": (None, BOOL),
    "timestamp": (None, TIMESTAMP),
    "duration": (None, DURATION),
    "dyn": (None, DYN),
    "type": (None, TYPE),
    "contains": (None, BOOL),
    "startsWith": (None, BOOL),
    "endsWith": (None, BOOL),
    "matches": (None, BOOL),
    "lowerAscii": (None, STRING),
    "upperAscii": (None, STRING),
    "trim": (None, STRING),
    "substring": (None, STRING),
    "charAt": (None, STRING),
    "replace": (None, STRING),
    "indexOf": (None, INT),
    "lastIndexOf": (None, INT),
    "split": (None, list_of(STRING)),
    "join": (None, STRING),
    "math.isNaN": (None, BOOL),
    "math.isInf": (None, BOOL),
    "math.isFinite": (None, BOOL),
    "sets.contains": (None, BOOL),
    "sets.equivalent": (None, BOOL),
    "sets.intersects": (None, BOOL),
}
# Timestamp and duration accessors of CEL itself.
for _name in [
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
]:
    SIGNATURES[_name] = (None, INT)

NAMESPACES = frozenset({"math", "sets", "strings", "base64", "lists"})
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})


def known_functions() -> frozenset[str]:
    stdlib = {
        name for extension in STDLIB_EXTENSIONS for name in cel_stdlib.EXTENSIONS.get(extension, {})
    }
    return frozenset(stdlib | set(FUNCTIONS) | set(SIGNATURES) | {"min", "max", "has"})


# --- parsing -------------------------------------------------------------------------------------


class _Unparsed(Exception):
    """The expression uses a form this parser does not know; the checker then stays silent."""


@dataclass
class Node:
    kind: str  # ident, lit, select, index, call, method, unary, binary, ternary, list, map
    offset: int
    value: Any = None  # ident name, literal type, operator, member or function name
    args: list = field(default_factory=list)


_TOKENS = re.compile(
    r"""(?P<space>\s+|//[^\n]*)
    |(?P<string>[rR]?[bB]?[rR]?(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    |(?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>&&|\|\||==|!=|<=|>=|[<>!+\-*/%?:.,()\[\]{}])""",
    re.VERBOSE,
)


def _lex(text: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKENS.match(text, position)
        if match is None:
            raise _Unparsed(text[position])
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group(), match.start()))
        position = match.end()
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over CEL's grammar (precedence: ?: || && relations + * unary member)."""

    def __init__(self, text: str):
        self.tokens = _lex(text)
        self.at = 0

    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self, text: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if text is not None and token[1] != text:
            raise _Unparsed(token[1])
        self.at += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek()[1] == text and self.peek()[0] in ("op", "name"):
            self.at += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.expr()
        if self.peek()[0] != "end":
            raise _Unparsed(self.peek()[1])
        return node

    def expr(self) -> Node:
        condition = self.binary(0)
        if self.peek()[1] == "?":
            offset = self.take()[2]
            yes = self.binary(0)
            self.take(":")
            no = self.expr()
            return Node("ternary", offset, None, [condition, yes, no])
        return condition

    LEVELS = (
        ("||",),
        ("&&",),
        ("==", "!=", "<", "<=", ">", ">=", "in"),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[1] in self.LEVELS[level] and self.peek()[0] in ("op", "name"):
            _, op, offset = self.take()
            right = self.binary(level + 1)
            left = Node("binary", offset, op, [left, right])
        return left

    def unary(self) -> Node:
        if self.peek()[1] in ("!", "-") and self.peek()[0] == "op":
            _, op, offset = self.take()
            return Node("unary", offset, op, [self.unary()])
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                kind, name, offset = self.take()
                if kind != "name":
                    raise _Unparsed(name)
                if self.accept("("):
                    node = Node("method", offset, name, [node, *self.arguments(")")])
                else:
                    node = Node("select", offset, name, [node])
            elif self.peek()[1] == "[":
                offset = self.take()[2]
                index = self.expr()
                self.take("]")
                node = Node("index", offset, None, [node, index])
            else:
                return node

    def arguments(self, close: str) -> list[Node]:
        items = []
        while not self.accept(close):
            items.append(self.expr())
            if not self.accept(","):
                self.take(close)
                break
        return items

    def primary(self) -> Node:
        kind, text, offset = self.take()
        if kind == "number":
            lowered = text.lower()
            if lowered.endswith("u"):
                return Node("lit", offset, UINT, [text])
            is_double = not lowered.startswith("0x") and any(c in lowered for c in ".e")
            return Node("lit", offset, DOUBLE if is_double else INT, [text])
        if kind == "string":
            prefix = text[: len(text) - len(text.lstrip("rRbB"))]
            kind = BYTES if "b" in prefix.lower() else STRING
            return Node("lit", offset, kind, [text[len(prefix) :].strip("'\"")])
        if kind == "name":
            if text in ("true", "false"):
                return Node("lit", offset, BOOL, [text])
            if text == "null":
                return Node("lit", offset, NULL, [text])
            if self.accept("("):
                return Node("call", offset, text, self.arguments(")"))
            return Node("ident", offset, text)
        if text == "(":
            node = self.expr()
            self.take(")")
            return node
        if text == "[":
            return Node("list", offset, None, self.arguments("]"))
        if text == "{":
            entries = []
            while not self.accept("}"):
                key = self.expr()
                self.take(":")
                entries.extend([key, self.expr()])
                if not self.accept(","):
                    self.take("}")
                    break
            return Node("map", offset, None, entries)
        raise _Unparsed(text)


def parse(text: str) -> Node | None:
    """The syntax tree, or None when the expression uses a form this parser does not know."""
    try:
        return _Parser(text).parse()
    except (_Unparsed, IndexError, RecursionError):
        return None


# --- checking ------------------------------------------------------------------------------------


class _TypeError(Exception):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset
        self.message = message


def nearest(name: str, candidates) -> str:
    """The candidate most like ``name`` (always one, when there are candidates); a candidate's
    words count on their own, so ``incme`` finds ``monthly_income``."""
    candidates = sorted(set(candidates))
    if not candidates:
        return ""

    def likeness(candidate: str) -> float:
        words = [candidate, *candidate.split("_")]
        return max(difflib.SequenceMatcher(None, name, word).ratio() for word in words)

    return max(candidates, key=likeness)


def _suggest(name: str, candidates) -> str:
    best = nearest(name, candidates)
    return f"; did you mean {best}?" if best else "."


def _dotted(node: Node) -> str:
    if node.kind == "ident":
        return node.value
    if node.kind == "select":
        return f"{_dotted(node.args[0])}.{node.value}"
    if node.kind == "lit" and node.args and node.value != STRING:
        return node.args[0]
    if node.kind in ("call", "method"):
        return f"{node.value}(…)"
    return "the value"


class _Checker:
    def __init__(self, variables: dict[str, T]):
        self.scopes: list[dict[str, T]] = [variables]
        self.functions = known_functions()

    def lookup(self, name: str) -> T | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def names(self) -> set[str]:
        return {name for scope in self.scopes for name in scope}

    def check(self, node: Node) -> T:
        return getattr(self, f"_{node.kind}")(node)

    def _lit(self, node: Node) -> T:
        return node.value

    def _ident(self, node: Node) -> T:
        found = self.lookup(node.value)
        if found is None:
            hint = ""
            if node.value in ("doc", "field"):
                hint = (
                    f" ({node.value} exists only for rules over documents"
                    + (" or fields" if node.value == "doc" else " (scope: every field)")
                    + ")"
                )
            raise _TypeError(
                node.offset, f"Unknown name {node.value}{hint}{_suggest(node.value, self.names())}"
            )
        return found

    def _key_of(self, target: T, key: str, offset: int, path: str) -> T:
        if target.name == "record":
            found = target.key(key)
            if found is None:
                known = [name for name, _ in target.keys]
                raise _TypeError(offset, f"{path} has no key {key}{_suggest(key, known)}")
            return found
        if target.name == "map":
            return target.item or DYN
        if target.known and target.name != "null":
            raise _TypeError(offset, f"{path} is {plain(target)}; it has no key {key}.")
        return DYN

    def _select(self, node: Node) -> T:
        base = node.args[0]
        target = self.check(base)
        return self._key_of(target, node.value, node.offset, _dotted(base))

    def _index(self, node: Node) -> T:
        target, index = node.args
        target_type, index_type = self.check(target), self.check(index)
        if target_type.name == "list":
            if index_type.known and index_type.name not in NUMBERS:
                raise _TypeError(
                    index.offset, f"A list is indexed by a number, not {plain(index_type)}."
                )
            return target_type.item or DYN
        if target_type.name == "record" and index.kind == "lit" and index.value == STRING:
            key = index.args[0]
            if "\\" in key:  # an escape: the key is checked at run time
                return DYN
            return self._key_of(target_type, key, index.offset, _dotted(target))
        if target_type.name == "map":
            return target_type.item or DYN
        return DYN

    def _list(self, node: Node) -> T:
        items = [self.check(item) for item in node.args]
        if items and all(item == items[0] for item in items):
            return list_of(items[0])
        return list_of(DYN)

    def _map(self, node: Node) -> T:
        values = [self.check(item) for item in node.args][1::2]
        if values and all(value == values[0] for value in values):
            return map_of(values[0])
        return map_of(DYN)

    def _unary(self, node: Node) -> T:
        operand = self.check(node.args[0])
        if node.value == "!":
            self._want_bool(operand, node.args[0], "!")
            return BOOL
        if operand.known and operand.name not in NUMBERS | {"duration"}:
            raise _TypeError(node.offset, f"Minus needs a number; this is {plain(operand)}.")
        return operand

    def _want_bool(self, t: T, node: Node, op: str) -> None:
        if t.known and t.name != "bool":
            raise _TypeError(
                node.offset, f"{op} needs true or false; {_dotted(node)} is {plain(t)}."
            )

    def _ternary(self, node: Node) -> T:
        condition, yes, no = (self.check(arg) for arg in node.args)
        self._want_bool(condition, node.args[0], "The condition before ?")
        return yes if yes == no else (yes if no == NULL else no if yes == NULL else DYN)

    def _binary(self, node: Node) -> T:
        op = node.value
        left_node, right_node = node.args
        left, right = self.check(left_node), self.check(right_node)
        if op in ("&&", "||"):
            self._want_bool(left, left_node, op)
            self._want_bool(right, right_node, op)
            return BOOL
        unknown = not left.known or not right.known
        if op in ("==", "!="):
            comparable = (
                unknown
                or NULL in (left, right)
                or left.name == right.name
                or {left.name, right.name} <= NUMBERS
                or {left.name, right.name} <= {"map", "record"}
            )
            if not comparable:
                raise _TypeError(
                    node.offset, self._mismatch(op, left_node, left, right_node, right)
                )
            return BOOL
        if op in ("<", "<=", ">", ">="):
            ordered = {left.name, right.name} <= NUMBERS or (
                left.name == right.name
                and left.name in ("string", "timestamp", "duration", "bytes", "bool")
            )
            if not unknown and not ordered:
                raise _TypeError(
                    node.offset, self._mismatch(op, left_node, left, right_node, right)
                )
            return BOOL
        if op == "in":
            if right.known and right.name not in ("list", "map", "record"):
                raise _TypeError(
                    node.offset, f"in needs a list or a map on its right; this is {plain(right)}."
                )
            return BOOL
        return self._arithmetic(node, op, left_node, left, right_node, right)

    def _arithmetic(self, node, op, left_node, left, right_node, right) -> T:
        if not left.known or not right.known:
            return DYN
        pair = (left.name, right.name)
        results = {
            "+": {
                ("string", "string"): STRING,
                ("bytes", "bytes"): BYTES,
                ("timestamp", "duration"): TIMESTAMP,
                ("duration", "timestamp"): TIMESTAMP,
                ("duration", "duration"): DURATION,
            },
            "-": {
                ("timestamp", "timestamp"): DURATION,
                ("timestamp", "duration"): TIMESTAMP,
                ("duration", "duration"): DURATION,
            },
        }.get(op, {})
        if pair in results:
            return results[pair]
        if op == "+" and pair == ("list", "list"):
            return left if left == right else list_of(DYN)
        if left.name in NUMBERS and left == right and (op != "%" or left.name != "double"):
            return left
        if {left.name, right.name} <= NUMBERS:
            raise _TypeError(
                node.offset,
                f"CEL does not mix {plain(left)} and {plain(right)} in {op}: write 2000.0 "
                f"rather than 2000 beside an amount, or convert with double(...) or int(...).",
            )
        raise _TypeError(node.offset, self._mismatch(op, left_node, left, right_node, right))

    @staticmethod
    def _mismatch(op, left_node, left, right_node, right) -> str:
        return (
            f"Cannot use {op} between {_dotted(left_node)} ({plain(left)}) and "
            f"{_dotted(right_node)} ({plain(right)})."
        )

    def _call_check(self, name: str, node: Node, args: list[Node], types: list[T]) -> T:
        if name not in self.functions:
            raise _TypeError(
                node.offset, f"Unknown function {name}{_suggest(name, self.functions)}"
            )
        expected, result = SIGNATURES.get(name, (None, DYN))
        if expected is not None:
            if len(args) != len(expected):
                raise _TypeError(
                    node.offset, f"{name} takes {len(expected)} arguments; {len(args)} given."
                )
            for arg, given, wanted in zip(args, types, expected, strict=True):
                if (
                    given.known
                    and given != NULL
                    and not (given == wanted or {given.name, wanted.name} <= NUMBERS)
                ):
                    raise _TypeError(
                        arg.offset,
                        f"{name} expects {plain(wanted)} here; {_dotted(arg)} is {plain(given)}.",
                    )
        if result is None:
            return types[0] if types else DYN
        return result

    def _call(self, node: Node) -> T:
        if node.value == "has":
            if len(node.args) != 1 or node.args[0].kind != "select":
                raise _TypeError(
                    node.offset, "has() takes one field selection, as has(doc.values.x)."
                )
            self.check(node.args[0])
            return BOOL
        types = [self.check(arg) for arg in node.args]
        return self._call_check(node.value, node, node.args, types)

    def _method(self, node: Node) -> T:
        target, *args = node.args
        name = node.value
        if (
            target.kind == "ident"
            and target.value in NAMESPACES
            and self.lookup(target.value) is None
        ):
            types = [self.check(arg) for arg in args]
            return self._call_check(f"{target.value}.{name}", node, args, types)
        target_type = self.check(target)
        if name in MACROS and args and args[0].kind == "ident":
            return self._macro(node, name, target_type, args)
        types = [self.check(arg) for arg in args]
        return self._call_check(name, node, [target, *args], [target_type, *types])

    def _macro(self, node: Node, name: str, target: T, args: list[Node]) -> T:
        if target.known and target.name not in ("list", "map", "record"):
            raise _TypeError(
                node.offset,
                f"{name} works on a list or a map; {_dotted(node.args[0])} is {plain(target)}.",
            )
        element = (
            (target.item or DYN)
            if target.name == "list"
            else (STRING if target.name == "record" else DYN)
        )
        self.scopes.append({args[0].value: element})
        try:
            bodies = [self.check(arg) for arg in args[1:]]
        finally:
            self.scopes.pop()
        if name in ("all", "exists", "exists_one", "filter") and bodies:
            self._want_bool(bodies[0], args[1], name)
        if name == "map":
            return list_of(bodies[-1] if bodies else DYN)
        if name == "filter":
            return target if target.name == "list" else list_of(element)
        return BOOL


def expression_type(text: str, variables: dict[str, T]) -> T:
    """The type of an expression the CEL binding has accepted; raises ExpressionError at the
    position of a type mistake. ``dyn`` when the expression cannot be analysed."""
    tree = parse(text)
    if tree is None:
        return DYN
    try:
        return _Checker(variables).check(tree)
    except _TypeError as error:
        line = text.count("\n", 0, error.offset) + 1
        column = error.offset - (text.rfind("\n", 0, error.offset) + 1) + 1
        raise ExpressionError(error.message, line=line, column=column) from None
    except RecursionError:
        return DYN


def check_rule_types(
    text: str,
    *,
    scope: str,
    types: dict[str, dict],
    boolean: bool = True,
    variables: dict[str, T] | None = None,
) -> None:
    """Raise ExpressionError if the expression reads an unknown key, variable or function,
    mixes kinds CEL refuses, or (``boolean``) gives something other than true or false.

    ``variables`` (from ``variables_for(scope, types)``) saves rebuilding them when several
    expressions of one rule are checked."""
    result = expression_type(text, variables or variables_for(scope, types))
    if boolean and result.known and result.name != "bool":
        raise ExpressionError(
            f"A rule must give true or false; this expression gives {plain(result)}. "
            "Compare it with something, as in … > 2000.0.",
            line=1,
            column=1,
        )


def declared_types() -> dict[str, dict]:
    """Every document type's label and declared fields: the shipped catalog, overlaid by the
    database's rows (an admin's edit or an added type wins)."""
    types = {
        data["key"]: {"label": data.get("label", ""), "fields": data.get("fields", [])}
        for data in shipped_document_types()
    }
    for key, label, fields in DocumentType.objects.values_list("key", "label", "fields"):
        types[key] = {"label": label, "fields": fields or []}
    return types
