"""The generated corpus: deterministic from its seed, varied, and labelled."""

from __future__ import annotations

import io
import json

import pypdfium2 as pdfium
import pytest
from PIL import Image

from evals.corpus import DOCUMENT_TYPES, expected_path, generate_corpus, generate_document
from evals.corpus.variants import VARIANTS
from evals.specs import SpecSource


def _pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_same_seed_writes_the_same_bytes(tmp_path):
    """Two runs with one seed write byte-identical documents and answers, images included."""
    first = generate_corpus(tmp_path / "a", per_type=1, seed=5, types=["utility_bill"])
    second = generate_corpus(tmp_path / "b", per_type=1, seed=5, types=["utility_bill"])
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert expected_path(a).read_text() == expected_path(b).read_text()


def test_a_subset_of_variants_writes_the_same_files_as_the_full_run(tmp_path):
    """Asking for one variant gives the same document as the full run does."""
    full = generate_corpus(tmp_path / "full", per_type=1, seed=5, types=["w2"])
    scans = generate_corpus(tmp_path / "scan", per_type=1, seed=5, types=["w2"], variants=["scan"])
    same = next(p for p in full if p.name == scans[0].name)
    assert same.read_bytes() == scans[0].read_bytes()


def test_another_seed_draws_other_documents():
    a = generate_document("pay_stub", 0, seed=1)
    b = generate_document("pay_stub", 0, seed=2)
    assert a.fields != b.fields


def test_documents_vary_in_layout_font_wording_and_pages():
    """Twenty pay stubs are not one template: several layouts, fonts, formats and page counts."""
    stubs = [generate_document("pay_stub", i, seed=7) for i in range(20)]
    assert len({s.layout for s in stubs}) >= 3
    assert len({s.style.font for s in stubs}) == 3
    assert len({s.style.money_format for s in stubs}) >= 3
    assert len({len(pdfium.PdfDocument(s.pdf)) for s in stubs}) == 2
    net_labels = {label for s in stubs for label in ("Net Pay", "Take-home", "Net Amount")
                  if label in _pdf_text(s.pdf)}  # fmt: skip
    assert len(net_labels) >= 2


@pytest.mark.parametrize("document_type", DOCUMENT_TYPES)
def test_answers_name_every_field_of_the_shipped_type(document_type):
    """Every answer file has a value or an explicit null for each field of the type."""
    spec = SpecSource(use_database=False).get(document_type)
    generated = generate_document(document_type, 0, seed=7)
    assert set(generated.fields) == {f.key for f in spec.fields}


def test_every_variant_is_written_with_its_answers(tmp_path):
    paths = generate_corpus(tmp_path, per_type=1, seed=3, types=["drivers_license"])
    answers = [json.loads(expected_path(p).read_text()) for p in paths]
    assert [a["variant"] for a in answers] == list(VARIANTS)
    assert {p.suffix for p in paths} == {".pdf", ".png", ".jpg"}
    photo = Image.open(io.BytesIO(paths[-1].read_bytes()))
    assert photo.format == "JPEG"
    image_pdf = next(p for p in paths if "image_pdf" in p.name)
    assert _pdf_text(image_pdf.read_bytes()).strip() == ""  # no text layer: must be OCR'd


def test_planted_instructions_are_printed_and_labelled():
    """The second document of each type carries an instruction to the model, and says so."""
    for document_type in DOCUMENT_TYPES:
        generated = generate_document(document_type, 1, seed=7)
        assert "injection" in generated.labels
        planted = generated.notes["injection"]
        assert "9999" in planted.replace(",", "")
        assert planted in _pdf_text(generated.pdf).replace("\r", "").replace("\n", " ") or (
            document_type == "drivers_license"  # tiny print on a card may wrap
        )
        # The answers are still the document's own values, never the planted one.
        assert not {"9999", "9999.00"} & {str(v) for v in generated.fields.values()}


def test_tampered_arithmetic_is_printed_and_labelled():
    """The third pay stub's net pay does not add up, and its answer is what is printed."""
    generated = generate_document("pay_stub", 2, seed=7)
    assert "tampered_arithmetic" in generated.labels
    tampered = generated.notes["tampered"]
    assert tampered["printed"] != tampered["computed"]
    assert generated.fields["net_pay"] == tampered["printed"]
