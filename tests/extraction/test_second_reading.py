"""A second, independent reading: each field records whether the two readings agree."""

from __future__ import annotations

from extraction.models import Agreement, Document, ExtractionRun
from tests.extraction.conftest import upload_and_read

NAME = "pay_stub_2026-01-30.pdf"


def llm_answer(expected):
    """What the LLM reads: right except a misread net pay and a missed year-to-date gross."""
    fields = expected[NAME]["fields"]
    return {
        "employee_name": fields["employee_name"],
        "employer_name": fields["employer_name"],
        "pay_period_start": fields["pay_period_start"],
        "pay_period_end": fields["pay_period_end"],
        "pay_date": fields["pay_date"],
        "gross_pay": f"${fields['gross_pay']}",
        "total_deductions": fields["total_deductions"],
        "net_pay": "1,998.08",
        "ytd_gross": None,
    }


def test_each_field_says_whether_the_second_reading_agrees(
    llm_settings, fake_llm, applicant_application, shipped_types, sample_paths, expected
):
    llm_settings.EXTRACTION_PROVIDER = "openai"
    llm_settings.EXTRACTION_SECOND_PROVIDER = "local"
    fake_llm.answer(llm_answer(expected))

    document = upload_and_read(
        applicant_application,
        sample_paths[NAME].read_bytes(),
        document_type=shipped_types["pay_stub"],
    )

    assert document.status == Document.Status.EXTRACTED
    fields = {field.key: field for field in document.fields.all()}
    assert fields["employee_name"].agreement == Agreement.AGREE
    assert fields["gross_pay"].agreement == Agreement.AGREE  # "$2,280.00" and "2,280.00"
    assert fields["net_pay"].agreement == Agreement.DISAGREE
    assert fields["net_pay"].value == "1,998.08"  # the primary reading stays the value
    assert fields["net_pay"].second_value == "1,698.08"
    assert fields["ytd_gross"].agreement == Agreement.SINGLE
    assert fields["ytd_gross"].value == ""
    readings = dict(document.runs.values_list("reading", "provider"))
    assert readings == {
        ExtractionRun.Reading.PRIMARY: "openai",
        ExtractionRun.Reading.SECOND: "local",
    }


def test_without_a_second_provider_agreement_is_blank(
    llm_settings, applicant_application, shipped_types, sample_paths
):
    llm_settings.EXTRACTION_PROVIDER = "local"

    document = upload_and_read(
        applicant_application,
        sample_paths[NAME].read_bytes(),
        document_type=shipped_types["pay_stub"],
    )

    assert set(document.fields.values_list("agreement", flat=True)) == {""}
    assert document.runs.count() == 1


def test_a_failed_second_reading_never_holds_up_the_first(
    llm_settings, fake_llm, applicant_application, shipped_types, sample_paths, expected
):
    llm_settings.EXTRACTION_PROVIDER = "local"
    llm_settings.EXTRACTION_SECOND_PROVIDER = "openai"
    fake_llm.status(503)

    document = upload_and_read(
        applicant_application,
        sample_paths[NAME].read_bytes(),
        document_type=shipped_types["pay_stub"],
    )

    assert document.status == Document.Status.EXTRACTED
    assert document.fields.get(key="net_pay").value
    assert set(document.fields.values_list("agreement", flat=True)) == {""}
    second = document.runs.get(reading=ExtractionRun.Reading.SECOND)
    assert second.outcome == ExtractionRun.Outcome.ERROR
