import pytest

from extraction.grounding import MAX_RUN, Location, PageWords, _whole, locate, locate_rows
from extraction.normalize import NormalizationError, normalize


def _line(y: float, *texts: str, x: float = 0.1) -> list[list]:
    """Words on one line, each 0.08 wide with a small gap."""
    words = []
    for text in texts:
        words.append([text, round(x, 3), y, round(x + 0.08, 3), round(y + 0.02, 3)])
        x += 0.1
    return words


def test_an_amount_is_found_in_its_printed_form():
    words = _line(0.5, "Net", "Pay", "$1,234.50")
    assert locate(value="1234.50", kind="money", pages=[(1, words)]) == Location(
        page=1, box=[0.3, 0.5, 0.38, 0.52]
    )


def test_a_date_is_found_whatever_style_the_page_prints():
    numeric = _line(0.2, "Pay", "date:", "01/15/2026")
    spelled = _line(0.2, "Period", "ending", "Jan", "15,", "2026")
    assert locate(value="2026-01-15", kind="date", pages=[(1, numeric)]).box == [
        0.3,
        0.2,
        0.38,
        0.22,
    ]
    assert locate(value="January 15, 2026", kind="date", pages=[(1, spelled)]).box == [
        0.3,
        0.2,
        0.58,
        0.22,
    ]


def test_the_page_number_is_the_page_where_the_value_stands():
    pages = [(1, _line(0.1, "Opening", "balance", "10.00")), (2, _line(0.1, "Closing", "99.00"))]
    assert locate(value="99", kind="money", pages=pages).page == 2


def test_a_name_matches_a_run_of_words_ignoring_case_and_punctuation():
    words = _line(0.1, "Pay", "to:", "JORDAN", "A.", "RIVERA,")
    location = locate(value="Jordan A. Rivera", kind="name", pages=[(1, words)])
    assert location.box == [0.3, 0.1, 0.58, 0.12]


def test_a_name_glued_or_split_differently_still_matches():
    words = _line(0.1, "Employee:", "Jordan", "A.Rivera")
    assert locate(value="Jordan A. Rivera", kind="name", pages=[(1, words)]).box == [
        0.2,
        0.1,
        0.38,
        0.12,
    ]


def test_an_address_in_a_column_beside_other_text_matches_in_pieces():
    """Reading order interleaves the address column with the column beside it."""
    words = (
        _line(0.10, "1847", "Maple", "Ridge", "Drive")
        + _line(0.10, "Account", "holder:", x=0.6)
        + _line(0.13, "Columbus,", "OH", "43214")
        + _line(0.13, "Account", "number:", x=0.6)
    )
    location = locate(
        value="1847 Maple Ridge Drive, Columbus, OH 43214", kind="address", pages=[(1, words)]
    )
    assert location.box == [0.1, 0.1, 0.48, 0.15]


def test_an_exact_word_is_preferred_to_one_inside_a_longer_word():
    words = _line(0.1, "Total:$1,234.50") + _line(0.3, "1,234.50")
    assert locate(value="1234.50", kind="money", pages=[(1, words)]).box[1] == 0.3


def test_a_value_only_inside_a_longer_word_is_still_found():
    words = _line(0.1, "DOB:03/14/1990")
    assert locate(value="1990-03-14", kind="date", pages=[(1, words)]).box == [0.1, 0.1, 0.18, 0.12]


@pytest.mark.parametrize(
    ("value", "kind"),
    [("1234.51", "money"), ("2026-01-16", "date"), ("Jordan B. Rivera", "name"), ("", "text")],
)
def test_a_value_not_on_the_page_is_not_located(value, kind):
    words = _line(0.1, "Jordan", "A.", "Rivera", "01/15/2026", "$1,234.50")
    assert locate(value=value, kind=kind, pages=[(1, words)]) is None


def test_a_value_that_cannot_be_read_as_its_kind_is_not_located():
    words = _line(0.1, "twelve")
    assert locate(value="twelve", kind="money", pages=[(1, words)]) is None


def test_every_expected_value_of_the_clean_samples_is_grounded(
    rendered_samples, expected, document_types
):
    for name, pages in rendered_samples.items():
        if not name.endswith(".pdf"):
            continue
        spec = document_types[expected[name]["document_type"]]
        kinds = {field.key: field.kind for field in spec.fields}
        page_words = [(page.number, page.words) for page in pages]
        for key, value in expected[name]["fields"].items():
            if kinds[key] == "rows":
                columns = next(f.columns for f in spec.fields if f.key == key)
                found = locate_rows(
                    rows=value, columns=[(c.key, c.kind) for c in columns], pages=page_words
                )
                missing = [row for row, at in zip(value, found, strict=True) if at is None]
                assert not missing, (name, key, missing)
                continue
            location = locate(value=value, kind=kinds[key], pages=page_words)
            assert location is not None, (name, key, value)
            x0, y0, x1, y1 = location.box
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1


def test_identical_rows_take_their_own_lines_in_order_through_one_index():
    """The index tries only the lines that hold a row's amount, and skips the ones taken."""
    from extraction.grounding import PageWords

    tops = [round(0.01 + 0.03 * n, 3) for n in range(30)]
    lines = [_line(top, "01/05", "COFFEE", "SHOP", "4.50") for top in tops]
    pages = [
        (1, [w for line in lines[:15] for w in line]),
        (2, [w for line in lines[15:] for w in line]),
    ]
    rows = [{"date": "2026-01-05", "description": "Coffee Shop", "amount": "-4.50"}] * 31
    columns = [("description", "text"), ("amount", "money")]

    index = PageWords(pages)
    found = locate_rows(rows=rows, columns=columns, pages=index)

    assert found == locate_rows(rows=rows, columns=columns, pages=pages)
    assert [(f.page, f.box[1]) for f in found[:30]] == [
        (1 if n < 15 else 2, top) for n, top in enumerate(tops)
    ]
    assert found[30] is None  # a 31st purchase has no line of its own
    # The same index grounds the document's other values.
    assert locate(value="4.50", kind="money", pages=index) == locate(
        value="4.50", kind="money", pages=pages
    )


def _amounts_of_every_run(line: list[list]) -> dict[str, list[list]]:
    """Each amount on a printed line by reading every run of its words (the index's oracle)."""
    found: dict[str, list[list]] = {}
    for start in range(len(line)):
        for end in range(start + 1, min(start + MAX_RUN["money"], len(line)) + 1):
            try:
                canonical = normalize("money", " ".join(w[0] for w in line[start:end]))
            except NormalizationError:
                continue
            unsigned = canonical.lstrip("-")
            if unsigned not in found and _whole("money", line, start, end):
                found[unsigned] = line[start:end]
    return found


_PRINTED_AMOUNTS = [
    ("01/05", "POS", "PURCHASE", "$", "1,234.50", "CR"),
    ("(", "45.00", ")", "USD", "12.00", "Cr."),
    ("1", "234,50", "\u20ac", "DEPOSIT", "-", "4.50"),
    ("4.50", "-", "2", "450.00", "($", "3.00)", "-$", "7.25"),
    ("Fr.", "10.00", "kr", "5,00", "RM", "12.30", "1US2", "x"),
    ("1", "234", "567.89", "PURCHASE", "12.00", "USD", "12.00", "DEBIT"),
    ("(", "-", "1.00", ")", "+", "3.00", "3.00", "USDX", "1\u2019234.50", "1\u00a0234.50"),
    ("credit", "5.00", "5.00", "credit.", "(5.00", "CR)", "USUS", "5.00", "H\u212a$", "6.00"),
    ("Total:$1,234.50", "1,234.50", ".", "5.00", "5", ".00", "5.", "00", "#12", "8.00"),
]


def test_each_line_holds_the_amounts_a_reading_of_every_run_finds(rendered_samples):
    """The index skips runs of words that cannot read as money, and finds on every line the
    same amounts, at the same words, as reading every run of up to MAX_RUN words."""
    documents = {
        name: [(page.number, page.words) for page in pages]
        for name, pages in rendered_samples.items()
    }
    documents["printed amounts"] = [
        (1, [w for n, texts in enumerate(_PRINTED_AMOUNTS) for w in _line(0.03 * n, *texts)])
    ]
    for name, pages in documents.items():
        index = PageWords(pages)
        lines = index.lines()
        assert lines, name
        for (_, line), amounts in zip(lines, index._line_amounts, strict=True):
            assert amounts == _amounts_of_every_run(line), (name, [w[0] for w in line])
