"""Sign-up, sign-in, password reset, e-mail confirmation and two-factor set-up: django-allauth's
views (``account_*`` and ``mfa_*`` URL names), with Attest's templates (templates/account,
templates/mfa, templates/allauth)."""

from django.urls import include, path

urlpatterns = [
    path("", include("allauth.urls")),
]
