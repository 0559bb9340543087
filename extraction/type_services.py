"""Writes on document types from Attest's own screens: save (a new version when the definition
changes), import and export as YAML, the difference between two versions, and a preview that
reads a sample file with an unsaved definition without storing anything.

Every save is checked with ``type_definition.definition_from_data`` first: nothing is written
when a row is wrong. Each change is kept as a ``DocumentTypeVersion`` and recorded in the audit
trail (``catalog.document_type_audit``) in the same transaction.
"""

from __future__ import annotations

import base64
import difflib
import itertools
import re
from dataclasses import dataclass, field

import yaml
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count

from .catalog import (
    DEFINITION_ATTRIBUTES,
    definition_of,
    document_type_audit,
    document_type_snapshot,
    document_type_version_add,
)
from .grounding import locate
from .images import media_type_of, sized_for
from .ingest import UnreadableDocument, render_pages
from .models import DocumentType, DocumentTypeVersion, ExtractionRun
from .providers import get_provider
from .providers.base import PageInput, ProviderError
from .reading import merge_values, page_groups, read_groups
from .schemas import DocumentTypeSpec
from .type_definition import DefinitionError, definition_from_data, load_yaml, yaml_problem
from .uploads import UploadRejected, inspect_upload

PROVIDERS = ("", "local", "openai", "anthropic")
# An imported YAML file larger than this is refused before parsing.
YAML_MAX_BYTES = 256 * 1024
# A preview reads the first pages of a sample only: enough to check a definition.
PREVIEW_MAX_PAGES = 3


class TypeChangeRefused(Exception):
    """A save that cannot be done as asked (stale page, key taken); ``message`` is plain."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def canonical_definition(data: dict) -> dict:
    """``data`` checked, in the form it is stored and exported (defaults left out, no version).

    Raises ``DefinitionError``."""
    checked = definition_from_data(data).model_dump(mode="json", exclude_defaults=True)
    checked.pop("version", None)
    return checked


@transaction.atomic
def document_type_save(
    *,
    actor,
    data: dict,
    is_active: bool | None = None,
    provider: str | None = None,
    note: str = "",
    source: str = "screen",
    based_on: int | None = None,
    create: bool | None = None,
) -> tuple[DocumentType, DocumentTypeVersion | None]:
    """Create or change the type ``data["key"]`` and return it with the version this save
    added (None when its definition did not change, e.g. only "active" was switched).

    ``based_on``: the version the person's page showed; a type changed since is refused, so
    one admin never silently overwrites another. ``create``: True refuses an existing key,
    False a missing one; None takes either (an import). Raises ``DefinitionError`` or
    ``TypeChangeRefused``; nothing is written then.
    """
    definition = canonical_definition(data)
    if provider is not None and provider not in PROVIDERS:
        raise TypeChangeRefused("Choose the provider from the list, or leave it blank.")
    document_type = DocumentType.objects.select_for_update().filter(key=definition["key"]).first()
    if document_type is None:
        if create is False:
            raise TypeChangeRefused(f"There is no document type {definition['key']}.")
        document_type = DocumentType(key=definition["key"], version=1)
        _apply(document_type, definition)
        # A new type starts switched off unless asked: measure it, then enable it.
        document_type.is_active = bool(is_active)
        document_type.provider = provider or ""
        try:
            with transaction.atomic():
                document_type.save()
        except IntegrityError:  # another admin created this key a moment ago
            raise TypeChangeRefused(
                f"A document type with the key {definition['key']} was just created by someone "
                "else; nothing was saved. Open it to change it, or choose another key."
            ) from None
        version = document_type_version_add(
            document_type=document_type, actor=actor, source=source, note=note
        )
        document_type_audit(document_type=document_type, before=None, actor=actor)
        return document_type, version
    if create is True:
        raise TypeChangeRefused(
            f"A document type with the key {definition['key']} exists already; open it to "
            "change it, or choose another key."
        )
    if based_on is not None and based_on != document_type.version:
        raise TypeChangeRefused(
            f"This type was changed to version {document_type.version} while you were editing "
            f"version {based_on}. Nothing was saved; reload the page to see the new version and "
            "make your change again."
        )
    before = document_type_snapshot(document_type)
    changed = _stored_definition(document_type) != definition
    if changed:
        _apply(document_type, definition)
        latest = document_type.versions.order_by("-number").first()
        document_type.version = max(document_type.version, latest.number if latest else 0) + 1
    if is_active is not None:
        document_type.is_active = is_active
    if provider is not None:
        document_type.provider = provider
    document_type.save()
    version = None
    if changed:
        version = document_type_version_add(
            document_type=document_type, actor=actor, source=source, note=note
        )
    document_type_audit(document_type=document_type, before=before, actor=actor)
    return document_type, version


def _stored_definition(document_type: DocumentType) -> dict:
    try:
        return canonical_definition(definition_of(document_type))
    except DefinitionError:  # stored before definitions were checked: any save changes it
        return definition_of(document_type)


def _apply(document_type: DocumentType, definition: dict) -> None:
    for name in DEFINITION_ATTRIBUTES:
        default = [] if name in ("languages", "keywords", "fields") else ""
        setattr(document_type, name, definition.get(name, default))


def document_type_yaml(document_type: DocumentType) -> str:
    """The type as a YAML file of the catalog's shape, with its version number."""
    data = _stored_definition(document_type)
    data = {"key": data.pop("key"), "label": data.pop("label"), **data}
    data["version"] = document_type.version
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def definition_from_yaml(text: str | bytes) -> dict:
    """A YAML document parsed into a checked definition. Raises ``DefinitionError``."""
    if isinstance(text, bytes):
        if len(text) > YAML_MAX_BYTES:
            raise DefinitionError(
                [f"The file is larger than {YAML_MAX_BYTES // 1024} KB; a type file is smaller."]
            )
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise DefinitionError(["The file is not UTF-8 text; save it as UTF-8 YAML."]) from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as error:
        raise DefinitionError([f"The file is not valid YAML{yaml_problem(error)}."]) from None
    if not isinstance(data, dict):
        raise DefinitionError(["The file must hold one document type: key, label, fields, ..."])
    return canonical_definition(data)


def document_type_import(
    *, actor, text: str | bytes, note: str = ""
) -> tuple[DocumentType, DocumentTypeVersion | None]:
    """Create or update a type from a YAML file (its ``version`` number is not taken: the
    version is this database's next one). Raises ``DefinitionError``."""
    definition = definition_from_yaml(text)
    return document_type_save(
        actor=actor, data=definition, note=note or "Imported from YAML", source="yaml import"
    )


def version_diff(version: DocumentTypeVersion) -> list[tuple[str, str]]:
    """The lines of ``version`` against the one before it, as YAML: ("+" | "-" | " ", line)."""
    earlier = (
        DocumentTypeVersion.objects.filter(
            document_type=version.document_type, number__lt=version.number
        )
        .order_by("-number")
        .first()
    )
    before = _yaml_lines(earlier.definition) if earlier else []
    after = _yaml_lines(version.definition)
    lines = []
    for line in difflib.unified_diff(before, after, lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(("@", line))
        else:
            lines.append((line[:1], line[1:]))
    return lines


def _yaml_lines(definition: dict) -> list[str]:
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100).splitlines()


def documents_per_version(document_type: DocumentType) -> dict[int, int]:
    """How many documents each version of the type read ({version number: documents}), from
    the runs' ``schema_version`` ("lease.v2.s2")."""
    rows = (
        ExtractionRun.objects.filter(
            document__document_type=document_type,
            reading=ExtractionRun.Reading.PRIMARY,
            schema_version__startswith=f"{document_type.key}.v",
        )
        .values("schema_version")
        .annotate(documents=Count("document", distinct=True))
    )
    counts: dict[int, int] = {}
    for row in rows:
        matched = re.match(rf"^{re.escape(document_type.key)}\.v(\d+)\.", row["schema_version"])
        if matched:
            number = int(matched[1])
            counts[number] = counts.get(number, 0) + row["documents"]
    return counts


# --- Preview ----------------------------------------------------------------------------------


@dataclass
class PreviewValue:
    key: str
    label: str
    value: str | None
    page: int | None = None
    box: list[float] | None = None

    @property
    def box_style(self) -> str:
        if not self.box:
            return ""
        x0, y0, x1, y1 = self.box
        return (
            f"left:{x0 * 100:.2f}%;top:{y0 * 100:.2f}%;"
            f"width:{(x1 - x0) * 100:.2f}%;height:{(y1 - y0) * 100:.2f}%"
        )


@dataclass
class PreviewPage:
    number: int
    width: int
    height: int
    data_url: str
    text_source: str


@dataclass
class PreviewReading:
    provider: str
    values: list[PreviewValue] = field(default_factory=list)
    error: str = ""


@dataclass
class Preview:
    pages: list[PreviewPage] = field(default_factory=list)
    readings: list[PreviewReading] = field(default_factory=list)
    error: str = ""


def llm_provider_name(document_type_provider: str = "") -> str:
    """The LLM provider a type would be read with, or "" when only the local reader is set."""
    name = (document_type_provider or settings.EXTRACTION_PROVIDER or "local").lower()
    return "" if name == "local" else name


def document_type_preview(
    *, data: dict, file_bytes: bytes, filename: str, provider: str = ""
) -> Preview:
    """Read one sample file with the definition ``data`` (saved or not): the offline reader,
    and the LLM provider when one is configured. Nothing is stored: no application, document
    or page; the file is inspected and rendered in the sandboxed child like an upload.

    Raises ``DefinitionError`` for a wrong definition; a file that cannot be read gives a
    Preview whose ``error`` says so in plain words.
    """
    spec = DocumentTypeSpec.from_dict({**canonical_definition(data), "version": 0})
    try:
        inspected = inspect_upload(file_bytes, filename=filename)
        rendered = list(
            itertools.islice(
                render_pages(
                    data=file_bytes,
                    media_type=inspected.media_type,
                    max_pixels=settings.PAGE_IMAGE_MAX_PIXELS,
                ),
                PREVIEW_MAX_PAGES,
            )
        )
    except UploadRejected as refusal:
        return Preview(error=refusal.message)
    except UnreadableDocument as unreadable:
        return Preview(error=unreadable.message)
    preview = Preview(
        pages=[
            PreviewPage(
                number=page.number,
                width=page.width,
                height=page.height,
                data_url=f"data:{media_type_of(page.image)};base64,"
                + base64.b64encode(page.image).decode("ascii"),
                text_source=page.text_source,
            )
            for page in rendered
        ]
    )
    names = ["local"]
    llm = llm_provider_name(provider)
    if llm:
        names.append(llm)
    for name in names:
        preview.readings.append(_preview_reading(name, spec, rendered))
    return preview


def _preview_reading(name: str, spec: DocumentTypeSpec, rendered: list) -> PreviewReading:
    reading = PreviewReading(provider=name)
    try:
        provider = get_provider(name)
    except ProviderError as error:
        reading.error = error.message
        return reading
    max_pixels = settings.EXTRACTION_IMAGE_MAX_PIXELS.get(name, 0)
    inputs = [
        PageInput(
            number=page.number,
            image_png=b""
            if name == "local"
            else sized_for(page.image, max_pixels=max_pixels, text_source=page.text_source),
            text=page.text,
        )
        for page in rendered
    ]
    size = 0 if name == "local" else settings.EXTRACTION_PAGES_PER_CALL
    outcomes = read_groups(
        provider=provider,
        spec=spec,
        pages=inputs,
        groups=page_groups([page.number for page in rendered], size=size),
        slots=None,
        max_threads=settings.EXTRACTION_PROVIDER_CONCURRENCY.get(name, 4),
    )
    errors = [o.error.message for o in outcomes if o.error is not None]
    if errors:
        reading.error = errors[0]
    values, _ = merge_values(spec, outcomes)
    words = [(page.number, page.words) for page in rendered]
    for spec_field in spec.fields:
        value = values.get(spec_field.key)
        found = None
        if value and not spec_field.is_rows:
            found = locate(
                value=value,
                kind=spec_field.kind,
                pages=words,
                date_order=spec.date_order,
                unsigned=spec_field.sign == "magnitude",
            )
        reading.values.append(
            PreviewValue(
                key=spec_field.key,
                label=spec_field.label,
                value=value,
                page=found.page if found else None,
                box=found.box if found else None,
            )
        )
    return reading
