"""The rule checker: expressions are typed against the fields document types declare."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from extraction.catalog import shipped_document_types
from rules.evaluation import placeholders
from rules.expressions import ExpressionError, compile_expression
from rules.services import rule_validate, shipped_rules
from rules.typecheck import check_rule_types

TYPES = {data["key"]: data for data in shipped_document_types()}


def check(expression: str, scope: str = "pay_stub", *, boolean: bool = True) -> None:
    check_rule_types(expression, scope=scope, types=TYPES, boolean=boolean)


def error_of(expression: str, scope: str = "pay_stub") -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        check(expression, scope)
    return caught.value


def test_an_unknown_key_is_an_error_at_its_position_naming_the_nearest_known_key():
    error = error_of("doc.values.gros_pay > 2000.0")
    assert (error.line, error.column) == (1, 12)
    expected = "line 1, column 12: doc.values has no key gros_pay; did you mean gross_pay?"
    assert str(error) == expected


@pytest.mark.parametrize(
    ("expression", "scope", "position", "suggestion"),
    [
        ("docs.w2.exists(w, w.values.wagez > 1.0)", "application", (1, 28), "wages"),
        ("size(docs.w3) > 0", "application", (1, 11), "w2"),
        ("doc.values['gros_pay'] > 1.0", "document", (1, 12), "gross_pay"),
        ("field.valu != null", "field", (1, 7), "value"),
        ("lowr(doc.name) == 'x'", "document", (1, 1), "lower"),
        ("doc.pdf.producr == ''", "document", (1, 9), "producer"),
        ("true &&\n  application.stated.incme > 1.0", "application", (2, 22), "income"),
    ],
)
def test_unknown_keys_names_and_functions_are_found_everywhere(
    expression, scope, position, suggestion
):
    error = error_of(expression, scope)
    assert (error.line, error.column) == position
    assert f"did you mean {suggestion}" in error.message or suggestion in error.message


def test_a_key_of_another_document_type_is_unknown_in_a_type_scope():
    """Wages are a W-2's, not a pay stub's."""
    assert "no key wages" in error_of("doc.values.wages > 1.0", "pay_stub").message
    check("doc.values.wages > 1.0", "w2")
    # A rule over every document sees every type's keys.
    check("doc.values.wages != null && doc.values.wages > 1.0", "document")


def test_doc_is_unknown_in_a_rule_over_the_whole_application():
    assert "only for rules over documents" in error_of("doc.page_count > 1", "application").message


@pytest.mark.parametrize(
    "expression",
    ["doc.values.gross_pay", "doc.values.gross_pay - doc.values.net_pay", "doc.name", "1"],
)
def test_an_expression_that_gives_no_boolean_is_an_error(expression):
    assert "must give true or false" in error_of(expression).message


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("doc.values.pay_date > 1000.0", "Cannot use >"),
        ("doc.values.gross_pay > '1000'", "Cannot use >"),
        ("doc.values.gross_pay + 100 > 2000.0", "does not mix"),
        ("days_between(doc.values.gross_pay, today) > 3", "days_between expects a date"),
        ("name_similarity(doc.values.gross_pay, 'x') > 0.5", "expects text"),
        ("doc.values.gross_pay && true", "&& needs true or false"),
        ("doc.values.pay_date == 'yesterday'", "Cannot use =="),
        ("doc.page_count in 3", "in needs a list"),
    ],
)
def test_money_date_and_number_kinds_are_checked(expression, words):
    assert words in error_of(expression).message


@pytest.mark.parametrize(
    "expression",
    [
        "doc.values.gross_pay > 2000",  # CEL compares int and double
        "doc.values.pay_date < today - duration('720h')",
        "days_between(doc.values.pay_date, today) > 30",
        "doc.values.gross_pay == null || doc.values.gross_pay * 2.0 > 100.0",
        "has(doc.values.net_pay) && doc.values.employee_name.lowerAscii().contains('x')",
        "field.value > 1.0",  # field.value's kind is only known at run time
    ],
)
def test_valid_typed_expressions_stay_valid(expression):
    scope = "field" if expression.startswith("field") else "pay_stub"
    check(expression, scope)


@pytest.mark.parametrize("rule", shipped_rules(), ids=lambda rule: rule["key"])
def test_every_shipped_rule_and_message_type_checks(rule):
    check(rule["expression"], rule["scope"])
    for source in placeholders(rule["message"]):
        check(source, rule["scope"], boolean=False)


@pytest.mark.django_db
def test_saving_checks_types_and_disabling_never_does(shipped_types):
    data = {
        "title": "Big net",
        "severity": "high",
        "scope": "pay_stub",
        "expression": "doc.values.net_pay > 1000.0",
        "message": "Net {{ money(doc.values.net_pya) }}",
    }
    with pytest.raises(ValidationError) as caught:
        rule_validate(data=data)
    assert "did you mean net_pay?" in caught.value.message_dict["message"][0]
    rule_validate(data=data, check_types=False)


@pytest.mark.django_db
def test_a_field_an_admin_adds_to_a_type_becomes_known(shipped_types):
    pay_stub = shipped_types["pay_stub"]
    pay_stub.fields = [*pay_stub.fields, {"key": "bonus", "label": "Bonus", "kind": "money"}]
    pay_stub.save()
    data = {
        "title": "Bonus",
        "severity": "low",
        "scope": "pay_stub",
        "expression": "doc.values.bonus > 500.0",
        "message": "Bonus.",
    }
    rule_validate(data=data)


PIECES = [
    "doc",
    "docs",
    "field",
    "application",
    "today",
    "w",
    ".",
    "values",
    "fields",
    "gross_pay",
    "net_pay",
    "pay_stub",
    "w2",
    "stated",
    "name",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "?",
    "&&",
    "||",
    "!",
    "-",
    "+",
    "*",
    "/",
    "%",
    "<",
    ">=",
    "==",
    "!=",
    " in ",
    "1",
    "2.5",
    "3u",
    "'x'",
    "b'y'",
    "null",
    "true",
    "exists",
    "map",
    "filter",
    "all",
    "has",
    "size",
    "money",
    "days_between",
    "math",
    "greatest",
    "duration('1s')",
    "\n",
    "0x1F",
    "1e3",
    "r'\\d'",
]


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8))
@settings(max_examples=500)
def test_the_checker_never_fails_on_an_expression_the_binding_accepts(pieces):
    """Whatever the binding compiles, the checker answers with a verdict, never a crash."""
    text = " ".join(pieces)
    try:
        compile_expression(text)
    except ExpressionError:
        return
    for scope in ("application", "document", "field", "pay_stub"):
        try:
            check(text, scope)
        except ExpressionError as error:
            assert error.line is not None and error.message
