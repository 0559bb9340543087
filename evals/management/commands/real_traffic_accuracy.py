import json

from django.core.management.base import BaseCommand

from evals.real_traffic import field_survival
from evals.report import percent, table


class Command(BaseCommand):
    help = (
        "Accuracy on real traffic: per document type, field, provider, model and prompt "
        "version, how often the machine's value survived to the value a reviewer approved."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", help="approved on or after (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", help="approved on or before (YYYY-MM-DD)")
        parser.add_argument("--document-type", default="", help="a document type key")
        parser.add_argument("--json", dest="json_path", help="also write the rows as JSON here")

    def handle(self, *args, date_from=None, date_to=None, document_type="", json_path=None, **_):
        from datetime import date

        rows = field_survival(
            date_from=date.fromisoformat(date_from) if date_from else None,
            date_to=date.fromisoformat(date_to) if date_to else None,
            document_type=document_type,
        )
        if not rows:
            self.stdout.write("No approved applications in that window yet.")
            return
        self.stdout.write(
            table(
                (
                    "type",
                    "field",
                    "provider",
                    "model",
                    "prompt",
                    "values",
                    "survived",
                    "filled in",
                    "removed",
                ),
                [
                    [
                        r.document_type,
                        r.field_key,
                        r.provider,
                        r.model,
                        r.prompt_version,
                        r.total,
                        percent(r.survival_rate),
                        r.filled_in,
                        r.removed,
                    ]
                    for r in rows
                ],
            )
        )
        if json_path:
            with open(json_path, "w") as handle:
                json.dump([row.as_dict() for row in rows], handle, indent=2)
