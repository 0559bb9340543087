"""The reviewer queue's search: trigram indexes on reference and stated name, PostgreSQL only
(see accounts' migration 0002 for why they are ``UPPER(col)`` and not in the Meta), and the
queue's order over every submitted application, for a search that matches many."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import migrations, models
from django.db.models.functions import Upper

INDEXES = [
    GinIndex(OpClass(Upper("reference"), name="gin_trgm_ops"), name="application_reference_trgm"),
    GinIndex(
        OpClass(Upper("stated_name"), name="gin_trgm_ops"), name="application_stated_name_trgm"
    ),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    application = apps.get_model("applications", "Application")
    for index in INDEXES:
        schema_editor.add_index(application, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    application = apps.get_model("applications", "Application")
    for index in INDEXES:
        schema_editor.remove_index(application, index)


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0006_queue_keyset_indexes"),
        # The pg_trgm extension.
        ("accounts", "0002_search_trigram_indexes"),
    ]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(
                models.F("risk_score") * -1,
                "submitted_at",
                "id",
                condition=models.Q(submitted_at__isnull=False),
                name="application_submitted_queue",
            ),
        ),
    ]
