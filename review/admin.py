from django.contrib import admin

from applications.models import Application
from core.admin_mixins import ReadOnlyAdmin, ReadOnlyInline

from .models import Decision


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ["kind", "reviewer", "note", "created_at"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "stated_name",
        "owner",
        "status",
        "risk_score",
        "assigned_to",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["reference", "stated_name", "owner__email"]
    list_select_related = ["owner", "assigned_to"]
    date_hierarchy = "created_at"
    inlines = [DecisionInline]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["application", "kind", "reviewer", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["application", "reviewer"]
