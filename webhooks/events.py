"""What each event's payload says, and no more.

Every payload is ``{"type": <event>, "timestamp": <ISO 8601 UTC>, "data": {...}}`` (the
Standard Webhooks envelope). ``data`` names the application (id, reference, status) and the
thing that happened; it never carries extracted values, stated values, names, e-mail addresses,
notes or file names: a receiver that needs them fetches them with its own credentials, so a
leaked or mis-routed webhook exposes ids and statuses only (no SSN, masked or not).
"""

from __future__ import annotations

from audit.models import Action, AuditEvent

from .models import Event

# The audit actions that are webhook events.
AUDIT_EVENTS = {
    Action.APPLICATION_SUBMITTED: Event.APPLICATION_SUBMITTED,
    Action.APPLICATION_CHANGES_REQUESTED: Event.APPLICATION_CHANGES_REQUESTED,
    Action.APPLICATION_APPROVED: Event.APPLICATION_DECIDED,
    Action.APPLICATION_REJECTED: Event.APPLICATION_DECIDED,
}
DECISIONS = {
    Action.APPLICATION_APPROVED: "approved",
    Action.APPLICATION_REJECTED: "rejected",
}
# Document statuses that are webhook events.
DOCUMENT_EVENTS = {
    "extracted": Event.DOCUMENT_READ,
    "needs_manual_entry": Event.DOCUMENT_NEEDS_MANUAL_ENTRY,
}


def _application(application) -> dict:
    return {"id": application.pk, "reference": application.reference, "status": application.status}


def audit_event_data(event: AuditEvent, application) -> dict:
    """``data`` of the webhook for an application event of the audit trail.

    submitted: ``{"application", "documents": int, "values": int, "audit_sequence"}``;
    changes_requested: ``{"application", "decision_id", "reopened_fields": [field ids],
    "uploads_allowed": bool, "audit_sequence"}``; decided: ``{"application", "decision":
    "approved"|"rejected", "decision_id", "audit_sequence"}``.
    """
    data = {"application": _application(application), "audit_sequence": event.sequence}
    facts = event.data or {}
    if event.action == Action.APPLICATION_SUBMITTED:
        data["documents"] = facts.get("documents")
        data["values"] = facts.get("values")
    elif event.action == Action.APPLICATION_CHANGES_REQUESTED:
        data["decision_id"] = facts.get("decision")
        data["reopened_fields"] = facts.get("reopened_fields", [])
        data["uploads_allowed"] = bool(facts.get("uploads"))
    else:
        data["decision"] = DECISIONS[event.action]
        data["decision_id"] = facts.get("decision")
    return data


def document_data(document) -> dict:
    """``data`` of a document webhook: ``{"application", "document": {"id", "status",
    "document_type": key or null, "pages": int, "reason_code": str, "values": int}}``.
    ``reason_code`` says why a person must type values in (``unknown_type``,
    ``unreadable``...); empty for a document read in full."""
    return {
        "application": _application(document.application),
        "document": {
            "id": document.pk,
            "status": document.status,
            "document_type": document.document_type.key if document.document_type_id else None,
            "pages": document.page_count,
            "reason_code": document.reason_code,
            "values": document.fields.count(),
        },
    }
