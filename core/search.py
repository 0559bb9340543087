"""Searching text columns for one or two characters on PostgreSQL, through an index.

A search for a part of a name is ``icontains``; PostgreSQL's trigram indexes serve it from
three characters on, and a shorter search read the whole table (184 ms at 300,000
applications). ``ShortGrams`` is the set of every one- and two-character piece of a text
(``attest_short_grams``, made by accounts' migration 0003), and a GIN index of it over
``UPPER(column)`` finds the rows holding such a piece. For a search of one or two characters,
"the piece is among the column's pieces" is exactly "the column contains it", so what matches
does not change (``short_contains``).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.db.models import CharField, Func, Value
from django.db.models.functions import Upper

# Searches shorter than a trigram.
SHORT_SEARCH_LENGTH = 2


class ShortGrams(Func):
    """``attest_short_grams(expression)``: the distinct one- and two-character pieces of a
    text, as an array (NULL for NULL)."""

    function = "attest_short_grams"
    output_field = ArrayField(CharField())


def short_grams_index_expression(column: str) -> ShortGrams:
    """What the index of ``column`` holds; the search must compare on the very same."""
    return ShortGrams(Upper(column))


def short_contains(column: str, q: str) -> DataContains:
    """``column`` contains ``q`` (one or two characters), in any case, as ``icontains``
    means it, through the column's short-grams index."""
    if not 0 < len(q) <= SHORT_SEARCH_LENGTH:
        raise ValueError("A short search is one or two characters.")
    wanted = Func(Upper(Value(q)), function="ARRAY", template="ARRAY[%(expressions)s]")
    return DataContains(short_grams_index_expression(column), wanted)
