"""Explicit status machines: each status field names its allowed moves, and one call makes them."""

from __future__ import annotations

from collections.abc import Mapping


class InvalidTransition(Exception):
    """A status change that the model's transition map does not allow."""

    def __init__(self, model_name: str, current: str, target: str):
        self.model_name = model_name
        self.current = current
        self.target = target
        super().__init__(f"{model_name} cannot move from '{current}' to '{target}'.")


def move(obj, target: str, transitions: Mapping[str, frozenset[str]], field: str = "status"):
    """Set ``obj.<field>`` to ``target`` if the map allows it; the caller saves.

    Moving to the status the object already has is a no-op, so that steps stay idempotent.
    """
    current = getattr(obj, field)
    if current == target:
        return
    if target not in transitions.get(current, frozenset()):
        raise InvalidTransition(type(obj).__name__, current, target)
    setattr(obj, field, target)
