from django.core.management.base import BaseCommand

from extraction.catalog import document_types_sync


class Command(BaseCommand):
    help = "Load the shipped document types (pay stub, bank statement, W-2, ID, utility bill)."

    def handle(self, *args, **options):
        types = document_types_sync()
        self.stdout.write(f"{len(types)} document types ready: {', '.join(t.key for t in types)}")
