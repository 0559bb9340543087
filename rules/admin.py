from django.contrib import admin

from core.admin_mixins import ReadOnlyAdmin

from .models import Flag


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["title", "application", "severity", "status", "rule_key", "created_at"]
    list_filter = ["status", "severity", "rule_key"]
    search_fields = ["application__reference", "message"]
    list_select_related = ["application"]
