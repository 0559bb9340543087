"""Django admin that shows each person only what Attest's own screens would show them."""

from __future__ import annotations

from core.admin_mixins import ReadOnlyAdmin

from .selectors import applications_visible_to


class VisibleApplicationsAdmin(ReadOnlyAdmin):
    """Rows that belong to an application appear only when the application is visible to the
    person on the app's own screens (``applications_visible_to``): staff never see a draft that
    was not submitted. ``application_path`` leads from the row to its application ("" for the
    Application itself). Superusers too: the demo admin is one, and an admin's role sees
    submitted applications only."""

    application_path = "application"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        visible = applications_visible_to(request.user)
        if not self.application_path:
            return queryset.filter(pk__in=visible.values("pk"))
        return queryset.filter(**{f"{self.application_path}__in": visible.values("pk")})
