"""A tiny generated corpus, made once per test run: one document per type, as text PDFs."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    from evals.corpus import generate_corpus

    folder = tmp_path_factory.mktemp("corpus")
    generate_corpus(folder, per_type=2, seed=11, variants=("text_pdf",))
    return folder
