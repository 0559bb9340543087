"""Database triggers that refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) of audit rows.

The models already refuse to update or delete these rows; the triggers make the database itself
refuse, whoever connects. They are installed by migrations (``append_only_install``) for
SQLite and PostgreSQL. Whoever may run DDL can still drop them: the keyed chain and the seal
(``audit.verification``) are what detect such a change; ``append_only_missing`` lets the
verification say when a trigger has gone (on SQLite a table rebuilt by a later migration loses
its triggers).

Every trigger is named ``attest_append_only_<table>_<what>``, so they can be found again.
"""

from __future__ import annotations

from django.db import migrations

PREFIX = "attest_append_only_"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION attest_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Rows of % are append-only: % refused.', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def _statements(vendor: str, table: str) -> list[str]:
    name = f"{PREFIX}{table}"
    if vendor == "postgresql":
        return [
            _PG_FUNCTION,
            f'CREATE TRIGGER {name}_rows BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION attest_append_only();",
            f'CREATE TRIGGER {name}_truncate BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION attest_append_only();",
        ]
    if vendor == "sqlite":
        return [
            f'CREATE TRIGGER {name}_update BEFORE UPDATE ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, 'Rows of {table} are append-only: UPDATE refused.'); END;",
            f'CREATE TRIGGER {name}_delete BEFORE DELETE ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, 'Rows of {table} are append-only: DELETE refused.'); END;",
        ]
    raise NotImplementedError(f"No append-only triggers for the {vendor} database.")


def _names(vendor: str, table: str) -> list[str]:
    name = f"{PREFIX}{table}"
    if vendor == "postgresql":
        return [f"{name}_rows", f"{name}_truncate"]
    return [f"{name}_update", f"{name}_delete"]


def append_only_install(connection, table: str) -> None:
    """Create the table's triggers (idempotent: existing ones are replaced)."""
    append_only_drop(connection, table)
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, table):
            cursor.execute(statement)


def append_only_drop(connection, table: str) -> None:
    """Drop the table's triggers; for migrations that rebuild the table, and for tests."""
    with connection.cursor() as cursor:
        for name in _names(connection.vendor, table):
            if connection.vendor == "postgresql":
                cursor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}";')
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name};")


def append_only_tables(connection) -> list[str]:
    """The tables that carry append-only triggers right now."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE %s",
                [PREFIX + "%"],
            )
        else:
            cursor.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE %s",
                [PREFIX + "%"],
            )
        return sorted(row[0].strip('"') for row in cursor.fetchall())


def append_only_missing(connection, tables: list[str]) -> list[str]:
    """Of these tables, the ones missing one of their triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", [PREFIX + "%"])
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [PREFIX + "%"],
            )
        present = {row[0] for row in cursor.fetchall()}
    return [table for table in tables if not set(_names(connection.vendor, table)) <= present]


def install_operation(table: str):
    """A migration operation installing the table's triggers on SQLite or PostgreSQL."""

    def forwards(apps, schema_editor):
        append_only_install(schema_editor.connection, table)

    def backwards(apps, schema_editor):
        append_only_drop(schema_editor.connection, table)

    return migrations.RunPython(forwards, backwards)
