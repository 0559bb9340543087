"""A file that holds several documents is split into one Document per part, each read alone."""

from __future__ import annotations

import io
import random

from pypdf import PdfReader, PdfWriter

from extraction.models import Document
from extraction.pipeline import document_process
from extraction.split import Part, split_plan
from samples.payroll import FIRST_PERIOD_START, pay_stub_pdf, payroll
from tests.extraction.conftest import upload_and_read


def concatenated(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for data in pdfs:
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_two_pay_stubs_a_two_page_statement_and_a_w2_become_four_documents(
    settings, applicant_application, sample_paths
):
    settings.EXTRACTION_SECOND_PROVIDER = ""
    checks = payroll(random.Random(3), FIRST_PERIOD_START, 2)  # noqa: S311 - test data
    first_stub = pay_stub_pdf(checks[:1], employee_id="004512", ssn_last4="6789")
    bundle = concatenated(
        first_stub,
        sample_paths["pay_stub_2026-01-30.pdf"].read_bytes(),
        sample_paths["bank_statement_2026-01.pdf"].read_bytes(),
        sample_paths["w2_2025.pdf"].read_bytes(),
    )

    original = upload_and_read(applicant_application, bundle, name="bundle.pdf")

    assert original.status == Document.Status.SPLIT
    assert "4 documents" in original.reason
    parts = list(original.parts.order_by("page_start"))
    assert [(p.document_type.key, p.page_start, p.page_end) for p in parts] == [
        ("pay_stub", 1, 1),
        ("pay_stub", 2, 2),
        ("bank_statement", 3, 4),
        ("w2", 5, 5),
    ]
    assert {p.original.name for p in parts} == {original.original.name}
    assert {p.sha256 for p in parts} == {original.sha256}
    assert [p.pages.count() for p in parts] == [1, 1, 2, 1]
    assert parts[2].pages.get(number=2).text == original.pages.get(number=4).text

    for part in parts:
        document_process(document_id=part.pk)

    read = [Document.objects.get(pk=p.pk) for p in parts]
    assert [d.status for d in read] == [Document.Status.EXTRACTED] * 4
    net_pays = [d.fields.get(key="net_pay").value for d in read[:2]]
    assert net_pays[0] != net_pays[1] and all(net_pays)
    assert len(read[2].fields.get(key="transactions").rows) == 23
    assert read[3].fields.get(key="employer_ein").grounded


def test_a_document_of_known_type_is_never_split(
    settings, applicant_application, shipped_types, sample_paths
):
    bundle = concatenated(
        sample_paths["pay_stub_2026-01-30.pdf"].read_bytes(),
        sample_paths["w2_2025.pdf"].read_bytes(),
    )

    document = upload_and_read(
        applicant_application, bundle, document_type=shipped_types["pay_stub"]
    )

    assert document.status == Document.Status.EXTRACTED
    assert not document.parts.exists()


def test_pages_that_say_they_continue_stay_with_their_document(catalog):
    pages = [
        "EARNINGS STATEMENT Pay period Net pay Gross pay",
        "Opening balance Statement period Page 1 of 3",
        "Transactions (continued)",
        "Opening balance Statement period Page 3 of 3",
        "Form W-2 Wage and Tax Statement",
    ]

    assert split_plan(pages, catalog) == [
        Part("pay_stub", 1, 1),
        Part("bank_statement", 2, 4),
        Part("w2", 5, 5),
    ]


def test_a_single_document_is_one_part(catalog):
    plan = split_plan(["Form W-2 Wage and Tax Statement", "instructions for employee"], catalog)
    assert plan == [Part("w2", 1, 2)]
