"""The built-in checks that raise flags.

Each check looks at one application and yields the findings that hold now; the flag service
turns findings into flags and resolves the flags whose findings are gone. These are code for
now; the rule-engine issue moves them into data (an expression language) with versions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from extraction.models import Document, Field, FieldKind

from .models import Severity


@dataclass(frozen=True)
class Finding:
    rule_key: str
    title: str
    severity: str
    message: str
    document_id: int | None = None
    field_id: int | None = None
    values: dict = field(default_factory=dict)

    @property
    def identity(self) -> tuple:
        return (self.rule_key, self.document_id, self.field_id)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def _name_tokens(name: str) -> set[str]:
    # Middle initials and punctuation do not decide whether two names are the same person.
    return {token for token in re.findall(r"[a-z]+", name.lower()) if len(token) > 1}


def required_missing(
    documents: list[Document], fields: list[Field], application
) -> Iterator[Finding]:
    for f in fields:
        if f.required and not f.value:
            yield Finding(
                "required_missing",
                "Required value missing",
                Severity.MEDIUM,
                f"{f.label} is required but empty on “{f.document.original_name}”.",
                f.document_id,
                f.pk,
            )


def value_not_on_page(documents, fields, application) -> Iterator[Finding]:
    for f in fields:
        if f.value and not f.grounded:
            yield Finding(
                "value_not_on_page",
                "Value not found on the page",
                Severity.LOW,
                f"{f.label} “{f.value}” does not appear in the text of "
                f"“{f.document.original_name}”.",
                f.document_id,
                f.pk,
                {"value": f.value},
            )


def money_changed_from_machine(documents, fields, application) -> Iterator[Finding]:
    """A person changed an amount the machine read by more than 10%."""
    for f in fields:
        if f.kind != FieldKind.MONEY or not f.machine_value or f.value == f.machine_value:
            continue
        from extraction.normalize import NormalizationError, normalize

        try:
            before = _decimal(normalize(FieldKind.MONEY, f.machine_value))
        except NormalizationError:
            before = None
        after = _decimal(f.normalized)
        if before is None or after is None:
            continue
        change = abs(after - before) / abs(before) if before else Decimal(1)
        if change > Decimal("0.10"):
            yield Finding(
                "money_changed",
                "Amount changed from the machine's reading",
                Severity.HIGH,
                f"{f.label} was read as {before:,} and changed to {after:,} ({change:.0%} difference).",
                f.document_id,
                f.pk,
                {"machine": str(before), "current": str(after), "change": f"{change:.4f}"},
            )


NAME_FIELDS = {"employee_name", "account_holder", "full_name"}


def name_differs_from_applicant(documents, fields, application) -> Iterator[Finding]:
    stated = _name_tokens(application.stated_name)
    if not stated:
        return
    for f in fields:
        if f.key in NAME_FIELDS and f.value and not stated <= _name_tokens(f.value):
            yield Finding(
                "name_mismatch",
                "Name differs from the applicant's",
                Severity.MEDIUM,
                f"{f.label} “{f.value}” does not match the applicant's name "
                f"“{application.stated_name}”.",
                f.document_id,
                f.pk,
                {"document": f.value, "stated": application.stated_name},
            )


def pay_stub_net_above_gross(documents, fields, application) -> Iterator[Finding]:
    by_document: dict[int, dict[str, Field]] = {}
    for f in fields:
        by_document.setdefault(f.document_id, {})[f.key] = f
    for document in documents:
        if document.document_type is None or document.document_type.key != "pay_stub":
            continue
        values = by_document.get(document.pk, {})
        gross = _decimal(values["gross_pay"].normalized) if "gross_pay" in values else None
        net = _decimal(values["net_pay"].normalized) if "net_pay" in values else None
        if gross is not None and net is not None and net > gross:
            yield Finding(
                "net_above_gross",
                "Net pay above gross pay",
                Severity.HIGH,
                f"Net pay {net:,} is more than gross pay {gross:,} on “{document.original_name}”.",
                document.pk,
                values["net_pay"].pk,
                {"gross": str(gross), "net": str(net)},
            )


CHECKS = [
    required_missing,
    value_not_on_page,
    money_changed_from_machine,
    name_differs_from_applicant,
    pay_stub_net_above_gross,
]
