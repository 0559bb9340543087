"""Export cells never start a spreadsheet formula (OWASP CSV injection)."""

import pytest

from core.exports import csv_rows, safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-612.45", "-612.45"),
        ("42", "42"),
        ("Ann = Bob", "Ann = Bob"),
        (None, ""),
        (7, "7"),
    ],
)
def test_a_cell_that_would_start_a_formula_gets_a_quote(value, cell):
    assert safe_cell(value) == cell


def test_every_cell_of_every_row_is_made_safe():
    assert list(csv_rows([["=a", "b"], ["c", "@d"]])) == ["'=a,b\r\n", "c,'@d\r\n"]
