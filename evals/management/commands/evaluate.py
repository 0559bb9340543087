"""``manage.py evaluate``: accuracy of a provider on a labelled corpus, per field and variant.

    manage.py evaluate --provider openai --model gpt-4o-mini --corpus var/corpus \
        --concurrency 8 --json var/evals/openai.json [--compare var/evals/local.json]
    manage.py evaluate --compare OLD.json NEW.json

The corpus is any folder of documents with ``<name>.expected.json`` beside each: one made by
``python -m evals.corpus``, one written by ``manage.py export_corpus``, or real documents with
hand-written answers.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import override_settings

from evals import compare, report, runner
from extraction.providers import get_provider
from extraction.providers.base import ProviderConfigError


class Command(BaseCommand):
    help = "Run a provider over a labelled corpus and report accuracy per field and variant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", default=None, help="local, openai or anthropic")
        parser.add_argument("--model", default=None, help="the model, for openai and anthropic")
        parser.add_argument("--corpus", type=Path, help="folder of documents with answers")
        parser.add_argument("--concurrency", type=int, default=4, help="documents at once")
        parser.add_argument("--json", type=Path, dest="json_out", help="write the run here")
        parser.add_argument(
            "--compare",
            type=Path,
            nargs="+",
            metavar="RUN.json",
            help="OLD.json: compare this run with a saved one; OLD.json NEW.json: two saved runs",
        )
        parser.add_argument("--detail", action="store_true", help="also each field per variant")
        parser.add_argument("--quiet", action="store_true", help="no progress")

    def handle(self, *args, **options) -> None:
        saved = options["compare"] or []
        if len(saved) > 2:
            raise CommandError("--compare takes one saved run (OLD.json) or two (OLD NEW).")
        if len(saved) == 2:
            self._compare(self._load(saved[0]), self._load(saved[1]))
            return
        corpus = options["corpus"]
        if corpus is None:
            raise CommandError("Name the corpus folder with --corpus (or compare two runs).")
        if not corpus.is_dir():
            raise CommandError(f"{corpus} is not a folder.")
        if not runner.discover(corpus):
            raise CommandError(
                f"{corpus} holds no documents with a <name>.expected.json beside them. "
                "Make one with: python -m evals.corpus OUTDIR --per-type 10"
            )
        old = self._load(saved[0]) if saved else None
        with override_settings(**self._model_settings(options["provider"], options["model"])):
            try:
                provider = get_provider(options["provider"])
            except ProviderConfigError as error:
                raise CommandError(error.message) from error
            result = runner.run(
                corpus,
                provider=provider,
                concurrency=options["concurrency"],
                progress=self._progress if self._show_progress(options) else None,
            )
        if self._show_progress(options):
            self.stderr.write("")
        self.stdout.write(report.render(result, detail=options["detail"]))
        if options["json_out"]:
            options["json_out"].parent.mkdir(parents=True, exist_ok=True)
            options["json_out"].write_text(json.dumps(result, indent=1) + "\n")
            self.stdout.write(f"Run saved to {options['json_out']}.")
        if old is not None:
            self.stdout.write("")
            self._compare(old, result)

    @staticmethod
    def _model_settings(provider: str | None, model: str | None) -> dict[str, str]:
        """``--model`` for this run only: LLM_MODEL for openai, ANTHROPIC_MODEL for anthropic
        (which reads LLM_MODEL only when it is the configured default)."""
        if not model:
            return {}
        if (provider or "").lower() == "anthropic":
            return {"ANTHROPIC_MODEL": model, "LLM_MODEL": model}
        return {"LLM_MODEL": model}

    def _show_progress(self, options: dict) -> bool:
        return not options["quiet"] and self.stderr.isatty()

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(f"\r{done}/{total} documents", ending="")
        self.stderr.flush()

    def _compare(self, old: dict, new: dict) -> None:
        self.stdout.write(compare.render(compare.compare(old, new)))

    @staticmethod
    def _load(path: Path) -> dict:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the saved run {path}: {error}") from error
