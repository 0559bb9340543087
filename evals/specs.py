"""Document types for an eval run: the database's (what production reads with) or the YAML's."""

from __future__ import annotations

from django.db import DatabaseError

from extraction.catalog import shipped_document_types
from extraction.schemas import DocumentTypeSpec


class SpecSource:
    """Specs by key: an admin's edited type in the database wins over the shipped YAML, so an
    eval measures what the pipeline would send. Without a database (or before migrate) the
    shipped types are used. Looked up once per key per run."""

    def __init__(self, *, use_database: bool = True) -> None:
        self.use_database = use_database
        self._cache: dict[str, DocumentTypeSpec | None] = {}
        self._shipped = {data["key"]: data for data in shipped_document_types()}

    def get(self, key: str) -> DocumentTypeSpec | None:
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key]

    def _load(self, key: str) -> DocumentTypeSpec | None:
        if self.use_database:
            from extraction.models import DocumentType

            try:
                stored = DocumentType.objects.filter(key=key).first()
            # No database, or a test without database access: the shipped types will do.
            except (DatabaseError, RuntimeError):
                stored = None
            if stored is not None:
                return DocumentTypeSpec.from_model(stored)
        data = self._shipped.get(key)
        return DocumentTypeSpec.from_dict(data) if data else None

    def versions(self) -> dict[str, int]:
        return {key: spec.version for key, spec in sorted(self._cache.items()) if spec}
