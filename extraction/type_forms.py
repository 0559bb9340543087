"""The document type editor's forms: the type's attributes, its keywords as rows and its fields
as rows, each field's offline reading rules in a small YAML box.

The forms only parse what was typed; ``type_definition`` decides what is valid, and
``definition_errors_place`` puts each of its messages at the row and box it names.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from django import forms

from .models import DocumentType, FieldKind
from .type_definition import DefinitionError, load_yaml, yaml_problem

PROVIDER_CHOICES = [
    ("", "The default reader"),
    ("local", "local (offline)"),
    ("openai", "openai"),
    ("anthropic", "anthropic"),
]
ERA_CHOICES = [
    ("", "—"),
    ("past", "past (a birth date)"),
    ("recent", "recent (a document date)"),
    ("future", "future (an expiry)"),
]
SIGN_CHOICES = [("", "—"), ("magnitude", "magnitude (the label gives the direction)")]


def _words(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", text or "") if part.strip()]


class TypeForm(forms.Form):
    key = forms.CharField(
        max_length=50,
        help_text="Lowercase letters, digits and underscores; it cannot change later.",
    )
    label = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    date_order = forms.ChoiceField(
        required=False,
        choices=[
            ("", "The deployment's order"),
            *DocumentType._meta.get_field("date_order").choices,
        ],
    )
    currency = forms.CharField(
        required=False, max_length=3, help_text="ISO 4217 code (EUR) when the type has one."
    )
    languages = forms.CharField(
        required=False, help_text="Languages of the labels, comma-separated: en, fr, de"
    )
    provider = forms.ChoiceField(required=False, choices=PROVIDER_CHOICES)
    is_active = forms.BooleanField(
        required=False,
        label="Active (offered to applicants and used to classify uploads)",
    )
    note = forms.CharField(
        required=False, max_length=300, help_text="Why this change (kept with the version)."
    )
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["key"].disabled = True

    def definition_part(self) -> dict[str, Any]:
        data = self.cleaned_data
        part: dict[str, Any] = {
            "key": data["key"],
            "label": data["label"],
            "description": data["description"],
            "date_order": data["date_order"],
            "currency": data["currency"].strip(),
            "languages": _words(data["languages"]),
        }
        return {name: value for name, value in part.items() if value not in ("", [])}


class KeywordForm(forms.Form):
    phrase = forms.CharField(required=False, max_length=100)
    weight = forms.IntegerField(required=False, min_value=1, max_value=5, initial=1)

    def item(self) -> dict[str, Any] | None:
        phrase = (self.cleaned_data.get("phrase") or "").strip()
        if not phrase or self.cleaned_data.get("DELETE"):
            return None
        return {"phrase": phrase, "weight": self.cleaned_data.get("weight") or 1}


class FieldForm(forms.Form):
    key = forms.CharField(required=False, max_length=60)
    label = forms.CharField(required=False, max_length=100)
    kind = forms.ChoiceField(choices=FieldKind.choices, initial=FieldKind.TEXT)
    required = forms.BooleanField(required=False)
    sensitive = forms.BooleanField(required=False)
    hint = forms.CharField(
        required=False, max_length=500, label="Hint for the LLM", widget=forms.TextInput
    )
    era = forms.ChoiceField(required=False, choices=ERA_CHOICES, label="Era (dates)")
    sign = forms.ChoiceField(required=False, choices=SIGN_CHOICES, label="Sign (money)")
    choices = forms.CharField(required=False, label="Choices (enum), comma-separated")
    columns = forms.CharField(
        required=False,
        label="Columns (rows), YAML",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    read = forms.CharField(
        required=False,
        label="Offline reading rules, YAML",
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "mono"}),
        help_text="A list of rules tried in order: labels (per language), exclude, where, nth, "
        "choose; or region / after / pattern with lines and stop.",
    )

    def item(self) -> dict[str, Any] | None:
        """The row as a field definition, or None for an empty or deleted row. YAML that does
        not parse is an error on its own box."""
        data = self.cleaned_data
        if data.get("DELETE"):
            return None
        if not any(
            (data.get(name) or "").strip() for name in ("key", "label", "hint", "read", "columns")
        ):
            return None
        item: dict[str, Any] = {
            "key": (data.get("key") or "").strip(),
            "label": (data.get("label") or "").strip(),
            "kind": data.get("kind") or "text",
            "required": bool(data.get("required")),
            "sensitive": bool(data.get("sensitive")),
        }
        for name in ("hint", "era", "sign"):
            if data.get(name):
                item[name] = data[name].strip()
        if data.get("choices"):
            item["choices"] = _words(data["choices"])
        for name in ("columns", "read"):
            text = (data.get(name) or "").strip()
            if not text:
                continue
            try:
                item[name] = load_yaml(text)
            except yaml.YAMLError as error:
                self.add_error(name, f"This is not valid YAML{yaml_problem(error)}.")
        return item

    @staticmethod
    def initial_of(spec: dict) -> dict[str, Any]:
        initial = {
            name: spec.get(name, "") for name in ("key", "label", "kind", "hint", "era", "sign")
        }
        initial["kind"] = spec.get("kind") or "text"
        initial["required"] = bool(spec.get("required"))
        initial["sensitive"] = bool(spec.get("sensitive"))
        initial["choices"] = ", ".join(spec.get("choices") or [])
        for name in ("columns", "read"):
            if spec.get(name):
                initial[name] = yaml.safe_dump(
                    spec[name], sort_keys=False, allow_unicode=True, width=100
                )
        return initial


KeywordFormSet = forms.formset_factory(KeywordForm, extra=2, can_delete=True, max_num=200)
FieldFormSet = forms.formset_factory(FieldForm, extra=1, can_delete=True, max_num=200)


class ImportForm(forms.Form):
    file = forms.FileField(label="A document type as YAML")
    note = forms.CharField(required=False, max_length=300)


_ROW_MESSAGE = re.compile(r"^field (?P<key>[a-z][a-z0-9_]*): ")


def definition_errors_place(
    error: DefinitionError,
    *,
    type_form: forms.Form,
    field_rows: list[forms.Form],
    keyword_rows: list[forms.Form],
) -> None:
    """Put each of ``error``'s messages at its place: the box of the field row or keyword row
    it names (rows counted as sent to the definition), else the type's own box, else the top
    of the form."""
    by_key = {}
    for form in field_rows:
        key = (form.cleaned_data.get("key") or "").strip()
        by_key.setdefault(key, form)
    for location, message in error.located:
        section = location[0] if location else None
        if section in ("fields", "keywords") and len(location) > 1:
            rows = field_rows if section == "fields" else keyword_rows
            index = location[1]
            if isinstance(index, int) and index < len(rows):
                form = rows[index]
                name = location[2] if len(location) > 2 else None
                form.add_error(name if name in form.fields else None, message)
                continue
        if section in type_form.fields:
            type_form.add_error(section, message)
            continue
        matched = _ROW_MESSAGE.match(message)
        if matched and matched["key"] in by_key:
            by_key[matched["key"]].add_error("read", message)
            continue
        if message.startswith("field keys must be unique"):
            repeated = message.rsplit(":", 1)[-1]
            for key in (part.strip() for part in repeated.split(",")):
                if key in by_key:
                    by_key[key].add_error("key", message)
        type_form.add_error(None, message)
