"""An eval run as tables: plain columns for a terminal, or Markdown for bench/results.md."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .corpus.variants import VARIANTS

# Cleanest first; "image" is a real document that is a photo or a scan of unknown kind.
VARIANT_ORDER = (*VARIANTS, "image")


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, markdown: bool = False) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in cells]
        lines.insert(1, "| " + " | ".join("---" for _ in headers) + " |")
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    # Text columns left, figures right.
    numeric = [i > 0 and all(_figure(row[i]) for row in cells[1:]) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
                for i, cell in enumerate(row)
            ).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _figure(text: str) -> bool:
    return (
        text == "-"
        or text.replace(",", "")
        .replace(".", "")
        .replace("%", "")
        .replace("$", "")
        .lstrip("-")
        .isdigit()
    )


def _variant_key(name: str) -> tuple[int, str]:
    return (VARIANT_ORDER.index(name) if name in VARIANT_ORDER else len(VARIANT_ORDER), name)


def variant_rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    groups = sorted(summary["by_variant"].items(), key=lambda item: _variant_key(item[0]))
    for name, group in [*groups, ("all", summary["overall"])]:
        fields, required = group["fields"], group["required_fields"]
        rows.append(
            [
                name,
                group["documents"],
                group["pages"],
                percent(fields["accuracy"]),
                percent(fields["exact_rate"]),
                percent(fields["match_rate"]),
                percent(fields["empty_rate"]),
                fields["wrong"],
                fields["invented"],
                required["invented"],
                percent(fields["grounded_rate"]),
                number(group["cost_per_page"], 4),
                number(group["tokens_in_per_page"], 0),
                number(group["tokens_out_per_page"], 0),
                number(group["latency_ms_per_page"], 0),
            ]
        )
    return rows


VARIANT_HEADERS = (
    "variant", "docs", "pages", "accuracy", "exact", "match", "empty", "wrong", "invented",
    "invented (req.)", "grounded", "$/page", "tok in/page", "tok out/page", "ms/page",
)  # fmt: skip
FIELD_HEADERS = (
    "type", "field", "req.", "docs", "accuracy", "exact", "match", "empty", "wrong", "invented",
    "grounded",
)  # fmt: skip


def field_rows(rows: list[dict[str, Any]], *, variant: bool = False) -> list[list[str]]:
    return [
        ([row["variant"]] if variant else [])
        + [
            row["document_type"],
            row["field"],
            "yes" if row["required"] else "",
            row["documents"],
            percent(row["accuracy"]),
            percent(row["exact_rate"]),
            percent(row["match_rate"]),
            percent(row["empty_rate"]),
            row["wrong"],
            row["invented"],
            percent(row["grounded_rate"]),
        ]
        for row in rows
    ]


def render(run: dict[str, Any], *, detail: bool = False, markdown: bool = False) -> str:
    """The run's header, the table per variant, and the table per document type and field."""
    meta, summary = run["meta"], run["summary"]
    parts = [
        f"Provider {meta['provider']} (model {meta['model'] or '-'}, prompt "
        f"{meta['prompt_version']}) on {meta['corpus']}: {meta['documents']} documents, "
        f"{meta['pages']} pages, {meta['wall_seconds']:.1f} s at concurrency "
        f"{meta['concurrency']}.",
        "",
        "Accuracy counts correct blanks; exact / match / empty are shares of the fields the "
        "document shows; invented = a value where the document shows none.",
        "",
        table(VARIANT_HEADERS, variant_rows(summary), markdown=markdown),
        "",
        table(FIELD_HEADERS, field_rows(summary["by_field"]), markdown=markdown),
    ]
    if detail:
        parts += [
            "",
            table(
                ("variant", *FIELD_HEADERS),
                field_rows(summary["by_variant_field"], variant=True),
                markdown=markdown,
            ),
        ]
    failed = [d for d in run["documents"] if d.get("errors")]
    if failed:
        parts += ["", f"{len(failed)} documents had errors, for example:"]
        parts += [f"  {d['path']}: {d['errors'][0]}" for d in failed[:5]]
    return "\n".join(parts) + "\n"
