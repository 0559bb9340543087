from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extraction.normalize import NormalizationError, mask, may_stand_in_amount, normalize


@pytest.mark.parametrize(
    ("printed", "canonical"),
    [
        ("$1,234.50", "1234.50"),
        ("1234.5", "1234.50"),
        ("(12.00)", "-12.00"),
        ("-12", "-12.00"),
        ("-$12.00", "-12.00"),
        ("12.00-", "-12.00"),
        ("1.234,50", "1234.50"),
        ("12,50", "12.50"),
        ("1,234", "1234.00"),
        ("1 234,50", "1234.50"),
        ("USD 5.5", "5.50"),
        ("$0.00", "0.00"),
        ("-0.00", "0.00"),
        ("1,841,45", "1841.45"),
    ],
)
def test_money_is_a_plain_decimal_with_two_places(printed, canonical):
    assert normalize("money", printed) == canonical


@pytest.mark.parametrize(
    "printed",
    [
        "01/15/2026",
        "1/15/2026",
        "01-15-2026",
        "1/15/26",
        "Jan 15, 2026",
        "Jan. 15, 2026",
        "January 15 2026",
        "january 15th, 2026",
        "2026-01-15",
        "2026/01/15",
        "15 Jan 2026",
        "15-Jan-2026",
    ],
)
def test_dates_in_common_us_styles_become_iso(printed):
    assert normalize("date", printed) == "2026-01-15"


def test_two_digit_years_use_the_strptime_pivot():
    assert normalize("date", "03/14/68") == "2068-03-14"
    assert normalize("date", "03/14/69") == "1969-03-14"


@pytest.mark.parametrize(
    ("kind", "printed", "canonical"),
    [
        ("integer", "2,026", "2026"),
        ("integer", " 2026 ", "2026"),
        ("ssn", "123 45 6789", "123-45-6789"),
        ("ssn", "123456789", "123-45-6789"),
        ("ein", "123456789", "12-3456789"),
        ("ein", "12-3456789", "12-3456789"),
        ("account", "4417 0093 2281", "441700932281"),
        ("account", "d123-456-789", "D123456789"),
        ("account", "****1234", "****1234"),
        ("account", "XXXX-1234", "****1234"),
        ("name", "  Jordan   A.\nRivera ", "Jordan A. Rivera"),
        (
            "address",
            "1847 Maple Ridge Drive,\n Columbus, OH 43214",
            "1847 Maple Ridge Drive, Columbus, OH 43214",
        ),
        ("a_kind_added_later", " some  text ", "some text"),
    ],
)
def test_identifiers_and_text_have_one_canonical_form(kind, printed, canonical):
    assert normalize(kind, printed) == canonical


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("money", "twelve dollars", "Enter an amount such as 1,234.50."),
        ("money", "12.00 USD extra", "Enter an amount such as 1,234.50."),
        (
            "date",
            "02/30/2026",
            "02/30/2026 is not a date when read month first (MM/DD/YYYY). Enter a date such as "
            "01/15/2026.",
        ),
        ("date", "Smarch 3, 2026", "Enter a date such as 01/15/2026."),
        ("integer", "12.5", "Enter a whole number such as 2026."),
        ("ssn", "123-45-678", "Enter a Social Security number such as 123-45-6789."),
        ("ssn", "XXX-XX-6789", "Enter a Social Security number such as 123-45-6789."),
        ("ein", "12-345", "Enter an employer ID number such as 12-3456789."),
        ("account", "----", "Enter the number using letters and digits only."),
        ("name", "   ", "Enter a value."),
    ],
)
def test_unreadable_values_raise_a_plain_language_error(kind, value, message):
    with pytest.raises(NormalizationError) as caught:
        normalize(kind, value)
    assert str(caught.value) == message


def test_normalization_error_is_a_value_error():
    assert issubclass(NormalizationError, ValueError)


def test_masks_keep_only_the_last_four():
    assert mask("ssn", "123-45-6789") == "***-**-6789"
    assert mask("account", "4417 0093 2281") == "\u2022\u2022\u2022\u20222281"
    assert mask("ein", "12-3456789") == "**-***6789"


def test_masks_hide_short_values_and_other_kinds_whole():
    assert mask("account", "12") == "\u2022" * 4
    assert mask("date", "1990-03-14") == "\u2022" * 6


amounts = st.decimals(
    min_value=Decimal("-999999999.99"),
    max_value=Decimal("999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


def _money_styles(amount: Decimal) -> list[str]:
    magnitude = abs(amount)
    us = f"{magnitude:,.2f}"
    european = us.replace(",", "_").replace(".", ",").replace("_", ".")
    styles = [f"${us}", us, f"{magnitude:.2f}", european, f"USD {us}", us.replace(",", " ")]
    if amount < 0:
        return [f"({s})" for s in styles] + [f"-{s}" for s in styles] + [f"{us}-"]
    return styles


@given(amounts)
def test_money_printed_in_any_common_style_reads_back_the_same(amount):
    """An amount printed US, European, with or without a sign or grouping reads back unchanged."""
    canonical = "0.00" if amount == 0 else f"{amount:.2f}"
    for printed in _money_styles(amount):
        assert normalize("money", printed) == canonical, printed


@given(st.dates(min_value=date(1969, 1, 1), max_value=date(2068, 12, 31)))
def test_dates_printed_in_any_common_style_read_back_the_same(day):
    """A date printed numerically, with a month name, or ISO reads back as the same ISO date."""
    styles = [
        f"{day:%m/%d/%Y}",
        f"{day.month}/{day.day}/{day.year}",
        f"{day:%m/%d/%y}",
        f"{day:%m-%d-%Y}",
        f"{day:%b} {day.day}, {day.year}",
        f"{day:%B} {day.day} {day.year}",
        f"{day:%b}. {day.day}, {day.year}",
        f"{day.day} {day:%b} {day.year}",
        f"{day:%d-%b-%Y}",
        day.isoformat(),
        f"{day:%B} {day.day}, {day.year}".upper(),
    ]
    for printed in styles:
        assert normalize("date", printed) == day.isoformat(), printed


# Pieces of printed amounts, and of what stands beside them on a statement's line.
_AMOUNT_PIECES = [
    *("(", ")", "-", "\u2212", "+", "$", "US", "US$", "USD", "S", "D", "\u20ac", "kr", "Fr."),
    *("Fr", "CR", "Cr.", "credit", "DEBIT", "dr", "1", "12", "234", "567", ".50", ",50"),
    *(",", ".", "'", "\u2019", " ", " ", " ", "\u00a0", "PAY", "X", "C", "R", "e", "H\u212a$"),
]


@given(st.lists(st.sampled_from(_AMOUNT_PIECES), min_size=1, max_size=8))
def test_every_word_of_an_amount_without_a_digit_may_stand_in_one(pieces):
    """Whatever reads as money, each of its words without a digit may stand in an amount."""
    text = "".join(pieces)
    try:
        normalize("money", text)
    except NormalizationError:
        return
    for word in text.split():
        assert any(c.isdigit() for c in word) or may_stand_in_amount(word), (text, word)


@pytest.mark.parametrize(
    "printed",
    [
        "$ 1,234.50 CR",
        "( 45.00 )",
        "USD 12.00 Cr.",
        "1 234,50 \u20ac",
        "- 4.50",
        "4.50 -",
        "(- 1.00 )",
        "US$ 9.99",
        "Fr. 10.00",
        "kr 5,00",
        "5.00 credit.",
        "(5.00 CR)",
        "+ 3.00",
    ],
)
def test_the_words_of_amounts_printed_over_several_words_may_stand_in_one(printed):
    """A sign, a parenthesis, a currency or a credit marker printed apart may stand in an
    amount; and the amount still reads as money."""
    normalize("money", printed)
    assert all(
        may_stand_in_amount(word) for word in printed.split() if not any(c.isdigit() for c in word)
    )


@pytest.mark.parametrize("word", ["PURCHASE", "USDX", "Fr", "x", "#", "US$" * 5000 + "X"])
def test_other_words_cannot_stand_in_an_amount(word):
    """A word no amount can hold is refused at once, even one built to make a search backtrack."""
    assert not may_stand_in_amount(word)
