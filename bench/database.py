"""A throwaway test database for benchmarks that build their own data."""

from contextlib import contextmanager

from django.db import connection
from django.test.utils import setup_test_environment


@contextmanager
def throwaway_database():
    """Create a fresh test database (SQLite or PostgreSQL, from DATABASE_URL) and drop it after."""
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


@contextmanager
def kept_database():
    """The test database (``test_<name>``), created or migrated in place and kept afterwards,
    so that a benchmark can build a large data set once and measure it many times."""
    setup_test_environment()
    # serialize=False: a kept database is large, and no test needs its rows as fixtures.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    yield


def database_url() -> str:
    """A URL that opens the database this process is using right now (for worker processes)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
