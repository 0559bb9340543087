import json
from datetime import date
from decimal import Decimal

import pytest

from extraction.classify import classify
from extraction.normalize import NormalizationError, normalize, normalize_rows
from extraction.providers import get_provider
from extraction.providers.base import ExtractionRequest, PageInput
from extraction.providers.local import LocalProvider
from extraction.schemas import DocumentTypeSpec, FieldSpec

CLEAN_SAMPLES = [
    "pay_stub_2026-01-30.pdf",
    "bank_statement_2026-01.pdf",
    "w2_2025.pdf",
    "utility_bill_2026-02.pdf",
]
SCAN = "pay_stub_2026-01-16_scan.png"


def _request(spec: DocumentTypeSpec, texts: list[str]) -> ExtractionRequest:
    return ExtractionRequest(
        document_type=spec,
        pages=tuple(
            PageInput(number=n, image_png=b"", text=text) for n, text in enumerate(texts, 1)
        ),
    )


def _read(rendered_samples, expected, document_types, name: str) -> tuple[dict, dict]:
    """What the provider read from a sample, normalized, beside what the sample holds."""
    spec = document_types[expected[name]["document_type"]]
    result = LocalProvider().extract(_request(spec, [page.text for page in rendered_samples[name]]))
    kinds = {field.key: field.kind for field in spec.fields}
    read = {}
    for key, value in result.values.items():
        try:
            read[key] = normalize(kinds[key], value) if value else None
        except NormalizationError:
            read[key] = f"unreadable: {value}"
    for field in spec.fields:
        if field.is_rows and result.values[field.key]:
            # Transaction dates are printed without the year; the statement's end dates them.
            rows = normalize_rows(
                columns=[(c.key, c.kind) for c in field.columns],
                value=result.values[field.key],
                reference=date.fromisoformat(expected[name]["fields"]["statement_end"]),
            )
            read[field.key] = json.loads(rows)
    return read, expected[name]["fields"]


@pytest.mark.parametrize("name", CLEAN_SAMPLES)
def test_every_field_of_a_clean_sample_is_read_right(
    name, rendered_samples, expected, document_types
):
    read, fields = _read(rendered_samples, expected, document_types, name)
    assert read == fields


def test_the_money_fields_of_the_scanned_pay_stub_are_read_right_through_ocr(
    rendered_samples, expected, document_types
):
    read, fields = _read(rendered_samples, expected, document_types, SCAN)
    money = ["gross_pay", "total_deductions", "net_pay", "ytd_gross"]
    assert {key: read[key] for key in money} == {key: fields[key] for key in money}


def test_the_other_fields_of_the_scanned_pay_stub_are_read_right_through_ocr(
    rendered_samples, expected, document_types
):
    read, fields = _read(rendered_samples, expected, document_types, SCAN)
    assert read == fields


@pytest.mark.parametrize("name", [*CLEAN_SAMPLES, SCAN])
def test_each_sample_is_classified_as_its_type(name, rendered_samples, expected, catalog):
    text = "\n".join(page.text for page in rendered_samples[name])
    assert classify(text, catalog) == expected[name]["document_type"]


@pytest.mark.parametrize(
    "text",
    ["", "Dear customer, thank you for your letter.", "Net pay 12.00  Opening balance 1.00"],
)
def test_classification_is_none_when_unsure(text, catalog):
    assert classify(text, catalog) is None


def test_the_run_records_a_free_local_reading_and_the_page_of_each_value(
    rendered_samples, expected, document_types
):
    name = "bank_statement_2026-01.pdf"
    spec = document_types["bank_statement"]
    result = LocalProvider().extract(_request(spec, [page.text for page in rendered_samples[name]]))
    assert (result.model, result.tokens_in, result.tokens_out) == ("label-patterns-v1", 0, 0)
    assert result.cost == Decimal("0")
    assert set(result.pages) == set(result.values) and set(result.pages.values()) == {1}
    found = json.loads(result.raw_response)["found"]
    assert found["closing_balance"]["label"] == "Closing balance"


def test_a_document_type_without_label_rules_yields_only_none():
    """An admin's new type has no rules yet, so the pipeline asks a person for every value."""
    spec = DocumentTypeSpec(
        key="lease_agreement",
        label="Lease",
        version=1,
        fields=(FieldSpec(key="monthly_rent", label="Monthly rent", kind="money"),),
    )
    result = LocalProvider().extract(_request(spec, ["Monthly rent: $1,450.00"]))
    assert result.values == {"monthly_rent": None}
    assert result.pages == {}


def test_a_field_whose_label_is_missing_is_none_never_guessed(document_types):
    text = "Northwind Logistics LLC\nPay date: 01/30/2026\nGross Pay   2,300.00   4,772.50\n"
    result = LocalProvider().extract(_request(document_types["pay_stub"], [text]))
    assert result.values["net_pay"] is None
    assert result.values["total_deductions"] is None
    assert result.values["gross_pay"] == "2,300.00"
    assert result.values["ytd_gross"] == "4,772.50"


def test_a_value_may_stand_under_its_label(document_types):
    text = "   NET PAY          PAY DATE\n   $1,712.98        Jan 30, 2026\n"
    result = LocalProvider().extract(_request(document_types["pay_stub"], [text]))
    assert result.values["net_pay"] == "$1,712.98"
    assert result.values["pay_date"] == "Jan 30, 2026"


def test_a_value_under_a_neighbouring_label_is_not_taken(document_types):
    text = (
        " b Employer identification number (EIN)    1 Wages, tips, other compensation\n"
        "                                             59,985.08\n"
    )
    result = LocalProvider().extract(_request(document_types["w2"], [text]))
    assert result.values["employer_ein"] is None
    assert result.values["wages"] == "59,985.08"


def test_a_value_on_a_later_page_records_that_page(document_types):
    texts = ["Everyday Checking\nTransactions", "Closing balance on January 31   $3,533.99"]
    result = LocalProvider().extract(_request(document_types["bank_statement"], texts))
    assert result.values["closing_balance"] == "$3,533.99"
    assert result.pages["closing_balance"] == 2


def test_the_registry_builds_the_local_provider():
    provider = get_provider("local")
    assert isinstance(provider, LocalProvider) and provider.name == "local"
