from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("core.urls")),
    path("", include("extraction.urls")),
    path("", include("review.urls")),
    path("rules/", include("rules.urls")),
]
