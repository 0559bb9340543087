"""Forms of the rule screens. Validation of a rule is the service's (rule_validate)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from extraction.models import DocumentType

from .evaluation import RuleSpec
from .models import Scope, Severity
from .services import rule_validate

BACKTEST_SIZES = [(100, "100"), (1000, "1,000"), (10000, "10,000")]


def scope_choices() -> list[tuple[str, str]]:
    generic = [
        (Scope.APPLICATION, "Whole application (once)"),
        (Scope.DOCUMENT, "Every document"),
        (Scope.FIELD, "Every field of every document"),
    ]
    types = [
        (key, f"Each {label}")
        for key, label in DocumentType.objects.order_by("label").values_list("key", "label")
    ]
    return generic + types


class RuleForm(forms.Form):
    key = forms.SlugField(
        max_length=80, help_text="Letters, digits and underscores; cannot change later."
    )
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM)
    scope = forms.ChoiceField(choices=())
    expression = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono", "spellcheck": "false"}),
        help_text="CEL. True raises a flag.",
    )
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the reviewer reads; {{ expression }} shows a value.",
    )
    link_field = forms.SlugField(
        max_length=50,
        required=False,
        label="Field to link",
        help_text="For document rules: the field key the flag points at.",
    )
    enabled = forms.BooleanField(required=False, initial=False)
    note = forms.CharField(
        max_length=300, required=False, label="Note for the history", help_text="Why this change."
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scope_choices()
        if editing:
            # The key names the rule in flags and history; it never changes.
            self.fields["key"].disabled = True
            self.fields["key"].required = False

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            rule_validate(data=data)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data

    def spec(self, key: str = "") -> RuleSpec:
        """The draft as the engine runs it; call after is_valid()."""
        data = self.cleaned_data
        return RuleSpec(
            key=key or data.get("key") or "draft",
            title=data["title"],
            expression=data["expression"],
            severity=data["severity"],
            scope=data["scope"],
            message=data["message"],
            link_field=data.get("link_field", ""),
            version=0,
        )


class TryForm(forms.Form):
    reference = forms.CharField(
        max_length=12, label="Application reference", help_text="Such as A-7AS5APES."
    )


class BacktestForm(forms.Form):
    limit = forms.TypedChoiceField(
        choices=BACKTEST_SIZES, coerce=int, initial=1000, label="Latest applications"
    )
