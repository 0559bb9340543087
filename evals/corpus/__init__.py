"""A labelled corpus: many varied documents of every shipped type, each beside its answers.

For each document type, ``per_type`` documents drawn from the seed (layout, font, field order,
label wording, money and date formats, one or several pages, some with planted instructions or
tampered arithmetic), each written in every variant (``variants.VARIANTS``). Every
``<name>.<ext>`` has a ``<name>.expected.json`` beside it, in the samples' format plus what the
document is::

    {"document_type": "pay_stub", "fields": {"net_pay": "1834.22", "pay_date": null, ...},
     "variant": "scan", "labels": ["injection"], "source": "pay_stub_004", ...}

A field whose value is ``null`` is one the document does not show: reading one there is an
invented value. The output depends only on the seed: any subset of types or variants writes the
same files as the full run.

    python -m evals.corpus OUTDIR --per-type N --seed S [--types ...] [--variants ...]
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path

from . import bank_statement, drivers_license, pay_stub, utility_bill, w2
from .sheet import Generated
from .variants import VARIANTS, make_variant

GENERATORS: dict[str, Callable[..., Generated]] = {
    "pay_stub": pay_stub.generate,
    "bank_statement": bank_statement.generate,
    "w2": w2.generate,
    "utility_bill": utility_bill.generate,
    "drivers_license": drivers_license.generate,
}
DOCUMENT_TYPES = tuple(GENERATORS)
EXPECTED_SUFFIX = ".expected.json"


def _planted(index: int) -> tuple[bool, bool]:
    """Which documents carry an instruction or tampered sums: fixed positions, so that even a
    corpus of two per type has an injection and one of three has tampering."""
    return index % 7 == 1, index % 9 == 2


def generate_document(document_type: str, index: int, *, seed: int) -> Generated:
    inject, tamper = _planted(index)
    rng = random.Random(f"{seed}:{document_type}:{index}")  # noqa: S311 - test data by design
    return GENERATORS[document_type](rng, inject=inject, tamper=tamper)


def expected_for(generated: Generated, *, variant: str, source: str) -> dict:
    return {
        "document_type": generated.document_type,
        "fields": generated.fields,
        "variant": variant,
        "labels": sorted(generated.labels),
        "source": source,
        "layout": generated.layout,
        "font": generated.style.font,
        "money_format": generated.style.money_format,
        "date_format": generated.style.date_format,
        "notes": generated.notes,
    }


def generate_corpus(
    out_dir: Path,
    *,
    per_type: int,
    seed: int = 7,
    types: Iterable[str] = DOCUMENT_TYPES,
    variants: Iterable[str] = VARIANTS,
) -> list[Path]:
    """Write the corpus; returns the documents' paths (not the answer files)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    variants = tuple(variants)
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise ValueError(f"Unknown variants: {', '.join(sorted(unknown))}.")
    paths = []
    for document_type in types:
        for index in range(per_type):
            generated = generate_document(document_type, index, seed=seed)
            source = f"{document_type}_{index:03d}"
            for variant in variants:
                rng = random.Random(f"{seed}:{source}:{variant}")  # noqa: S311
                content, extension = make_variant(generated.pdf, variant, rng)
                path = out_dir / f"{source}_{variant}.{extension}"
                path.write_bytes(content)
                answer = expected_for(generated, variant=variant, source=source)
                expected_path(path).write_text(json.dumps(answer, indent=2) + "\n")
                paths.append(path)
    return paths


def expected_path(document: Path) -> Path:
    """The answer file beside a document: ``a.pdf`` -> ``a.expected.json``."""
    return document.with_name(document.name.rsplit(".", 1)[0] + EXPECTED_SUFFIX)
