from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from core.csp import csp_report

# Django admin signs people in through allauth's pages too: the same throttling, e-mail
# verification and staff two-factor sign-in, no second door.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("csp-report/", csp_report, name="csp_report"),
    path("accounts/", include("accounts.urls")),
    path("", include("core.urls")),
    path("", include("extraction.urls")),
    path("", include("review.urls")),
    path("rules/", include("rules.urls")),
    path("", include("evals.urls")),
    path("", include("api.urls")),
    path("webhooks/", include("webhooks.urls")),
]
