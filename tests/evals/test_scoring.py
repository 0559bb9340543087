"""Scoring a field: exact, after normalization, correctly blank, missing, invented, wrong."""

from __future__ import annotations

import pytest

from evals import scoring
from extraction.schemas import ColumnSpec, FieldSpec

MONEY = FieldSpec(key="net_pay", label="Net pay", kind="money", required=True)
NAME = FieldSpec(key="employee_name", label="Employee", kind="name")
ROWS = FieldSpec(
    key="transactions",
    label="Transactions",
    kind="rows",
    columns=(
        ColumnSpec("date", "Date", "date"),
        ColumnSpec("description", "Description"),
        ColumnSpec("amount", "Amount", "money"),
    ),
)


@pytest.mark.parametrize(
    ("spec", "expected", "value", "outcome"),
    [
        (MONEY, "1234.50", "1234.50", scoring.EXACT),
        (MONEY, "1234.50", "$1,234.50", scoring.NORMALIZED),
        (MONEY, "$1,234.50", "1234.50", scoring.NORMALIZED),  # a real answer file, as printed
        (MONEY, None, None, scoring.ABSENT),
        (MONEY, None, "", scoring.ABSENT),
        (MONEY, "1234.50", None, scoring.MISSING),
        (MONEY, None, "9999.00", scoring.INVENTED),
        (MONEY, "1234.50", "1243.50", scoring.WRONG),
        (MONEY, "1234.50", "twelve", scoring.WRONG),
        (NAME, "Jordan A. Rivera", "JORDAN  A. RIVERA", scoring.NORMALIZED),
        (NAME, "Jordan A. Rivera", "Jordan Rivera", scoring.WRONG),
    ],
)
def test_outcome(spec, expected, value, outcome):
    assert scoring.outcome(spec, expected=expected, value=value) == outcome


def test_rows_match_after_normalizing_each_cell():
    """Rows read with printed dates and amounts match rows answered in canonical form."""
    from datetime import date

    expected = [{"date": "2026-01-02", "description": "RENT", "amount": "-1450.00"}]
    read = '[{"date": "01/02", "description": "RENT", "amount": "-$1,450.00"}]'
    result = scoring.outcome(ROWS, expected=expected, value=read, value_reference=date(2026, 1, 31))
    assert result == scoring.NORMALIZED
    assert scoring.outcome(ROWS, expected=[], value=read) == scoring.INVENTED


def test_tally_rates_count_blanks_as_correct_but_not_as_matches():
    tally = scoring.FieldTally(required=True)
    for outcome, grounded in [
        (scoring.EXACT, True),
        (scoring.NORMALIZED, False),
        (scoring.ABSENT, None),
        (scoring.MISSING, None),
        (scoring.INVENTED, False),
    ]:
        tally.add(outcome, grounded=grounded)
    summary = tally.summary()
    assert summary["accuracy"] == 3 / 5
    assert summary["match_rate"] == 2 / 3
    assert summary["empty_rate"] == 1 / 3
    assert summary["invented"] == 1
    assert summary["grounded_rate"] == 1 / 3
