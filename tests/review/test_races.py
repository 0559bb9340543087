"""Concurrent writers on one application, with real threads and separate database connections
(SQLite file or PostgreSQL, whichever the suite runs on): 50 rounds of each race, 0 violations.

The figures print with the test (``-s``) and come from ``bench/races.py`` as a table.
"""

from __future__ import annotations

import pytest
from django.db import connection

from .races import RACES, race_run

pytestmark = pytest.mark.django_db(transaction=True)

ITERATIONS = 50


@pytest.mark.parametrize("name", RACES)
def test_race_has_no_violations(name, staff_groups):
    result = race_run(name, iterations=ITERATIONS)
    outcomes = ", ".join(f"{label}: {count}" for label, count in sorted(result.outcomes.items()))
    print(  # noqa: T201 - the figures the issue asks to quote
        f"\n{name} on {connection.vendor}: {result.iterations} rounds, "
        f"{len(result.violations)} violations ({outcomes})"
    )
    assert result.iterations == ITERATIONS
    assert result.violations == []
