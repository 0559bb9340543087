"""Lists of rows (a statement's transactions): schema, validation, normalizing, saving."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extraction.models import Document
from extraction.normalize import NormalizationError, normalize, normalize_rows
from extraction.schemas import OutputInvalid, validate_output
from tests.extraction.conftest import upload_and_read

COLUMNS = [("date", "date"), ("description", "text"), ("amount", "money")]


def test_the_bank_statement_schema_asks_for_an_array_of_row_objects(document_types):
    schema = document_types["bank_statement"].json_schema()

    rows = schema["properties"]["transactions"]
    assert rows["type"] == ["array", "null"]
    assert rows["items"]["required"] == ["date", "description", "amount"]
    assert rows["items"]["additionalProperties"] is False
    assert "transactions" in schema["required"]


def test_rows_come_back_as_json_text_without_blank_rows(document_types):
    spec = document_types["bank_statement"]
    answer = dict.fromkeys((f.key for f in spec.fields), None)
    answer["transactions"] = [
        {"date": "01/02", "description": " RENT ", "amount": "-1,450.00"},
        {"date": " ", "description": None, "amount": ""},
    ]

    values = validate_output(spec, answer)

    assert json.loads(values["transactions"]) == [
        {"date": "01/02", "description": "RENT", "amount": "-1,450.00"}
    ]


def test_a_row_with_an_unknown_column_is_invalid(document_types):
    spec = document_types["bank_statement"]
    answer = dict.fromkeys((f.key for f in spec.fields), None)
    answer["transactions"] = [{"date": "01/02", "description": "x", "amount": "1", "memo": "?"}]

    with pytest.raises(OutputInvalid):
        validate_output(spec, answer)


def test_year_less_dates_take_the_statements_year_and_december_the_year_before():
    value = json.dumps(
        [
            {"date": "01/02", "description": "RENT", "amount": "-1,450.00"},
            {"date": "12/30", "description": "GAS", "amount": "(12.00)"},
        ]
    )

    rows = json.loads(normalize_rows(columns=COLUMNS, value=value, reference=date(2026, 1, 31)))

    assert rows == [
        {"date": "2026-01-02", "description": "RENT", "amount": "-1450.00"},
        {"date": "2025-12-30", "description": "GAS", "amount": "-12.00"},
    ]


def test_a_cell_that_cannot_be_read_as_its_kind_becomes_null_not_a_guess():
    value = json.dumps([{"date": "soon", "description": "X", "amount": "lots"}])

    rows = json.loads(normalize_rows(columns=COLUMNS, value=value))

    assert rows == [{"date": None, "description": "X", "amount": None}]


@pytest.mark.parametrize("value", ["not json", '{"a": 1}', "[1, 2]", '[{"a": [1]}]'])
def test_rows_that_are_not_a_list_of_objects_are_refused(value):
    with pytest.raises(NormalizationError):
        normalize("rows", value)


cells = st.one_of(st.none(), st.text(max_size=12))


@given(
    st.lists(
        st.fixed_dictionaries({"date": cells, "description": cells, "amount": cells}), max_size=5
    )
)
def test_normalizing_rows_is_idempotent_and_keeps_the_row_count(rows):
    once = normalize_rows(columns=COLUMNS, value=json.dumps(rows))
    twice = normalize_rows(columns=COLUMNS, value=once)

    assert once == twice
    assert len(json.loads(once)) == len(rows)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2))
def test_a_row_amount_is_its_exact_decimal_whatever_the_printing(amount):
    printed = f"-${abs(amount):,.2f}" if amount < 0 else f"{amount:,.2f}"
    value = json.dumps([{"date": None, "description": None, "amount": printed}])

    (row,) = json.loads(normalize_rows(columns=COLUMNS, value=value))

    assert row["amount"] == ("0.00" if amount == 0 else f"{amount:.2f}")


def test_the_local_provider_saves_every_transaction_with_its_evidence(
    applicant_application, shipped_types, sample_paths, expected
):
    """Rows are read from both pages of the sample statement, normalized and each grounded."""
    name = "bank_statement_2026-01.pdf"

    document = upload_and_read(
        applicant_application,
        sample_paths[name].read_bytes(),
        document_type=shipped_types["bank_statement"],
    )

    assert document.status == Document.Status.EXTRACTED, document.reason
    field = document.fields.get(key="transactions")
    assert json.loads(field.normalized) == expected[name]["fields"]["transactions"]
    assert field.grounded and field.page.number == 1
    assert len(field.row_evidence) == len(expected[name]["fields"]["transactions"])
    assert all(evidence["grounded"] for evidence in field.row_evidence)
    assert {evidence["page"] for evidence in field.row_evidence} == {1, 2}
    first = field.rows[0]
    assert first["description"] == "ACH DEBIT COLUMBUS PROPERTY MGMT RENT"
    assert first["evidence"]["page"] == 1
