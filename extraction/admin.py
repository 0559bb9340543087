from django.contrib import admin
from django.db import transaction

from core.admin_mixins import ReadOnlyAdmin, ReadOnlyInline

from .catalog import document_type_audit, document_type_snapshot
from .models import Document, DocumentType, ExtractionRun, Field, FieldRevision, Page


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    """Document types are data: admins add and edit them here (fields as a JSON list)."""

    list_display = ["label", "key", "version", "provider", "is_active"]
    list_filter = ["is_active", "provider"]
    search_fields = ["key", "label"]

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            before = document_type_snapshot(DocumentType.objects.get(pk=obj.pk))
        if change and "fields" in form.changed_data:
            # A changed schema is a new version, so runs and cached readings can tell them apart.
            obj.version += 1
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            document_type_audit(document_type=obj, before=before, actor=request.user)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = [
        "original_name",
        "application",
        "document_type",
        "status",
        "page_count",
        "created_at",
    ]
    list_filter = ["status", "document_type", "media_type"]
    search_fields = ["original_name", "sha256", "application__reference"]
    list_select_related = ["application", "document_type"]
    date_hierarchy = "created_at"


@admin.register(Page)
class PageAdmin(ReadOnlyAdmin):
    list_display = ["document", "number", "width", "height", "text_source"]
    list_select_related = ["document"]


@admin.register(ExtractionRun)
class ExtractionRunAdmin(ReadOnlyAdmin):
    list_display = [
        "document",
        "provider",
        "model",
        "reading",
        "page_first",
        "page_last",
        "outcome",
        "cached_from",
        "tokens_in",
        "tokens_out",
        "cost",
        "latency_ms",
        "created_at",
    ]
    list_filter = ["provider", "model", "outcome", "reading"]
    list_select_related = ["document"]
    date_hierarchy = "created_at"


class FieldRevisionInline(ReadOnlyInline):
    model = FieldRevision
    fields = ["number", "value", "role", "actor", "action", "reason", "created_at"]


@admin.register(Field)
class FieldAdmin(ReadOnlyAdmin):
    list_display = [
        "label",
        "document",
        "value",
        "machine_value",
        "status",
        "grounded",
        "agreement",
    ]
    list_filter = ["status", "grounded", "agreement", "kind"]
    search_fields = ["key", "document__application__reference"]
    list_select_related = ["document"]
    inlines = [FieldRevisionInline]


@admin.register(FieldRevision)
class FieldRevisionAdmin(ReadOnlyAdmin):
    list_display = ["field", "number", "value", "role", "actor", "action", "created_at"]
    list_filter = ["role", "action"]
    list_select_related = ["field", "actor"]
    date_hierarchy = "created_at"
