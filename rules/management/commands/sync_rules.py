from django.core.management.base import BaseCommand

from rules.services import rules_sync


class Command(BaseCommand):
    help = "Load the built-in rule pack (rules/pack/builtin.yaml); idempotent."

    def handle(self, *args, **options):
        rules = rules_sync()
        self.stdout.write(f"{len(rules)} built-in rules in the database.")
