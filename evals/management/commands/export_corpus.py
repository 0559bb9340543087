"""``manage.py export_corpus OUTDIR [--unmask]``: approved applications as a labelled corpus.

The output is what ``manage.py evaluate --corpus OUTDIR`` reads. Sensitive values are masked
in the answer files unless ``--unmask``; the original files are copied as uploaded.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from evals.export import export_corpus


class Command(BaseCommand):
    help = "Export approved applications' documents with their verified values as answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out_dir", type=Path)
        parser.add_argument(
            "--unmask", action="store_true", help="write sensitive values in the clear"
        )

    def handle(self, *args, out_dir: Path, unmask: bool, **options) -> None:
        paths = export_corpus(out_dir, unmask=unmask)
        masked = "in the clear" if unmask else "masked"
        self.stdout.write(
            f"Wrote {len(paths)} documents with their answers to {out_dir} "
            f"(sensitive values {masked})."
        )
