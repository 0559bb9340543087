"""A document type's fields as a JSON schema for the model, and a validator for its answers.

The same schema is sent as structured output and used to check what comes back: the model's
answer is never trusted because it claims to follow the schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .type_definition import Keyword, ReadRule

# Version 2: a "rows" kind (a list of row objects) beside the string-or-null fields.
SCHEMA_VERSION = "2"
ROWS = "rows"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a ``rows`` field: a scalar kind (date, text, money...)."""

    key: str
    label: str
    kind: str = "text"
    hint: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        return cls(
            key=data["key"],
            label=data.get("label", data["key"]),
            kind=data.get("kind", "text"),
            hint=data.get("hint", ""),
        )


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str = "text"
    required: bool = False
    hint: str = ""
    sensitive: bool = False
    choices: tuple[str, ...] = ()
    columns: tuple[ColumnSpec, ...] = ()  # only for kind "rows"
    # A date's meaning for two-digit years: "past" (a birth date), "recent" (a document date),
    # "future" or "" (strptime's pivot). See normalize.DATE_ERAS.
    era: str = ""
    # "magnitude": an amount whose label already says its direction (total withdrawals), so
    # "(2,600.00)" on the page means 2600.00.
    sign: str = ""
    # How the offline reader finds the value (``type_definition.ReadRule``), tried in order.
    read: tuple[ReadRule, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldSpec:
        return cls(
            key=data["key"],
            label=data.get("label", data["key"]),
            kind=data.get("kind", "text"),
            required=bool(data.get("required", False)),
            hint=data.get("hint", ""),
            sensitive=bool(data.get("sensitive", False)),
            choices=tuple(data.get("choices", ())),
            columns=tuple(ColumnSpec.from_dict(c) for c in data.get("columns", ())),
            era=data.get("era", ""),
            sign=data.get("sign", ""),
            read=_read_rules(data.get("read")),
        )

    @property
    def is_rows(self) -> bool:
        return self.kind == ROWS


@dataclass(frozen=True)
class DocumentTypeSpec:
    key: str
    label: str
    version: int
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    description: str = ""
    date_order: str = ""  # "" for the deployment's EXTRACTION_DATE_ORDER
    # For the offline reader: phrases that tell this type apart (classification), its one
    # currency (ISO 4217) when it has one, and the languages of its labels.
    keywords: tuple[Keyword, ...] = ()
    currency: str = ""
    languages: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentTypeSpec:
        """From a shipped YAML definition (or anything of its shape)."""
        return cls(
            key=data["key"],
            label=data["label"],
            version=data.get("version", 1),
            description=data.get("description", ""),
            fields=tuple(FieldSpec.from_dict(f) for f in data["fields"]),
            date_order=data.get("date_order", "") or "",
            keywords=_keywords(data.get("keywords")),
            currency=data.get("currency", "") or "",
            languages=tuple(data.get("languages") or ()),
        )

    @classmethod
    def from_model(cls, document_type) -> DocumentTypeSpec:
        return cls.from_dict(
            {
                "key": document_type.key,
                "label": document_type.label,
                "version": document_type.version,
                "description": document_type.description,
                "fields": document_type.fields,
                "date_order": document_type.date_order,
                "keywords": document_type.keywords,
                "currency": document_type.currency,
                "languages": document_type.languages,
            }
        )

    @property
    def schema_name(self) -> str:
        return f"{self.key}_v{self.version}".replace("-", "_")

    def output_model(self) -> type[BaseModel]:
        """A pydantic model of the answer: every field present, a string or null (or rows).
        Built once per spec: each page group's answer is checked against it, and building it
        took 4 ms a call. (Kept beside the fields, so it is never compared or copied.)"""
        model = self.__dict__.get("_output_model")
        if model is None:
            model = self.__dict__["_output_model"] = self._built_output_model()
        return model

    def _built_output_model(self) -> type[BaseModel]:
        definitions: dict[str, Any] = {}
        for spec in self.fields:
            description = spec.label + (f". {spec.hint}" if spec.hint else "")
            annotation: Any = str | None
            if spec.is_rows:
                row = create_model(
                    f"{self.schema_name}_{spec.key}_row",
                    __config__=ConfigDict(extra="forbid"),
                    **{c.key: (str | None, Field(default=...)) for c in spec.columns},
                )
                annotation = list[row] | None
            definitions[spec.key] = (annotation, Field(default=..., description=description))
        return create_model(
            self.schema_name,
            __config__=ConfigDict(extra="forbid"),
            **definitions,
        )

    def json_schema(self) -> dict[str, Any]:
        """The strict JSON schema sent to providers as structured output.

        Strict mode wants every property listed as required and no extra properties; a value the
        document does not show is expressed as null, never guessed.
        """
        properties = {}
        for spec in self.fields:
            description = spec.label + (f". {spec.hint}" if spec.hint else "")
            prop: dict[str, Any] = {"type": ["string", "null"], "description": description}
            if spec.is_rows:
                prop = {
                    "type": ["array", "null"],
                    "description": description,
                    "items": {
                        "type": "object",
                        "properties": {
                            c.key: {
                                "type": ["string", "null"],
                                "description": c.label + (f". {c.hint}" if c.hint else ""),
                            }
                            for c in spec.columns
                        },
                        "required": [c.key for c in spec.columns],
                        "additionalProperties": False,
                    },
                }
            if spec.kind == "enum" and spec.choices:
                prop["enum"] = [*spec.choices, None]
            properties[spec.key] = prop
        return {
            "type": "object",
            "properties": properties,
            "required": [spec.key for spec in self.fields],
            "additionalProperties": False,
        }


def _read_rules(data: Any) -> tuple[ReadRule, ...]:
    """A field's stored read rules; one that no longer validates is skipped, never fatal,
    since definitions are checked when saved (``type_definition``)."""
    rules = []
    for item in data or ():
        try:
            rules.append(ReadRule.model_validate(item))
        except ValidationError:
            continue
    return tuple(rules)


def _keywords(data: Any) -> tuple[Keyword, ...]:
    keywords = []
    for item in data or ():
        try:
            keywords.append(Keyword.model_validate(item))
        except ValidationError:
            continue
    return tuple(keywords)


class OutputInvalid(Exception):
    """The provider's answer is not JSON or does not match the document type's schema."""


def validate_output(spec: DocumentTypeSpec, data: Any) -> dict[str, str | None]:
    """Check an answer against the schema; return each field's value, blanks as None.

    A ``rows`` field's value is its rows as JSON text (``rows_dumps``), so that every value
    travels through the pipeline, the database and the history as one string. Rows with no
    value at all are dropped; no rows at all is None.
    """
    if not isinstance(data, dict):
        raise OutputInvalid("The answer is not a JSON object.")
    try:
        parsed = spec.output_model().model_validate(data)
    except ValidationError as exc:
        raise OutputInvalid(str(exc)) from exc
    values: dict[str, str | None] = {}
    for key, value in parsed.model_dump().items():
        if isinstance(value, list):
            rows = [
                {k: (v.strip() or None) if isinstance(v, str) else None for k, v in row.items()}
                for row in value
            ]
            rows = [row for row in rows if any(row.values())]
            values[key] = rows_dumps(rows) if rows else None
            continue
        text = value.strip() if isinstance(value, str) else None
        values[key] = text or None
    return values


def rows_dumps(rows: list[dict[str, str | None]]) -> str:
    """Rows as the JSON text stored in a Field's value."""
    return json.dumps(rows, ensure_ascii=False)


def rows_loads(text: str) -> list[dict[str, str | None]]:
    """The rows of a stored value; an empty list for a blank or unreadable one."""
    if not text:
        return []
    try:
        rows = json.loads(text)
    except ValueError:
        return []
    if not isinstance(rows, list):
        return []
    return [row for row in rows if isinstance(row, dict)]
