from django.contrib import admin

from applications.admin_mixins import VisibleApplicationsAdmin
from core.admin_mixins import ReadOnlyAdmin

from .models import Flag, RuleError, RuleVersion


@admin.register(Flag)
class FlagAdmin(VisibleApplicationsAdmin):
    list_display = ["title", "application", "severity", "status", "rule_key", "created_at"]
    list_filter = ["status", "severity", "rule_key"]
    search_fields = ["application__reference", "message"]
    list_select_related = ["application"]


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    """Versions are immutable; rules are edited on the app's rule screens."""

    list_display = ["rule", "number", "title", "severity", "scope", "enabled", "created_at"]
    list_filter = ["severity", "enabled"]
    search_fields = ["rule__key", "title", "expression"]
    list_select_related = ["rule"]


@admin.register(RuleError)
class RuleErrorAdmin(ReadOnlyAdmin):
    """Run-time failures per rule version; the rule health screen is the place to read them."""

    list_display = ["version", "count", "last_where", "last_seen_at"]
    list_select_related = ["version", "version__rule"]
