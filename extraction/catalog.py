"""The shipped document types: YAML files loaded into the database, where admins may edit them.

Besides the package's own folder, ``settings.DOCUMENT_TYPES_DIRS`` names folders of a team's
own type files (kept in git, say); they load the same way, and a file there with the key of a
shipped type replaces the shipped one.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction

from audit.models import Action
from audit.services import audit_record

from .models import DocumentType, DocumentTypeVersion
from .schemas import DocumentTypeSpec
from .type_definition import DefinitionError, definition_from_data, load_yaml

CATALOG_DIR = Path(__file__).resolve().parent / "document_types"


class CatalogError(Exception):
    """A type file that cannot be loaded; the message names the file and the rows at fault."""


def catalog_dirs() -> list[Path]:
    """The package's folder, then each of ``DOCUMENT_TYPES_DIRS`` in order."""
    return [CATALOG_DIR, *(Path(folder) for folder in settings.DOCUMENT_TYPES_DIRS)]


def shipped_document_types() -> list[dict]:
    """Each definition of the catalog folders, checked (``type_definition``): a malformed file
    fails here, naming the file. A later folder's type replaces an earlier one's of that key."""
    by_key: dict[str, dict] = {}
    for folder in catalog_dirs():
        if not folder.is_dir():
            raise CatalogError(f"{folder}: DOCUMENT_TYPES_DIRS names a folder that does not exist")
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                data = definition_from_data(load_yaml(path.read_text()))
            except DefinitionError as error:
                raise CatalogError(f"{path}: {'; '.join(error.messages)}") from None
            except yaml.YAMLError as error:
                raise CatalogError(f"{path}: not valid YAML ({error})") from None
            by_key[data.key] = data.model_dump(mode="json", exclude_defaults=True)
    return list(by_key.values())


def definition_of(document_type: DocumentType) -> dict:
    """A type's definition as stored (type_definition's shape, without the version number)."""
    data = {name: getattr(document_type, name) for name in DEFINITION_ATTRIBUTES}
    data["key"] = document_type.key
    return {name: value for name, value in data.items() if value not in ("", [], None)}


# The attributes a definition (YAML) holds; a change of any of them makes a new version.
DEFINITION_ATTRIBUTES = (
    "label",
    "description",
    "date_order",
    "currency",
    "languages",
    "keywords",
    "fields",
)


def document_type_version_add(
    *, document_type: DocumentType, actor, source: str, note: str = ""
) -> DocumentTypeVersion:
    """Keep the type's current definition as version ``document_type.version``."""
    return DocumentTypeVersion.objects.create(
        document_type=document_type,
        number=document_type.version,
        definition=definition_of(document_type),
        author=actor,
        source=source,
        note=note[:300],
    )


@transaction.atomic
def document_types_sync() -> list[DocumentType]:
    """Create the catalog's types, and update one only when the file's version is newer.

    Idempotent; an admin's edits to a type survive until a newer version ships. Each load
    is kept as a version and recorded in the audit trail.
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
            document_type_version_add(document_type=document_type, actor=None, source="shipped")
            document_type_audit(document_type=document_type, before=None, actor=None)
        elif document_type.version < defaults["version"]:
            before = document_type_snapshot(document_type)
            for name, value in defaults.items():
                setattr(document_type, name, value)
            # Never reuse a number an admin's edit already took.
            latest = document_type.versions.order_by("-number").first()
            if latest is not None and latest.number >= document_type.version:
                document_type.version = latest.number + 1
            document_type.save()
            document_type_version_add(document_type=document_type, actor=None, source="shipped")
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
    data = definition_from_data(load_yaml((CATALOG_DIR / f"{key}.yaml").read_text()))
    return DocumentTypeSpec.from_dict(data.model_dump(mode="json", exclude_defaults=True))
