import json
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
from django.core.management import call_command
from PIL import Image

from samples.generate import expected_path, generate_samples, main
from samples.layout import APPLICANT, EMPLOYER


def test_the_set_holds_a_pay_stub_a_statement_a_w2_a_bill_and_a_scan(sample_paths, expected):
    types = sorted(e["document_type"] for e in expected.values())
    assert types == ["bank_statement", "pay_stub", "pay_stub", "utility_bill", "w2"]
    assert sorted(path.suffix for path in sample_paths.values()) == [".pdf"] * 4 + [".png"]


def test_every_document_has_its_expected_values_beside_it(sample_paths):
    for path in sample_paths.values():
        assert expected_path(path).exists()


def test_expected_values_cover_every_field_of_the_document_type(expected, document_types):
    for name, answer in expected.items():
        spec = document_types[answer["document_type"]]
        assert set(answer["fields"]) == {field.key for field in spec.fields}, name


def test_the_same_seed_writes_the_same_bytes(tmp_path):
    first = generate_samples(tmp_path / "a", seed=3)
    second = generate_samples(tmp_path / "b", seed=3)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert expected_path(a).read_text() == expected_path(b).read_text()


def test_another_seed_writes_other_amounts(tmp_path, expected):
    other = generate_samples(tmp_path, seed=8)
    stub = json.loads(expected_path(other[0]).read_text())
    assert stub["fields"]["net_pay"] != expected["pay_stub_2026-01-30.pdf"]["fields"]["net_pay"]


def test_a_pay_stub_adds_up(expected):
    for name in ("pay_stub_2026-01-30.pdf", "pay_stub_2026-01-16_scan.png"):
        fields = expected[name]["fields"]
        gross, deductions, net = (
            Decimal(fields[k]) for k in ("gross_pay", "total_deductions", "net_pay")
        )
        assert gross - deductions == net


def test_a_pay_stubs_lines_add_up_to_its_totals(rendered_samples):
    """Earnings lines make the gross pay and deduction lines make the total, on the page."""
    (page,) = rendered_samples["pay_stub_2026-01-30.pdf"]
    rows = {}
    for line in page.text.splitlines():
        label, *amounts = [part.strip() for part in line.split("  ") if part.strip()]
        if amounts:
            rows[label] = [Decimal(a.replace(",", "")) for a in amounts if a[0].isdigit()]
    assert rows["Regular"][2] + rows["Overtime"][2] == rows["Gross Pay"][0]
    deductions = [
        "Federal Income Tax",
        "OH State Income Tax",
        "Social Security",
        "Medicare",
        "401(k) Pre-Tax",
    ]
    for column in (0, 1):
        assert sum(rows[d][column] for d in deductions) == rows["Total Deductions"][column]
    assert rows["Gross Pay"][0] - rows["Total Deductions"][0] == rows["Net Pay"][0]


def test_a_bank_statement_adds_up(expected):
    fields = expected["bank_statement_2026-01.pdf"]["fields"]
    opening, deposits, withdrawals, closing = (
        Decimal(fields[k])
        for k in ("opening_balance", "total_deposits", "total_withdrawals", "closing_balance")
    )
    assert opening + deposits - withdrawals == closing


def test_the_bank_statement_has_two_pages_and_receives_the_pay(sample_paths, expected):
    document = pdfium.PdfDocument(sample_paths["bank_statement_2026-01.pdf"].read_bytes())
    text = "".join(page.get_textpage().get_text_range() for page in document)
    assert len(document) == 2
    for stub in ("pay_stub_2026-01-30.pdf", "pay_stub_2026-01-16_scan.png"):
        assert f"{Decimal(expected[stub]['fields']['net_pay']):,}" in text


def test_the_documents_belong_to_one_applicant_and_employer(expected):
    fields = [answer["fields"] for answer in expected.values()]
    names = {f.get("employee_name") or f.get("account_holder") for f in fields}
    assert names == {APPLICANT}
    assert {f["employer_name"] for f in fields if "employer_name" in f} == {EMPLOYER}


def test_the_scan_is_a_tilted_grey_image(sample_paths):
    image = Image.open(sample_paths["pay_stub_2026-01-16_scan.png"])
    assert image.mode == "L"
    # The tilt uncovers darker corners; the paper itself is grey, not white.
    assert image.getpixel((2, 2)) < 215
    assert max(image.getextrema()) < 255


def test_the_command_line_writes_the_samples(tmp_path, capsys):
    main([str(tmp_path)])
    printed = capsys.readouterr().out.split()
    written = sorted(path.name for path in tmp_path.glob("*.p[dn][fg]"))
    assert sorted(Path(p).name for p in printed) == written


def test_the_management_command_writes_to_the_folder_given(tmp_path, capsys):
    call_command("generate_samples", "--out", str(tmp_path / "out"))
    assert len(list((tmp_path / "out").glob("*.expected.json"))) == 5
