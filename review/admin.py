from django.contrib import admin

from applications.admin_mixins import VisibleApplicationsAdmin
from applications.models import Application
from core.admin_mixins import ReadOnlyInline

from .models import Decision


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ["kind", "reviewer", "note", "created_at"]


@admin.register(Application)
class ApplicationAdmin(VisibleApplicationsAdmin):
    application_path = ""
    list_display = [
        "reference",
        "applicant_name",
        "owner_email",
        "status",
        "risk_score",
        "assignee_email",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["reference", "stated_name", "owner__email"]
    list_select_related = ["owner", "assigned_to"]
    date_hierarchy = "created_at"
    inlines = [DecisionInline]

    @admin.display(description="Applicant's stated name", ordering="stated_name")
    def applicant_name(self, obj):
        return obj.stated_name

    # People by e-mail: two applicants may share a name, never an address.
    @admin.display(description="Owner", ordering="owner__email")
    def owner_email(self, obj):
        return obj.owner.email

    @admin.display(description="Assigned to", ordering="assigned_to__email")
    def assignee_email(self, obj):
        return obj.assigned_to.email if obj.assigned_to else "—"


@admin.register(Decision)
class DecisionAdmin(VisibleApplicationsAdmin):
    list_display = ["application", "kind", "reviewer_email", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["application", "reviewer"]

    @admin.display(description="Reviewer", ordering="reviewer__email")
    def reviewer_email(self, obj):
        return obj.reviewer.email
