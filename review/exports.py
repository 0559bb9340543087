"""Exports of approved applications: one row per verified value, with its evidence and who
confirmed it, as CSV rows or JSON-able dicts.

Service functions only (no request, no response): the staff screen (``review.views.staff``)
and an API can both stream them. Every function takes applications (a queryset or a list) and
keeps only the approved ones, so no caller can export a case nobody decided. Sensitive values
(SSNs, account numbers...) are masked as the staff screens mask them, unless the caller passes
``reveal_sensitive=True`` for a person allowed to see them unmasked.

Large sets stream: applications are read in batches of ``BATCH`` with three queries per batch
(fields with their documents and pages, revisions with their actors, decisions), whatever the
number of values.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from applications.models import Application
from extraction.history import RevisionAction
from extraction.models import Field, FieldRevision
from extraction.normalize import mask

from .models import Decision

BATCH = 200

CSV_COLUMNS = [
    "application",
    "application_id",
    "approved_at",
    "approved_by",
    "document_id",
    "document",
    "document_type",
    "field_key",
    "field",
    "kind",
    "value",
    "normalized",
    "status",
    "page",
    "box",
    "found_on_page",
    "second_reading",
    "confirmed_by",
    "confirmed_role",
    "confirmed_action",
    "confirmed_at",
    "changed_from_machine",
    "revisions",
    "history",
]

# A person's act on a value, newest first, is "who confirmed" it.
PERSON_ACTIONS = frozenset(
    {
        RevisionAction.CONFIRMED,
        RevisionAction.CORRECTED,
        RevisionAction.ENTERED,
        RevisionAction.ABSENT,
    }
)


def approved(applications: QuerySet | Iterable[Application]) -> QuerySet:
    """The approved applications among ``applications``, oldest decision first."""
    if isinstance(applications, QuerySet):
        queryset = applications
    else:
        queryset = Application.objects.filter(pk__in=[a.pk for a in applications])
    return queryset.filter(status=Application.Status.APPROVED).order_by("decided_at", "pk")


def _shown(field: Field, value: str, reveal: bool) -> str:
    if reveal or not value or not field.sensitive:
        return value
    return mask(field.kind, value)


def _who(revision: FieldRevision | None) -> str:
    if revision is None:
        return ""
    if revision.actor_id is None:
        return revision.role
    return revision.actor.email


def _history(revisions: list[FieldRevision]) -> str:
    """One line per revision, oldest first: "<action> by <who> (<role>) on <date>"; values
    stay out (the value column has the current one, masked where sensitive)."""
    return "; ".join(
        f"{revision.action} by {_who(revision)} ({revision.role}) on "
        f"{revision.created_at:%Y-%m-%d %H:%M}"
        for revision in revisions
    )


def _field_dict(field: Field, revisions: list[FieldRevision], reveal: bool) -> dict:
    confirmed = next(
        (r for r in reversed(revisions) if r.action in PERSON_ACTIONS and r.actor_id), None
    )
    return {
        "document_id": field.document_id,
        "document": field.document.original_name,
        "document_type": field.document.document_type.key
        if field.document.document_type_id
        else None,
        "key": field.key,
        "label": field.label,
        "kind": field.kind,
        "value": _shown(field, field.value, reveal),
        "normalized": _shown(field, field.normalized, reveal),
        "masked": field.sensitive and not reveal,
        "status": field.status,
        "evidence": {
            "page": field.page.number if field.page_id else None,
            "box": field.box or None,
            "found_on_page": field.grounded,
            "second_reading": field.agreement or None,
        },
        "confirmed_by": {
            "person": _who(confirmed),
            "role": confirmed.role,
            "action": confirmed.action,
            "at": confirmed.created_at.isoformat(),
        }
        if confirmed
        else None,
        "changed_from_machine": field.changed_from_machine,
        "revisions": len(revisions),
        "history": _history(revisions),
    }


def _batches(applications: QuerySet) -> Iterator[list[Application]]:
    batch: list[Application] = []
    for application in applications.select_related("owner").iterator(chunk_size=BATCH):
        batch.append(application)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _application_dicts(applications, reveal: bool) -> Iterator[dict]:
    for batch in _batches(approved(applications)):
        ids = [application.pk for application in batch]
        fields = list(
            Field.objects.filter(
                document__application_id__in=ids, document__removed_at__isnull=True
            )
            .select_related("document", "document__document_type", "page")
            .order_by(
                "document__application_id", "document__created_at", "document_id", "position", "pk"
            )
        )
        revisions: dict[int, list[FieldRevision]] = defaultdict(list)
        for revision in (
            FieldRevision.objects.filter(field__in=[field.pk for field in fields])
            .select_related("actor")
            .order_by("field_id", "number")
        ):
            revisions[revision.field_id].append(revision)
        approvals = {}
        for decision in (
            Decision.objects.filter(application_id__in=ids, kind=Decision.Kind.APPROVE)
            .select_related("reviewer")
            .order_by("created_at", "pk")
        ):
            approvals[decision.application_id] = decision  # the latest wins
        by_application: dict[int, list[dict]] = defaultdict(list)
        for field in fields:
            by_application[field.document.application_id].append(
                _field_dict(field, revisions[field.pk], reveal)
            )
        for application in batch:
            decision = approvals.get(application.pk)
            yield {
                "reference": application.reference,
                "id": application.pk,
                "status": application.status,
                "approved_at": application.decided_at.isoformat()
                if application.decided_at
                else None,
                "approved_by": decision.reviewer.email if decision else None,
                "fields": by_application[application.pk],
            }


def application_export(application: Application, *, reveal_sensitive: bool = False) -> dict | None:
    """One approved application as a JSON-able dict (None when it is not approved):
    ``{"reference", "id", "status", "approved_at", "approved_by", "fields": [{"document_id",
    "document", "document_type", "key", "label", "kind", "value", "normalized", "masked",
    "status", "evidence": {"page", "box": [x0, y0, x1, y1] fractions or null, "found_on_page",
    "second_reading"}, "confirmed_by": {"person", "role", "action", "at"} or null,
    "changed_from_machine", "revisions", "history"}]}``."""
    return next(_application_dicts([application], reveal_sensitive), None)


def applications_export_json(applications, *, reveal_sensitive: bool = False) -> Iterator[str]:
    """``{"applications": [<application_export dicts>]}`` as text chunks, for streaming."""
    yield '{"applications":['
    for number, item in enumerate(_application_dicts(applications, reveal_sensitive)):
        yield ("," if number else "") + json.dumps(item, default=str)
    yield "]}"


def applications_export_rows(applications, *, reveal_sensitive: bool = False) -> Iterator[list]:
    """The CSV: ``CSV_COLUMNS`` first, then one row per value of each approved application.
    Cells are raw values; write them through ``core.exports.csv_rows``, which neutralises
    spreadsheet formulas."""
    yield CSV_COLUMNS
    for item in _application_dicts(applications, reveal_sensitive):
        for field in item["fields"]:
            evidence, confirmed = field["evidence"], field["confirmed_by"] or {}
            yield [
                item["reference"],
                item["id"],
                item["approved_at"] or "",
                item["approved_by"] or "",
                field["document_id"],
                field["document"],
                field["document_type"] or "",
                field["key"],
                field["label"],
                field["kind"],
                field["value"],
                field["normalized"],
                field["status"],
                evidence["page"] or "",
                " ".join(f"{float(c):.4f}" for c in evidence["box"]) if evidence["box"] else "",
                "yes" if evidence["found_on_page"] else "no",
                evidence["second_reading"] or "",
                confirmed.get("person", ""),
                confirmed.get("role", ""),
                confirmed.get("action", ""),
                confirmed.get("at", ""),
                "yes" if field["changed_from_machine"] else "no",
                field["revisions"],
                field["history"],
            ]
