"""Two saved runs side by side, field by field, so that a prompt or model change is a diff.

Per document type and field: accuracy before and after and the counts of each error; then
every document whose outcome for a field changed, with the values read before and after.
Documents are matched by their path in the corpus, so both runs must use the same corpus.
"""

from __future__ import annotations

from typing import Any

from .report import percent, table
from .scoring import CORRECT


def _by_field(run: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["document_type"], row["field"]): row for row in run["summary"]["by_field"]}


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The differences between ``old`` and ``new`` as data (also what ``--json`` would hold)."""
    before, after = _by_field(old), _by_field(new)
    fields = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        accuracy_a = a["accuracy"] if a else None
        accuracy_b = b["accuracy"] if b else None
        delta = None if accuracy_a is None or accuracy_b is None else accuracy_b - accuracy_a
        fields.append(
            {
                "document_type": key[0],
                "field": key[1],
                "old_accuracy": accuracy_a,
                "new_accuracy": accuracy_b,
                "delta": delta,
                "old_invented": a["invented"] if a else None,
                "new_invented": b["invented"] if b else None,
                "old_wrong": a["wrong"] if a else None,
                "new_wrong": b["wrong"] if b else None,
            }
        )
    old_documents = {d["path"]: d for d in old["documents"]}
    changes = []
    for document in new["documents"]:
        earlier = old_documents.get(document["path"])
        if earlier is None:
            continue
        for key, scored in document.get("fields", {}).items():
            was = earlier.get("fields", {}).get(key)
            if was is None or was["outcome"] == scored["outcome"]:
                continue
            changes.append(
                {
                    "path": document["path"],
                    "field": key,
                    "old": was["outcome"],
                    "new": scored["outcome"],
                    "old_value": was["value"],
                    "new_value": scored["value"],
                    "better": scored["outcome"] in CORRECT,
                }
            )
    return {
        "old": old["meta"],
        "new": new["meta"],
        "old_accuracy": old["summary"]["overall"]["fields"]["accuracy"],
        "new_accuracy": new["summary"]["overall"]["fields"]["accuracy"],
        "fields": fields,
        "changes": changes,
    }


def _signed(delta: float | None) -> str:
    return "-" if delta is None else f"{100 * delta:+.1f} pt"


def render(diff: dict[str, Any], *, show_all: bool = False, limit: int = 50) -> str:
    old, new = diff["old"], diff["new"]
    rows = [
        [
            f["document_type"],
            f["field"],
            percent(f["old_accuracy"]),
            percent(f["new_accuracy"]),
            _signed(f["delta"]),
            f"{f['old_wrong']} -> {f['new_wrong']}",
            f"{f['old_invented']} -> {f['new_invented']}",
        ]
        for f in sorted(diff["fields"], key=lambda f: -abs(f["delta"] or 0))
        if show_all or f["delta"] or f["old_invented"] != f["new_invented"]
    ]
    parts = [
        f"old: {old['provider']} {old['model']} prompt {old['prompt_version']} "
        f"({old['started_at']})",
        f"new: {new['provider']} {new['model']} prompt {new['prompt_version']} "
        f"({new['started_at']})",
        f"accuracy {percent(diff['old_accuracy'])} -> {percent(diff['new_accuracy'])}",
        "",
    ]
    if rows:
        headers = ("type", "field", "old", "new", "change", "wrong", "invented")
        parts.append(table(headers, rows))
    else:
        parts.append("No field's accuracy changed.")
    changes = diff["changes"]
    if changes:
        worse = sum(1 for c in changes if not c["better"])
        parts += ["", f"{len(changes)} field readings changed ({worse} for the worse):"]
        for change in sorted(changes, key=lambda c: (c["better"], c["path"], c["field"]))[:limit]:
            parts.append(
                f"  {'+' if change['better'] else '-'} {change['path']} {change['field']}: "
                f"{change['old']} ({change['old_value']!r}) -> {change['new']} "
                f"({change['new_value']!r})"
            )
        if len(changes) > limit:
            parts.append(f"  ... and {len(changes) - limit} more in the JSON.")
    return "\n".join(parts) + "\n"
