"""``python -m evals.corpus OUTDIR --per-type N --seed S``: write a labelled corpus."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import DOCUMENT_TYPES, generate_corpus
from .variants import VARIANTS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write varied documents with their answers.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--per-type", type=int, default=10, help="documents per type")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--types", nargs="+", choices=DOCUMENT_TYPES, default=DOCUMENT_TYPES)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=VARIANTS)
    args = parser.parse_args(argv)
    paths = generate_corpus(
        args.out_dir,
        per_type=args.per_type,
        seed=args.seed,
        types=args.types,
        variants=args.variants,
    )
    sys.stdout.write("".join(f"{path}\n" for path in paths))


if __name__ == "__main__":
    main()
