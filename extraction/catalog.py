"""The shipped document types: YAML files loaded into the database, where admins may edit them."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

from audit.models import Action
from audit.services import audit_record

from .models import DocumentType
from .schemas import DocumentTypeSpec
from .type_definition import definition_from_data

CATALOG_DIR = Path(__file__).resolve().parent / "document_types"


def shipped_document_types() -> list[dict]:
    """Each shipped definition, checked (``type_definition``): a malformed file fails here."""
    return [
        definition_from_data(yaml.safe_load(path.read_text())).model_dump(
            mode="json", exclude_defaults=True
        )
        for path in sorted(CATALOG_DIR.glob("*.yaml"))
    ]


@transaction.atomic
def document_types_sync() -> list[DocumentType]:
    """Create the shipped types, and update one only when the shipped version is newer.

    Idempotent; an admin's edits to a type survive until a newer version ships.
    """
    synced = []
    for data in shipped_document_types():
        defaults = {
            "label": data["label"],
            "version": data.get("version", 1),
            "description": data.get("description", ""),
            "fields": data["fields"],
            "date_order": data.get("date_order", ""),
            "keywords": data.get("keywords", []),
            "currency": data.get("currency", ""),
            "languages": data.get("languages", []),
        }
        document_type, created = DocumentType.objects.get_or_create(
            key=data["key"], defaults=defaults
        )
        if created:
            document_type_audit(document_type=document_type, before=None, actor=None)
        elif document_type.version < defaults["version"]:
            before = document_type_snapshot(document_type)
            for name, value in defaults.items():
                setattr(document_type, name, value)
            document_type.save()
            document_type_audit(document_type=document_type, before=before, actor=None)
        synced.append(document_type)
    return synced


# What a change of a document type is recorded with (every editable attribute).
AUDITED_ATTRIBUTES = (
    "key",
    "label",
    "version",
    "description",
    "fields",
    "is_active",
    "provider",
    "date_order",
    "keywords",
    "currency",
    "languages",
)


def document_type_snapshot(document_type: DocumentType) -> dict:
    return {name: getattr(document_type, name) for name in AUDITED_ATTRIBUTES}


def document_type_audit(*, document_type: DocumentType, before: dict | None, actor) -> None:
    """Record a created or changed document type in the audit trail: every attribute that
    changed, from and to (for ``fields``, also which field keys were added, removed or
    changed). Call inside the transaction that saved it; nothing is recorded when nothing
    changed."""
    after = document_type_snapshot(document_type)
    if before is None:
        changes = {name: {"from": None, "to": value} for name, value in after.items()}
    else:
        changes = {
            name: {"from": before[name], "to": after[name]}
            for name in AUDITED_ATTRIBUTES
            if before[name] != after[name]
        }
    if not changes:
        return
    data = {"key": document_type.key, "created": before is None, "changes": changes}
    if before is not None and "fields" in changes:
        old = {spec.get("key"): spec for spec in before["fields"] or []}
        new = {spec.get("key"): spec for spec in after["fields"] or []}
        data["fields_added"] = sorted(str(key) for key in new.keys() - old.keys())
        data["fields_removed"] = sorted(str(key) for key in old.keys() - new.keys())
        data["fields_changed"] = sorted(
            str(key) for key in new.keys() & old.keys() if new[key] != old[key]
        )
    audit_record(
        action=Action.DOCUMENT_TYPE_CHANGED,
        actor=actor,
        role=actor.role if actor is not None else "system",
        subject=document_type,
        data=data,
    )


def shipped_spec(key: str):
    """The shipped definition of one type as a DocumentTypeSpec, without the database."""
    data = definition_from_data(yaml.safe_load((CATALOG_DIR / f"{key}.yaml").read_text()))
    return DocumentTypeSpec.from_dict(data.model_dump(mode="json", exclude_defaults=True))
