from django.contrib import admin

from .admin_mixins import ReadOnlyAdmin
from .models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["label", "kind", "status", "done", "total", "started_by", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["started_by"]
