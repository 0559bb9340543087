"""The offline reader is driven by each type's definition: data, never code of its own.

Invoices in five languages and three layouts, receipts as OCR prints them, and every rule of
the definition (labels per language, exclusions, where the value stands, which candidate,
unlabelled regions, lines under another field) each pinned by what it reads.
"""

from __future__ import annotations

import time

import pytest

from extraction.catalog import shipped_document_types, shipped_spec
from extraction.classify import catalog_of, classify
from extraction.ingest import render_pages
from extraction.models import FieldKind
from extraction.normalize import DateReading, normalize
from extraction.providers.base import ExtractionRequest, PageInput
from extraction.providers.local import LocalProvider
from extraction.schemas import DocumentTypeSpec
from extraction.type_definition import (
    FIELD_KINDS,
    DefinitionError,
    definition_from_data,
)
from tests.extraction.invoices import invoice_pdf, invoices


def _read(spec: DocumentTypeSpec, *texts: str) -> dict[str, str | None]:
    pages = tuple(
        PageInput(number=number, image_png=b"", text=text)
        for number, text in enumerate(texts, start=1)
    )
    result = LocalProvider().extract(ExtractionRequest(document_type=spec, pages=pages))
    return result.values


def _canonical(spec: DocumentTypeSpec, values: dict[str, str | None]) -> dict[str, str | None]:
    order = spec.date_order
    return {
        field.key: normalize(field.kind, values[field.key], dates=DateReading(order, field.era))
        if values[field.key]
        else None
        for field in spec.fields
    }


def _spec(fields: list[dict], **attributes) -> DocumentTypeSpec:
    data = {"key": "sample", "label": "Sample", "fields": fields, **attributes}
    checked = definition_from_data(data).model_dump(mode="json", exclude_defaults=True)
    return DocumentTypeSpec.from_dict(checked)


@pytest.mark.parametrize("invoice", invoices(), ids=lambda i: f"{i.language}-{i.layout}")
def test_an_invoice_in_any_of_five_languages_and_three_layouts_is_read_right(invoice):
    spec = shipped_spec("invoice")
    pages = list(
        render_pages(data=invoice_pdf(invoice), media_type="application/pdf", max_pixels=1600)
    )

    values = _read(spec, *(page.text for page in pages))

    assert _canonical(spec, values) == invoice.expected()


def test_each_invoice_is_classified_as_an_invoice():
    catalog = catalog_of(DocumentTypeSpec.from_dict(d) for d in shipped_document_types())
    for invoice in invoices()[::3]:
        pages = render_pages(
            data=invoice_pdf(invoice), media_type="application/pdf", max_pixels=1600
        )
        assert classify("\n".join(page.text for page in pages), catalog) == "invoice"


# A receipt as OCR prints a photo of one: letterhead without labels, a registration number
# under the name, the time run into the date, a subtotal, tax and rounding before the total.
RECEIPT = """\
                  158
   Harbour  Noodle  House  Sdn  Bhd
              (65351-M)
   12,Jalan Pantai  Baru, 59200 Kuala Lumpur
   （GST  ID  No: 000504664064)
        TelNo.   03-9010-9849
              TAX INVOICE
20/06/1800:05  90554014145    331
QTY ITEM                          TOTAL
  1 Char Kway Teow                 11.10
  2 Iced Lemon Tea                  7.80
Total (Excluding GST):             17.83
GST payable (6%):                   1.07
Total (Inclusive of GST):          18.90
Rounding Adj:                       0.00
TOTAL:                             18.90
Cash  Tendered                     50.00
Change                             31.10
TOTAL INCLUDES 6% GST               1.07
"""


def test_a_receipt_photo_is_read_from_its_letterhead_and_its_last_total():
    values = _read(shipped_spec("receipt"), RECEIPT)

    assert values == {
        "merchant_name": "Harbour Noodle House Sdn Bhd",
        "merchant_address": "12,Jalan Pantai Baru, 59200 Kuala Lumpur",
        "date": "20/06/18",
        "total": "18.90",
    }


def test_a_receipt_without_a_legal_form_takes_its_first_line_of_letters_as_the_merchant():
    text = "  0042\n  RESTORAN  WAN  SHENG\n  No. 2, Jalan Temenggung 19/9\n  43200 Cheras\n"
    text += "Date : 06-05-2018 12:43:19\nTOTAL:   2.40\n"

    values = _read(shipped_spec("receipt"), text)

    assert values["merchant_name"] == "RESTORAN WAN SHENG"
    assert values["merchant_address"] == "No. 2, Jalan Temenggung 19/9 43200 Cheras"
    assert normalize("date", values["date"], dates=DateReading("DMY")) == "2018-05-06"


def test_the_largest_last_and_first_candidates_are_taken_as_the_rule_says():
    text = "Total  10.00\nTotal  30.00\nTotal  20.00\n"
    for choose, expected in (("first", "10.00"), ("last", "20.00"), ("largest", "30.00")):
        spec = _spec(
            [
                {
                    "key": "total",
                    "label": "T",
                    "kind": "money",
                    "read": [{"labels": ["Total"], "choose": choose}],
                }
            ]
        )
        assert _read(spec, text)["total"] == expected, choose


def test_an_excluded_label_is_never_taken_for_the_label_inside_it():
    spec = _spec(
        [
            {
                "key": "total",
                "label": "Total",
                "kind": "money",
                "read": [{"labels": ["Total"], "exclude": ["Sub total", "Total qty"]}],
            }
        ]
    )

    assert _read(spec, "Sub total  8.00\nTotal qty  2.00\nTotal  9.50\n")["total"] == "9.50"


def test_labels_in_any_language_anchor_the_same_field():
    spec = _spec(
        [
            {
                "key": "number",
                "label": "Number",
                "kind": "reference",
                "read": [{"labels": {"en": ["Invoice no"], "de": ["Rechnungsnummer"]}}],
            }
        ]
    )

    assert _read(spec, "Rechnungsnummer: RE-77\n")["number"] == "RE-77"
    assert _read(spec, "Invoice no  INV-9\n")["number"] == "INV-9"


def test_the_next_cell_takes_only_the_cell_right_of_the_label():
    spec = _spec(
        [
            {
                "key": "holder",
                "label": "Holder",
                "kind": "name",
                "read": [{"labels": ["Holder"], "where": ["cell"]}],
            }
        ]
    )

    assert _read(spec, "Holder   Ana Ruiz   Account  4417\n")["holder"] == "Ana Ruiz"


def test_an_unlabelled_value_is_taken_from_the_region_only():
    spec = _spec(
        [
            {
                "key": "issuer",
                "label": "Issuer",
                "kind": "name",
                "read": [{"region": "top", "lines": 2, "exclude": ["Receipt"]}],
            }
        ]
    )

    assert _read(spec, "RECEIPT\n12.00\nMain Street Bakery\n")["issuer"] is None
    assert _read(spec, "RECEIPT\nMain Street Bakery\n")["issuer"] == "Main Street Bakery"


def test_lines_under_another_field_stop_at_a_stop_phrase():
    spec = _spec(
        [
            {"key": "name", "label": "Name", "kind": "name", "read": [{"labels": ["Name:"]}]},
            {
                "key": "address",
                "label": "Address",
                "kind": "address",
                "read": [{"after": "name", "lines": 5, "stop": ["Tel"]}],
            },
        ]
    )

    values = _read(spec, "Name: Ana Ruiz\n4 Elm Road\nSpringfield\nTel 555-0101\nOther\n")

    assert values == {"name": "Ana Ruiz", "address": "4 Elm Road Springfield"}


def test_nothing_is_read_for_a_field_without_rules_and_nothing_is_guessed():
    spec = _spec([{"key": "total", "label": "Total", "kind": "money"}])

    assert _read(spec, "Total 12.00\n") == {"total": None}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"label": "Total", "kind": "money"}], "fields row 1, key: is required"),
        (
            [{"key": "total", "label": "Total", "kind": "monney"}],
            "fields row 1 (total), kind: choose one of",
        ),
        ("total", "fields: Input should be a valid list"),
        (
            [{"key": "total", "label": "T", "kind": "money", "read": [{"pattern": "(oops"}]}],
            "fields row 1 (total), read row 1, pattern: the pattern is not a valid regular",
        ),
        (
            [{"key": "a", "label": "A", "read": [{"after": "nowhere", "lines": 2}]}],
            "field a: after names nowhere, which is not a field",
        ),
        (
            [{"key": "a", "label": "A", "read": [{"labels": ["A"], "chose": "last"}]}],
            "fields row 1 (a), read row 1, chose: is not a known setting",
        ),
        (
            [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}],
            "field keys must be unique; repeated: a",
        ),
    ],
)
def test_a_malformed_definition_is_refused_with_a_message_naming_the_row(fields, message):
    with pytest.raises(DefinitionError) as refused:
        definition_from_data({"key": "sample", "label": "Sample", "fields": fields})

    assert any(line.startswith(message) for line in refused.value.messages), refused.value.messages


def test_every_shipped_type_is_a_valid_definition_with_rules_for_its_fields():
    for data in shipped_document_types():
        spec = DocumentTypeSpec.from_dict(data)
        assert spec.keywords, spec.key
        unread = [f.key for f in spec.fields if not f.read and not f.is_rows]
        assert unread == [], spec.key


def test_the_definition_knows_every_kind_a_field_can_be_stored_as():
    assert set(FIELD_KINDS) == set(FieldKind.values)


LEASE = {
    "key": "lease",
    "label": "Residential lease",
    "keywords": [
        {"phrase": "Residential lease agreement", "weight": 3},
        {"phrase": "Landlord", "weight": 1},
    ],
    "fields": [
        {
            "key": "tenant_name",
            "label": "Tenant",
            "kind": "name",
            "required": True,
            "read": [{"labels": {"en": ["Tenant:"], "fr": ["Locataire:"]}}],
        },
        {
            "key": "monthly_rent",
            "label": "Monthly rent",
            "kind": "money",
            "required": True,
            "read": [{"labels": ["Monthly rent", "Loyer mensuel"], "exclude": ["Rent deposit"]}],
        },
        {
            "key": "start_date",
            "label": "Lease start",
            "kind": "date",
            "era": "recent",
            "read": [{"labels": ["Commencing on", "Start date"]}],
        },
    ],
}


def test_a_type_an_admin_defined_is_classified_and_read_offline_with_no_code(
    applicant_application, shipped_types
):
    from extraction.models import DocumentType
    from tests.extraction.conftest import text_pdf, upload_and_read

    definition = definition_from_data(LEASE).model_dump(mode="json", exclude_defaults=True)
    DocumentType.objects.create(
        key="lease",
        label="Residential lease",
        fields=definition["fields"],
        keywords=definition["keywords"],
    )
    lease = text_pdf(
        [
            "RESIDENTIAL LEASE AGREEMENT\n"
            "Landlord: Oakridge Property Management\n"
            "Tenant: Jordan A. Rivera\n"
            "Commencing on 03/01/2026 for twelve months\n"
            "Rent deposit  $3,600.00\n"
            "Monthly rent  $1,800.00\n"
        ]
    )

    document = upload_and_read(applicant_application, lease, name="lease.pdf")

    assert document.document_type.key == "lease"
    values = {field.key: field.normalized for field in document.fields.all()}
    assert values == {
        "tenant_name": "Jordan A. Rivera",
        "monthly_rent": "1800.00",
        "start_date": "2026-03-01",
    }
    assert all(field.grounded for field in document.fields.all())


def test_a_label_misread_by_one_character_is_found_when_no_label_is_printed_as_written():
    spec = _spec(
        [
            {
                "key": "due",
                "label": "Due",
                "kind": "money",
                "read": [{"labels": ["Amount due"], "exclude": ["Total includes"]}],
            }
        ]
    )

    assert _read(spec, "Anount due   5.00 RM\n")["due"] == "5.00 RM"
    assert _read(spec, "Amount due  7.00\nAnount due  5.00\n")["due"] == "7.00"


def test_a_loose_match_is_never_another_label_of_the_type():
    spec = _spec(
        [
            {
                "key": "employee",
                "label": "Employee",
                "kind": "name",
                "read": [{"labels": ["Employee name"]}],
            },
            {
                "key": "employer",
                "label": "Employer",
                "kind": "name",
                "read": [{"labels": ["Employer name"]}],
            },
        ]
    )

    values = _read(spec, "Employee name: Ana Ruiz\n")

    assert values == {"employee": "Ana Ruiz", "employer": None}


# Catastrophic-backtracking patterns (each takes 2ⁿ steps in ``re`` on n letters and a stop):
# the reader gives such a rule up within its time limit, never hangs a worker or the admin's
# preview, and still reads the other fields.
HOSTILE_PATTERNS = (r"^(?P<value>(\w+\s?)+)$", r"^(?P<value>(a|aa)+)$")


def test_a_backtracking_pattern_cannot_hang_the_reader():
    spec = _spec(
        [
            {
                "key": "company",
                "label": "Company",
                "kind": "name",
                "read": [
                    *({"pattern": p, "region": "top", "lines": 200} for p in HOSTILE_PATTERNS),
                    *({"pattern": p} for p in HOSTILE_PATTERNS),
                ],
            },
            {"key": "total", "label": "Total", "kind": "money", "read": [{"labels": ["Total"]}]},
        ]
    )
    page = "\n".join(["a" * 40 + "!"] * 200 + ["Total 12.50"])
    started = time.monotonic()
    values = _read(spec, page, page)
    assert time.monotonic() - started < 10
    assert values == {"company": None, "total": "12.50"}
