"""Indexes for a search of one or two characters by reference and stated name, which the
trigram indexes of 0007 cannot serve (see accounts' 0003), PostgreSQL only."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import migrations, models
from django.db.models.functions import Upper


def _pieces(column: str) -> models.Func:
    # As ``core.search.short_grams_index_expression`` writes it: the search compares on it.
    return models.Func(
        Upper(column),
        function="attest_short_grams",
        output_field=ArrayField(models.CharField()),
    )


INDEXES = [
    GinIndex(_pieces("reference"), name="application_reference_grams"),
    GinIndex(_pieces("stated_name"), name="application_stated_grams"),
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
        ("applications", "0007_search_trigram_indexes"),
        # attest_short_grams
        ("accounts", "0003_short_search_indexes"),
    ]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
    ]
