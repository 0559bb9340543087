"""The shipped document types: YAML files loaded into the database, where admins may edit them."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

from .models import DocumentType

CATALOG_DIR = Path(__file__).resolve().parent / "document_types"


def shipped_document_types() -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted(CATALOG_DIR.glob("*.yaml"))]


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
        }
        document_type, created = DocumentType.objects.get_or_create(
            key=data["key"], defaults=defaults
        )
        if not created and document_type.version < defaults["version"]:
            for name, value in defaults.items():
                setattr(document_type, name, value)
            document_type.save()
        synced.append(document_type)
    return synced


def shipped_spec(key: str):
    """The shipped definition of one type as a DocumentTypeSpec, without the database."""
    from .schemas import DocumentTypeSpec

    return DocumentTypeSpec.from_dict(yaml.safe_load((CATALOG_DIR / f"{key}.yaml").read_text()))
