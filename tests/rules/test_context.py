"""What a rule sees of a field: its value and the machine's reading, typed."""

from __future__ import annotations

import json

import pytest

from review.services import field_correct
from rules.context import context_build, typed

pytestmark = pytest.mark.django_db

ROWS = [
    {"date": "01/05", "description": "PAYROLL NORTHWIND", "amount": "2,600.00"},
    {"date": "01/09", "description": "RENT", "amount": "-1,450.00", "balance": "2,150.00"},
]


def _variables(application, key: str) -> dict:
    context = context_build(application)
    document = next(d for d in context.documents if d.type_key == "bank_statement")
    return next(variables for _, field_key, variables in document.fields if field_key == key)


def test_a_value_still_the_machines_is_typed_the_same_for_both_as_two_lists(build):
    """Rows the machine read and nobody changed give ``value`` and ``machine`` equal typed rows,
    as lists of their own."""
    application, _ = build({"bank_statement": {"transactions": json.dumps(ROWS)}})

    field = _variables(application, "transactions")

    assert field["value"] == field["machine"] == typed("rows", json.dumps(ROWS))
    assert field["value"] is not field["machine"]
    assert all(a is not b for a, b in zip(field["value"], field["machine"], strict=True))
    assert not field["changed"]


def test_a_corrected_value_keeps_the_machines_reading_beside_it(build, applicant):
    """After a correction ``machine`` is still the machine's reading, typed on its own."""
    application, documents = build({"bank_statement": {"transactions": json.dumps(ROWS)}})
    corrected = [ROWS[0], {**ROWS[1], "amount": "-1,540.00"}]
    field_correct(
        field=documents["bank_statement"].fields.get(key="transactions"),
        value=json.dumps(corrected),
        actor=applicant,
    )

    field = _variables(application, "transactions")

    assert field["machine"] == typed("rows", json.dumps(ROWS))
    assert field["value"] == typed("rows", json.dumps(corrected))
    assert field["changed"]
