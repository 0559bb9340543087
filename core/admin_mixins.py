"""Admin screens for rows that only services may write (history, decisions, runs)."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows without letting the admin site add, change or delete them.

    Values change only through the services, which write the audit trail; an edit here would
    slip past it.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """An inline list of audited rows: shown, never added, changed or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False
