"""Approved applications as evidence: survival of machine values, and the exported corpus."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from applications.models import Application
from evals.real_traffic import field_survival
from extraction.models import ExtractionRun
from tests.builders import document_with_fields
from tests.factories import ApplicationFactory

W2_VALUES = {
    "tax_year": "2025",
    "employee_name": "Jordan A. Rivera",
    "employee_ssn": "123-45-6789",
    "employer_name": "Northwind Logistics LLC",
    "employer_ein": "12-3456789",
    "wages": "58,240.00",
    "federal_tax_withheld": "5,120.00",
}


@pytest.fixture
def approved_w2(shipped_types):
    """An approved application with a W-2 read by the local provider, two values then
    changed by a person: one reformatted (same amount), one corrected."""
    application = ApplicationFactory(status=Application.Status.APPROVED, decided_at=timezone.now())
    document = document_with_fields(application, shipped_types["w2"], W2_VALUES)
    ExtractionRun.objects.create(
        document=document,
        provider="local",
        model="label-patterns-v1",
        prompt_version="p1",
        outcome=ExtractionRun.Outcome.OK,
    )
    document.fields.filter(key="wages").update(value="$58240.00")
    document.fields.filter(key="federal_tax_withheld").update(value="5,210.00")
    document.fields.filter(key="social_security_wages").update(value="61,300.00")
    return document


def test_survival_compares_canonical_values(approved_w2):
    """A reformatted value survived; a corrected or a filled-in one did not."""
    rows = {row.field_key: row for row in field_survival()}
    assert rows["wages"].survived == 1
    assert rows["federal_tax_withheld"].survived == 0
    assert rows["social_security_wages"].filled_in == 1
    assert rows["employee_ssn"].survival_rate == 1.0
    assert (rows["wages"].provider, rows["wages"].model, rows["wages"].prompt_version) == (
        "local",
        "label-patterns-v1",
        "p1",
    )
    # Least surviving first.
    assert list(rows)[0] in {"federal_tax_withheld", "social_security_wages"}


def test_applications_not_approved_are_left_out(approved_w2):
    Application.objects.filter(pk=approved_w2.application_id).update(
        status=Application.Status.REJECTED
    )
    assert field_survival() == []


def _export(folder, *args: str) -> dict:
    call_command("export_corpus", str(folder), *args, stdout=StringIO())
    (answer,) = folder.glob("*.expected.json")
    return json.loads(answer.read_text())


def test_export_masks_sensitive_values(approved_w2, tmp_path):
    """The SSN stays out of the answers (its masked form is listed); other values are the
    verified ones in canonical form, beside a copy of the original file."""
    answer = _export(tmp_path)
    assert "employee_ssn" not in answer["fields"]
    assert answer["masked"] == {"employee_ssn": "***-**-6789"}
    assert "123-45-6789" not in json.dumps(answer)
    assert answer["fields"]["wages"] == "58240.00"
    assert answer["fields"]["federal_tax_withheld"] == "5210.00"
    assert answer["document_type"] == "w2"
    (original,) = tmp_path.glob("*.pdf")
    assert original.read_bytes().startswith(b"%PDF")


def test_export_unmask_writes_sensitive_values(approved_w2, tmp_path):
    answer = _export(tmp_path, "--unmask")
    assert answer["fields"]["employee_ssn"] == "123-45-6789"
    assert answer["masked"] == {}


def test_exported_corpus_is_read_by_evaluate(approved_w2, tmp_path):
    """The export is a corpus: evaluate runs over it and skips the masked field."""
    _export(tmp_path / "corpus")
    saved = tmp_path / "run.json"
    call_command(
        "evaluate", "--provider", "local", "--corpus", str(tmp_path / "corpus"),
        "--json", str(saved), "--quiet", stdout=StringIO(),
    )  # fmt: skip
    run = json.loads(saved.read_text())
    assert run["documents"][0]["document_type"] == "w2"
    assert "employee_ssn" not in run["documents"][0]["fields"]


def test_the_real_traffic_command_prints_survival_per_field_and_writes_json(approved_w2, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("real_traffic_accuracy", json_path=str(tmp_path / "rows.json"), stdout=out)
    printed = out.getvalue()
    assert "w2" in printed and "survived" in printed
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert {row["document_type"] for row in rows} == {"w2"}
