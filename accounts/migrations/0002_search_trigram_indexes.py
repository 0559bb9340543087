"""Trigram indexes for the reviewer queue's search by applicant's name and e-mail, and the
history's filter by actor e-mail: PostgreSQL only (pg_trgm).

Both searches are Django's ``icontains``, which PostgreSQL runs as ``UPPER(col::text) LIKE
UPPER('%…%')``; a GIN index of the trigrams of ``UPPER(col)`` serves that condition as it stands,
so what matches does not change. SQLite has no such index and reads its (small) tables. The
indexes are not in the model's Meta because Django would create them on SQLite too.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models.functions import Upper

INDEXES = [
    GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="user_full_name_trgm"),
    GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="user_email_trgm"),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    user = apps.get_model("accounts", "User")
    for index in INDEXES:
        schema_editor.add_index(user, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    user = apps.get_model("accounts", "User")
    for index in INDEXES:
        schema_editor.remove_index(user, index)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing on SQLite. pg_trgm is a trusted
        # extension: the database's owner may create it.
        TrigramExtension(),
        migrations.RunPython(add_indexes, remove_indexes),
    ]
