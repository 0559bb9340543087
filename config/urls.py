from django.contrib import admin
from django.urls import include, path

from core.csp import csp_report

urlpatterns = [
    path("admin/", admin.site.urls),
    path("csp-report/", csp_report, name="csp_report"),
    path("accounts/", include("accounts.urls")),
    path("", include("core.urls")),
    path("", include("extraction.urls")),
    path("", include("review.urls")),
    path("rules/", include("rules.urls")),
    path("", include("evals.urls")),
]
