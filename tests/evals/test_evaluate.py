"""``manage.py evaluate``: a provider over a corpus, scored per field, saved and compared."""

from __future__ import annotations

import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from evals import compare, runner


def _evaluate(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("evaluate", *args, "--quiet", stdout=out)
    return out.getvalue()


def test_local_provider_is_scored_per_field_and_variant(tiny_corpus, tmp_path):
    """The run covers every document, prints the tables and saves the run as JSON."""
    saved = tmp_path / "local.json"
    output = _evaluate("--provider", "local", "--corpus", str(tiny_corpus), "--json", str(saved))
    run = json.loads(saved.read_text())
    assert run["meta"]["provider"] == "local"
    assert run["meta"]["documents"] == 10
    assert set(run["summary"]["by_variant"]) == {"text_pdf"}
    assert {row["document_type"] for row in run["summary"]["by_field"]} == {
        "pay_stub", "bank_statement", "w2", "utility_bill", "drivers_license",
    }  # fmt: skip
    assert "text_pdf" in output and "net_pay" in output
    # The local provider reads text PDFs well and never invents a required value.
    overall = run["summary"]["overall"]
    assert overall["fields"]["accuracy"] > 0.8
    assert overall["required_fields"]["invented"] == 0
    stub = next(d for d in run["documents"] if d["path"].startswith("pay_stub_000"))
    assert stub["fields"]["gross_pay"]["outcome"] in ("exact", "normalized")
    assert stub["fields"]["gross_pay"]["grounded"] is True


def test_openai_provider_against_the_fake_server(tiny_corpus, tmp_path, fake_llm, settings):
    """--model reaches the request; an answer the document does not show counts as invented."""
    settings.LLM_BASE_URL = fake_llm.base_url
    settings.LLM_API_KEY = "sk-test"
    settings.LLM_MODEL = "gpt-4o-mini"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in tiny_corpus.glob("pay_stub_000_*"):
        shutil.copy(path, corpus / path.name)
    answer_file = corpus / "pay_stub_000_text_pdf.expected.json"
    answer = json.loads(answer_file.read_text())
    blank = "ytd_gross"
    answer["fields"][blank] = None  # the answer: the document shows no year-to-date gross
    answer_file.write_text(json.dumps(answer))
    answers = answer["fields"]
    reply = dict(answers)
    reply["gross_pay"] = "$" + answers["gross_pay"]  # the same amount, as printed
    reply[blank] = "9999.00"  # a value where the answer has none
    fake_llm.expect(reply)
    saved = tmp_path / "openai.json"
    _evaluate(
        "--provider", "openai", "--model", "gpt-test-1", "--corpus", str(corpus),
        "--json", str(saved),
    )  # fmt: skip
    run = json.loads(saved.read_text())
    fields = run["documents"][0]["fields"]
    assert fields["gross_pay"]["outcome"] == "normalized"
    assert fields["net_pay"]["outcome"] == "exact"
    assert fields[blank]["outcome"] == "invented"
    assert run["meta"]["model"] == "gpt-test-1"
    assert {r.body["model"] for r in fake_llm.requests} == {"gpt-test-1"}
    assert run["summary"]["overall"]["tokens_in_per_page"] > 0


def test_compare_lists_the_fields_that_changed(tiny_corpus, tmp_path):
    saved = tmp_path / "before.json"
    _evaluate("--provider", "local", "--corpus", str(tiny_corpus), "--json", str(saved))
    before = json.loads(saved.read_text())
    after = json.loads(saved.read_text())
    stub = next(d for d in after["documents"] if d["path"].startswith("pay_stub_000"))
    stub["fields"]["net_pay"].update(outcome="wrong", value="1.00")
    after["summary"] = runner.scoring.summarize(after["documents"])
    (tmp_path / "after.json").write_text(json.dumps(after))

    diff = compare.compare(before, after)
    assert [(c["field"], c["old"], c["new"]) for c in diff["changes"]] == [
        ("net_pay", before_outcome(before), "wrong")
    ]
    output = _compare(str(saved), str(tmp_path / "after.json"))
    assert "pay_stub" in output and "net_pay" in output and "for the worse" in output


def before_outcome(run: dict) -> str:
    stub = next(d for d in run["documents"] if d["path"].startswith("pay_stub_000"))
    return stub["fields"]["net_pay"]["outcome"]


def _compare(*paths: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("evaluate", "--compare", *paths, stdout=out)
    return out.getvalue()


def test_a_folder_without_answers_is_refused(tmp_path):
    with pytest.raises(CommandError, match="expected.json"):
        _evaluate("--provider", "local", "--corpus", str(tmp_path))


def test_real_documents_with_answers_as_printed_are_scored(tmp_path):
    """A hand-made answer file (values as printed, no variant) works like a generated one."""
    from samples.generate import generate_samples

    generate_samples(tmp_path)
    documents = runner.discover(tmp_path)
    assert len(documents) == 5
    answer = tmp_path / "utility_bill_2026-02.expected.json"
    data = json.loads(answer.read_text())
    data["fields"]["amount_due"] = "$" + data["fields"]["amount_due"]
    answer.write_text(json.dumps(data))
    for other in tmp_path.glob("*"):  # keep one document: fast
        if not other.name.startswith("utility_bill"):
            other.unlink()
    saved = tmp_path / "run.json"
    _evaluate("--provider", "local", "--corpus", str(tmp_path), "--json", str(saved))
    run = json.loads(saved.read_text())
    document = run["documents"][0]
    assert document["variant"] == "text_pdf"
    assert document["fields"]["amount_due"]["outcome"] in ("exact", "normalized")
