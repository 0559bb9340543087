"""Django admin for documents and what was read from them.

Staff see only the rows of applications they may see on Attest's own screens, and sensitive
values (SSNs, account numbers, anything a type marks sensitive) masked as on those screens,
unless they hold ``extraction.view_sensitive_values``. Raw provider responses are masked the
same way. Nothing here can be changed: values change only through the services, which write the
audit trail.
"""

from contextvars import ContextVar

from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models import ProtectedError, Q
from django.urls import reverse
from django.utils.html import format_html

from applications.admin_mixins import VisibleApplicationsAdmin
from core.admin_mixins import ReadOnlyInline

from .models import (
    Document,
    DocumentType,
    DocumentTypeVersion,
    ExtractionRun,
    Field,
    FieldRevision,
    Page,
)
from .normalize import mask


def may_see_sensitive(user) -> bool:
    """Whether ``user`` was granted ``extraction.view_sensitive_values`` by name (directly or
    through a group). Superusers hold every permission implicitly, so this asks the grant
    itself: being a superuser alone does not unmask an SSN."""
    if not user.is_active:
        return False
    return Permission.objects.filter(
        Q(user=user) | Q(group__user=user),
        content_type__app_label="extraction",
        codename="view_sensitive_values",
    ).exists()


def _shown(request, field: Field, value: str) -> str:
    if not value or not field.sensitive:
        return value
    if request is None:  # outside a known request: never unmask
        return mask(field.kind, value)
    if not hasattr(request, "_attest_sensitive"):
        request._attest_sensitive = may_see_sensitive(request.user)
    return value if request._attest_sensitive else mask(field.kind, value)


def masked_response(request, run: ExtractionRun) -> str:
    """The provider's raw answer with every value of a sensitive field masked, in the forms a
    model writes it (as read, and digits only)."""
    text = run.raw_response or ""
    if not text or (request is not None and may_see_sensitive(request.user)):
        return text
    spec = run.document.document_type.fields if run.document.document_type else []
    sensitive = {f["key"]: f.get("kind", "text") for f in spec if f.get("sensitive")}
    for key, kind in sensitive.items():
        value = str((run.values or {}).get(key) or "")
        digits = "".join(c for c in value if c.isdigit())
        for form in sorted({value, digits} - {""}, key=len, reverse=True):
            if len(form) >= 4:
                text = text.replace(form, mask(kind, value))
    return text


class DocumentTypeVersionInline(ReadOnlyInline):
    model = DocumentTypeVersion
    fields = ["number", "source", "author", "note", "created_at"]
    ordering = ["-number"]


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    """Document types are shown here; admins define and change them on Attest's own screen
    (``/types/``: fields as rows, checked on save, versioned, previewed, measured), which
    keeps every version and records each change in the audit trail."""

    list_display = ["label", "key", "version", "provider", "is_active", "edit_link"]
    list_filter = ["is_active", "provider"]
    search_fields = ["key", "label"]
    readonly_fields = ["edit_link"]
    inlines = [DocumentTypeVersionInline]
    # Deleting several at once would stop at the first type in use; each is deleted on its own.
    actions = None

    @admin.display(description="Edit")
    def edit_link(self, obj):
        return format_html('<a href="{}">Edit on Attest</a>', reverse("type_edit", args=[obj.key]))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A type that documents were read as stays (their history refers to it): switch it off
        # with "is active" instead. Delete is offered only where it would work.
        if obj is not None and Document.objects.filter(document_type=obj).exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        try:
            super().delete_model(request, obj)
        except ProtectedError:  # a document arrived since the page was shown
            self.message_user(
                request,
                f"“{obj}” is now used by a document, so it was kept. Untick “is active” "
                "to stop offering it.",
                level="error",
            )


@admin.register(Document)
class DocumentAdmin(VisibleApplicationsAdmin):
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
class PageAdmin(VisibleApplicationsAdmin):
    application_path = "document__application"
    list_display = ["document", "number", "width", "height", "text_source"]
    list_select_related = ["document"]


# The request being answered, for display methods (which Django calls without it). A context
# variable, not an attribute: admin instances are shared between requests and threads.
_request: ContextVar = ContextVar("attest_admin_request", default=None)


class _ForTheViewer(VisibleApplicationsAdmin):
    """Display methods may call ``_viewer()`` to mask for the person looking."""

    def changelist_view(self, request, extra_context=None):
        return self._as_viewer(request, super().changelist_view, request, extra_context)

    def changeform_view(self, request, *args, **kwargs):
        return self._as_viewer(request, super().changeform_view, request, *args, **kwargs)

    @staticmethod
    def _as_viewer(request, view, *args, **kwargs):
        token = _request.set(request)
        try:
            response = view(*args, **kwargs)
            # Render now, while the viewer is known: a TemplateResponse renders after return.
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response
        finally:
            _request.reset(token)


def _viewer():
    return _request.get()


@admin.register(ExtractionRun)
class ExtractionRunAdmin(_ForTheViewer):
    application_path = "document__application"
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
    exclude = ["raw_response", "values"]
    readonly_fields = ["response", "read_values"]

    @admin.display(description="Raw response (sensitive values masked)")
    def response(self, run):
        return masked_response(_viewer(), run)

    @admin.display(description="Values read (sensitive values masked)")
    def read_values(self, run):
        fields = {f.key: f for f in run.document.fields.all()}
        return {
            key: _shown(_viewer(), fields[key], str(value or "")) if key in fields else value
            for key, value in (run.values or {}).items()
        }


class FieldRevisionInline(ReadOnlyInline):
    model = FieldRevision
    fields = ["number", "shown_value", "role", "actor", "action", "reason", "created_at"]

    @admin.display(description="Value")
    def shown_value(self, revision):
        return _shown(_viewer(), revision.field, revision.value)


@admin.register(Field)
class FieldAdmin(_ForTheViewer):
    application_path = "document__application"
    list_display = [
        "label",
        "document",
        "shown_value",
        "shown_machine_value",
        "status",
        "grounded",
        "agreement",
    ]
    list_filter = ["status", "grounded", "agreement", "kind"]
    search_fields = ["key", "document__application__reference"]
    list_select_related = ["document"]
    inlines = [FieldRevisionInline]
    exclude = ["value", "machine_value", "normalized", "second_value"]
    readonly_fields = ["shown_value", "shown_machine_value", "shown_second_value"]

    @admin.display(description="Value")
    def shown_value(self, field):
        return _shown(_viewer(), field, field.value)

    @admin.display(description="Machine's value")
    def shown_machine_value(self, field):
        return _shown(_viewer(), field, field.machine_value)

    @admin.display(description="Second reading's value")
    def shown_second_value(self, field):
        return _shown(_viewer(), field, field.second_value)


@admin.register(FieldRevision)
class FieldRevisionAdmin(_ForTheViewer):
    application_path = "field__document__application"
    list_display = ["field", "number", "shown_value", "role", "actor_email", "action", "created_at"]
    list_filter = ["role", "action"]
    list_select_related = ["field", "actor"]
    date_hierarchy = "created_at"
    exclude = ["value"]
    readonly_fields = ["shown_value"]

    @admin.display(description="Value")
    def shown_value(self, revision):
        return _shown(_viewer(), revision.field, revision.value)

    @admin.display(description="Actor", ordering="actor__email")
    def actor_email(self, revision):
        return revision.actor.email if revision.actor else "machine"
