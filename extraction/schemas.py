"""A document type's fields as a JSON schema for the model, and a validator for its answers.

The same schema is sent as structured output and used to check what comes back: the model's
answer is never trusted because it claims to follow the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str = "text"
    required: bool = False
    hint: str = ""
    sensitive: bool = False
    choices: tuple[str, ...] = ()

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
        )


@dataclass(frozen=True)
class DocumentTypeSpec:
    key: str
    label: str
    version: int
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    description: str = ""

    @classmethod
    def from_model(cls, document_type) -> DocumentTypeSpec:
        return cls(
            key=document_type.key,
            label=document_type.label,
            version=document_type.version,
            description=document_type.description,
            fields=tuple(FieldSpec.from_dict(f) for f in document_type.fields),
        )

    @property
    def schema_name(self) -> str:
        return f"{self.key}_v{self.version}".replace("-", "_")

    def output_model(self) -> type[BaseModel]:
        """A pydantic model of the answer: every field present, a string or null."""
        definitions: dict[str, Any] = {}
        for spec in self.fields:
            description = spec.label + (f". {spec.hint}" if spec.hint else "")
            definitions[spec.key] = (str | None, Field(default=..., description=description))
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
            if spec.kind == "enum" and spec.choices:
                prop["enum"] = [*spec.choices, None]
            properties[spec.key] = prop
        return {
            "type": "object",
            "properties": properties,
            "required": [spec.key for spec in self.fields],
            "additionalProperties": False,
        }


class OutputInvalid(Exception):
    """The provider's answer is not JSON or does not match the document type's schema."""


def validate_output(spec: DocumentTypeSpec, data: Any) -> dict[str, str | None]:
    """Check an answer against the schema; return each field's value, blanks as None."""
    if not isinstance(data, dict):
        raise OutputInvalid("The answer is not a JSON object.")
    try:
        parsed = spec.output_model().model_validate(data)
    except ValidationError as exc:
        raise OutputInvalid(str(exc)) from exc
    values: dict[str, str | None] = {}
    for key, value in parsed.model_dump().items():
        text = value.strip() if isinstance(value, str) else None
        values[key] = text or None
    return values
