"""Sample documents, generated once per test session, and the shipped document types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from extraction.ingest import RenderedPage, render_pages
from extraction.schemas import DocumentTypeSpec, FieldSpec
from samples.generate import expected_path, generate_samples

DOCUMENT_TYPES_DIR = Path(__file__).resolve().parents[2] / "extraction" / "document_types"
MEDIA_TYPES = {".pdf": "application/pdf", ".png": "image/png"}


@pytest.fixture(scope="session")
def sample_paths(tmp_path_factory) -> dict[str, Path]:
    """The generated sample documents by file name."""
    out_dir = tmp_path_factory.mktemp("samples")
    return {path.name: path for path in generate_samples(out_dir)}


@pytest.fixture(scope="session")
def rendered_samples(sample_paths) -> dict[str, list[RenderedPage]]:
    """Every sample's pages, rendered once: OCR of the scan takes seconds."""
    return {
        name: list(
            render_pages(
                data=path.read_bytes(), media_type=MEDIA_TYPES[path.suffix], max_pixels=1600
            )
        )
        for name, path in sample_paths.items()
    }


@pytest.fixture(scope="session")
def expected(sample_paths) -> dict[str, dict]:
    return {
        name: json.loads(expected_path(path).read_text()) for name, path in sample_paths.items()
    }


@pytest.fixture(scope="session")
def document_types() -> dict[str, DocumentTypeSpec]:
    """The shipped document types, read from their YAML files without a database."""
    types = {}
    for path in sorted(DOCUMENT_TYPES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        types[data["key"]] = DocumentTypeSpec(
            key=data["key"],
            label=data["label"],
            version=data.get("version", 1),
            description=data.get("description", ""),
            fields=tuple(FieldSpec.from_dict(field) for field in data["fields"]),
        )
    return types
