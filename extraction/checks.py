"""Start-up checks: the document type folders of ``DOCUMENT_TYPES_DIRS`` exist and load."""

from __future__ import annotations

from django.core.checks import Error, register

from .catalog import CatalogError, shipped_document_types


@register()
def document_types_dirs_load(app_configs=None, **kwargs) -> list[Error]:
    """A missing folder or a malformed type file is named before anything starts, rather
    than when the sync or the rules editor reads the catalog."""
    try:
        shipped_document_types()
    except CatalogError as error:
        return [
            Error(
                str(error),
                hint="Correct the file, or the folder in DOCUMENT_TYPES_DIRS.",
                id="extraction.E001",
            )
        ]
    return []
