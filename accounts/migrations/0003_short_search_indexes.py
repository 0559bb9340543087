"""Indexes for a search of one or two characters by applicant's name and e-mail, which the
trigram indexes of 0002 cannot serve: a GIN index of each column's one- and two-character
pieces (``core.search``), PostgreSQL only, as 0002's are."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import migrations, models
from django.db.models.functions import Upper

# The distinct one- and two-character pieces of a text (``core.search.ShortGrams``).
FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION attest_short_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT piece), '{}') FROM (
        SELECT substr(value, position, 1) AS piece
        FROM generate_series(1, length(value)) AS position
        UNION ALL
        SELECT substr(value, position, 2)
        FROM generate_series(1, length(value) - 1) AS position
    ) AS pieces
$$
"""


def _pieces(column: str) -> models.Func:
    # As ``core.search.short_grams_index_expression`` writes it: the search compares on it.
    return models.Func(
        Upper(column),
        function="attest_short_grams",
        output_field=ArrayField(models.CharField()),
    )


INDEXES = [
    GinIndex(_pieces("full_name"), name="user_full_name_grams"),
    GinIndex(_pieces("email"), name="user_email_grams"),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION_SQL)
    user = apps.get_model("accounts", "User")
    for index in INDEXES:
        schema_editor.add_index(user, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    user = apps.get_model("accounts", "User")
    for index in INDEXES:
        schema_editor.remove_index(user, index)
    # The applications' indexes (their 0008) are removed first: they depend on it.
    schema_editor.execute("DROP FUNCTION IF EXISTS attest_short_grams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_search_trigram_indexes"),
    ]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
    ]
