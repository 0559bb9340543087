from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from samples.generate import generate_samples


class Command(BaseCommand):
    help = (
        "Write the demo applicant's sample documents (pay stubs, bank statement, W-2, utility "
        "bill, a scanned pay stub) with their expected values."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            type=Path,
            default=None,
            help="Folder to write into (default: var/samples).",
        )
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        out_dir = options["out"] or Path(settings.BASE_DIR) / "var" / "samples"
        paths = generate_samples(out_dir, seed=options["seed"])
        for path in paths:
            self.stdout.write(str(path))
        self.stdout.write(self.style.SUCCESS(f"{len(paths)} sample documents in {out_dir}"))
