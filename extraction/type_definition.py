"""A document type's definition, checked: what a YAML file, an import or the admin screen gives.

A type is data: its fields (what to read and how a person checks it) and, for the offline
reader, where each value sits on the page (``read`` rules) and which words tell the type apart
(``keywords``). ``DocumentTypeDefinition.model_validate`` refuses a malformed definition with a
message that names the row at fault, so that a bad definition breaks on save, never later when a
document is read. ``extraction.schemas.DocumentTypeSpec`` is the checked definition as the
pipeline uses it.

Shape (YAML or JSON)::

    key: receipt                  # a slug: lowercase letters, digits, underscores
    label: Receipt
    version: 1
    description: ...
    date_order: DMY               # "", MDY, DMY or YMD ("" = the deployment's)
    currency: ""                  # ISO 4217 code when the type has one currency
    languages: [en, fr]           # the languages of its labels (informative)
    keywords:                     # classification: phrase and weight
      - {phrase: Tax invoice, weight: 2}
    fields:
      - key: total
        label: Total
        kind: money               # one of FIELD_KINDS
        required: true
        sensitive: false
        hint: The amount paid     # for the LLM
        era: recent               # dates: "", past, recent or future
        read:                     # offline reader: rules tried in order, first value wins
          - labels: {en: [Grand total, Total], fr: [Total TTC]}
            exclude: [Sub total, Total qty]
            where: [right, below]  # right of the label, the lines below, or the next cell
            nth: 0                 # 0: the first value on the line, 1: the second (a YTD column)
            choose: last           # first, last, largest or smallest of the document's candidates
          - region: top            # no label: a line among the first ``lines`` of the first page
            lines: 6
          - after: merchant_name   # no label: the lines under another field's value
            lines: 4
            stop: [Tel, GST]
          - pattern: '^(?P<value>.+ Bank)$'   # a regular expression with a ``value`` group
            region: top                        # (optional) only in the top ``lines`` lines
            lines: 5
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import regex
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

FIELD_KINDS = (
    "text",
    "name",
    "address",
    "money",
    "date",
    "integer",
    "account",
    "ssn",
    "ein",
    "currency",
    "reference",
    "enum",
    "rows",
)
COLUMN_KINDS = tuple(kind for kind in FIELD_KINDS if kind != "rows")

# How long each list of a definition may be: far above any real type (the shipped ones have at
# most 10 fields, 4 rules a field and 52 labels a rule), low enough that a definition can never
# make the reader or the checker do unbounded work.
MAX_FIELDS = 200
MAX_RULES = 20
MAX_PHRASES = 200
MAX_PATTERN = 1000
# Every label, exclusion and stop phrase of a type together: the reader searches each line of
# a document for each. The shipped types hold at most 305 (invoice); 5,000 took 3.5 s to read a
# 3-page document of 100 lines a page, so 800,000 (200 fields x 20 rules x 200) would take
# about ten minutes.
MAX_TYPE_PHRASES = 2000
# The product of a pattern's counted repeats ({4}, {1,3}); see ReadRule._pattern_compiles.
MAX_PATTERN_REPEATS = 10_000
_COUNTED_REPEAT = re.compile(r"(?<!\\)\{(\d+)?(?:,(\d+)?)?\}")
PLACES = ("right", "below", "cell")
CHOICES = ("first", "last", "largest", "smallest")
REGIONS = ("top", "bottom")

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadRule(_Strict):
    """One way the offline reader finds a field's value. Exactly one of ``labels``,
    ``pattern``, ``region`` or ``after`` says what anchors it."""

    labels: (
        Annotated[list[Phrase], Field(max_length=MAX_PHRASES)]
        | Annotated[
            dict[Language, Annotated[list[Phrase], Field(max_length=MAX_PHRASES)]],
            Field(max_length=20),
        ]
    ) = Field(default_factory=list)
    exclude: list[Phrase] = Field(default_factory=list, max_length=MAX_PHRASES)
    where: list[Literal["right", "below", "cell"]] = Field(
        default_factory=lambda: ["right", "below"]
    )
    nth: int = Field(default=0, ge=0, le=9)
    choose: Literal["first", "last", "largest", "smallest"] = "first"
    pattern: str = Field(default="", max_length=MAX_PATTERN)
    region: Literal["", "top", "bottom"] = ""
    after: Key | Literal[""] = ""
    lines: int = Field(default=0, ge=0, le=200)
    stop: list[Phrase] = Field(default_factory=list, max_length=MAX_PHRASES)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str) -> str:
        if not pattern:
            return pattern
        # ``regex`` spells counted repeats of literals out when it compiles: "((a{100}){100}){100}"
        # takes 300 MB, one level more exhausts the memory. The counts are multiplied as if
        # nested, whether they are or not (``\d{4}-\d{2}-\d{2}`` is 16).
        repeats = 1
        for low, high in _COUNTED_REPEAT.findall(pattern):
            repeats *= max(int(low or 0), int(high or 0), 1)
            if repeats > MAX_PATTERN_REPEATS:
                raise ValueError(
                    "the pattern's counted repeats ({n}) are too large together: keep them "
                    "small (\\d{4}), or use + and *"
                )
        try:
            # The reader searches with the ``regex`` module (it has a time limit).
            compiled = regex.compile(pattern)
        except regex.error as error:
            raise ValueError(f"the pattern is not a valid regular expression ({error})") from None
        if "value" not in compiled.groupindex:
            raise ValueError("the pattern needs a group named value: (?P<value>...)")
        return pattern

    @model_validator(mode="after")
    def _one_anchor(self) -> ReadRule:
        anchors = [
            name
            for name, present in (
                ("labels", bool(self.label_phrases())),
                ("pattern", bool(self.pattern)),
                ("after", bool(self.after)),
            )
            if present
        ]
        # A region alone takes any line that reads as the kind; with a pattern, only the
        # lines of the region that match it (a letterhead's company name).
        if len(anchors) > 1 or (not anchors and not self.region):
            raise ValueError(
                "a read rule needs exactly one of labels, pattern, region or after"
                + (f" (it has {', '.join(anchors)})" if anchors else "")
            )
        if self.region and anchors not in ([], ["pattern"]):
            raise ValueError("a region goes alone or with a pattern")
        if (self.region or self.after) and not self.lines:
            raise ValueError("a region or after rule needs lines: how many lines to look at")
        if not self.where:
            raise ValueError("where needs at least one of right, below or cell")
        return self

    def label_phrases(self) -> list[str]:
        """Every label phrase, languages flattened, in the order given."""
        if isinstance(self.labels, dict):
            return [phrase for phrases in self.labels.values() for phrase in phrases]
        return list(self.labels)


class ColumnDefinition(_Strict):
    key: Key
    label: Phrase
    kind: Literal[COLUMN_KINDS] = "text"  # type: ignore[valid-type]
    hint: str = ""


class FieldDefinition(_Strict):
    key: Key
    label: Phrase
    kind: Literal[FIELD_KINDS] = "text"  # type: ignore[valid-type]
    required: bool = False
    sensitive: bool = False
    hint: str = Field(default="", max_length=500)
    choices: list[Phrase] = Field(default_factory=list, max_length=MAX_PHRASES)
    columns: list[ColumnDefinition] = Field(default_factory=list, max_length=MAX_FIELDS)
    era: Literal["", "past", "recent", "future"] = ""
    sign: Literal["", "magnitude"] = ""
    read: list[ReadRule] = Field(default_factory=list, max_length=MAX_RULES)

    @model_validator(mode="after")
    def _shape_fits_kind(self) -> FieldDefinition:
        if self.kind == "rows" and not self.columns:
            raise ValueError("a rows field needs columns")
        if self.kind != "rows" and self.columns:
            raise ValueError("only a rows field has columns")
        if self.kind == "enum" and not self.choices:
            raise ValueError("an enum field needs choices")
        if self.era and self.kind != "date":
            raise ValueError("era is for date fields only")
        if self.sign and self.kind != "money":
            raise ValueError("sign is for money fields only")
        return self


class Keyword(_Strict):
    phrase: Phrase
    weight: int = Field(default=1, ge=1, le=5)


class DocumentTypeDefinition(_Strict):
    key: Key
    label: Phrase
    version: int = Field(default=1, ge=1)
    description: str = ""
    date_order: Literal["", "MDY", "DMY", "YMD"] = ""
    currency: Annotated[str, StringConstraints(pattern=r"^([A-Z]{3})?$")] = ""
    languages: list[Language] = Field(default_factory=list, max_length=20)
    keywords: list[Keyword] = Field(default_factory=list, max_length=MAX_PHRASES)
    fields: list[FieldDefinition] = Field(min_length=1, max_length=MAX_FIELDS)

    @model_validator(mode="after")
    def _keys_unique_and_known(self) -> DocumentTypeDefinition:
        phrases = sum(
            len(rule.label_phrases()) + len(rule.exclude) + len(rule.stop)
            for spec in self.fields
            for rule in spec.read
        )
        if phrases > MAX_TYPE_PHRASES:
            raise ValueError(
                f"the read rules hold {phrases:,} labels, exclusions and stop phrases; "
                f"a type holds at most {MAX_TYPE_PHRASES:,}"
            )
        keys = [spec.key for spec in self.fields]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"field keys must be unique; repeated: {', '.join(repeated)}")
        for spec in self.fields:
            for rule in spec.read:
                if rule.after and rule.after not in keys:
                    raise ValueError(
                        f"field {spec.key}: after names {rule.after}, which is not a field"
                    )
                if rule.after == spec.key:
                    raise ValueError(f"field {spec.key}: a rule cannot come after its own field")
        return self


# How many values (mappings, lists and scalars, each alias counted at every place it stands) a
# type's YAML may hold. The largest shipped type holds about 1,500.
MAX_YAML_VALUES = 50_000


class YAMLTooLarge(yaml.YAMLError):
    problem = f"it holds more than {MAX_YAML_VALUES:,} values once its aliases (*) are expanded"
    problem_mark = None


class YAMLTooDeep(yaml.YAMLError):
    problem = "its lists or mappings are nested too deeply"
    problem_mark = None


def load_yaml(text: str) -> Any:
    """``text`` parsed as YAML (safely). ``yaml.safe_load`` expands aliases: a few kilobytes
    whose lists repeat one another ("billion laughs") would make the checker validate, and the
    database store, billions of labels. The parsed value is counted as if expanded, stopping at
    ``MAX_YAML_VALUES``, so this costs no more than that. Raises ``yaml.YAMLError``."""
    try:
        data = yaml.safe_load(text)
    except RecursionError:  # "[[[[...": PyYAML composes nested values recursively
        raise YAMLTooDeep() from None
    budget = MAX_YAML_VALUES
    stack = [data]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise YAMLTooLarge()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return data


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error in words: where, or (too large, too deep) why."""
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    because = f": {error.problem}" if isinstance(error, YAMLTooLarge | YAMLTooDeep) else ""
    return f"{where}{because}"


class DefinitionError(ValueError):
    """A definition that does not validate; ``messages`` are plain, one per problem, each
    naming where it is ("fields, row 3 (total), read, rule 1: ...")."""

    def __init__(self, messages: list[str], located: list[tuple[tuple, str]] | None = None):
        super().__init__("; ".join(messages))
        self.messages = messages
        # (pydantic location, message) pairs, for screens that show each at its row.
        self.located = located if located is not None else [((), m) for m in messages]


def definition_from_data(data: Any) -> DocumentTypeDefinition:
    """The checked definition of ``data`` (a parsed YAML or JSON mapping).

    Raises ``DefinitionError`` with plain messages that name each wrong row.
    """
    try:
        return DocumentTypeDefinition.model_validate(data)
    except ValidationError as error:
        raise DefinitionError(plain_messages(error, data), located_messages(error, data)) from None


def fields_from_data(data: Any) -> list[FieldDefinition]:
    """Only a ``fields`` list checked (what the admin's field rows hold). Raises
    ``DefinitionError``."""
    try:
        definition = DocumentTypeDefinition.model_validate(
            {"key": "check", "label": "check", "fields": data}
        )
    except ValidationError as error:
        raise DefinitionError(plain_messages(error, {"fields": data})) from None
    return definition.fields


def plain_messages(error: ValidationError, data: Any) -> list[str]:
    """Pydantic's errors as sentences: "fields, row 2 (net_pay), kind: choose one of ..."."""
    return list(dict.fromkeys(message for _, message in located_messages(error, data)))


def located_messages(error: ValidationError, data: Any) -> list[tuple[tuple, str]]:
    """Each error's location (pydantic's ``loc``: ``("fields", 2, "kind")``) with its plain
    message, so that a screen can show the message at the row and box that is wrong."""
    messages = []
    for item in error.errors(include_url=False):
        place = _place(item["loc"], data)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "literal_error":
            message = "choose one of " + item["ctx"]["expected"].replace("'", "")
        elif item["type"] == "extra_forbidden":
            message = "is not a known setting (check its spelling)"
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] == "string_pattern_mismatch" and place.endswith("key"):
            message = "use lowercase letters, digits and underscores, starting with a letter"
        messages.append((tuple(item["loc"]), f"{place}: {message}" if place else message))
    # Union types report each alternative; keep one line per distinct message.
    return list(dict.fromkeys(messages))


def _place(location: tuple, data: Any) -> str:
    parts: list[str] = []
    node = data
    for step in location:
        if isinstance(step, int):
            key = node[step].get("key") if _row(node, step) else None
            parts[-1:] = [
                f"{parts[-1] if parts else ''} row {step + 1}" + (f" ({key})" if key else "")
            ]
            node = node[step] if _row(node, step) else None
        elif step in ("list[constrained-str]", "dict[constrained-str,list[constrained-str]]"):
            continue
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ", ".join(part.strip() for part in parts)


def _row(node: Any, index: int) -> bool:
    return isinstance(node, list) and index < len(node) and isinstance(node[index], dict)
