"""Staff set up a second factor before they touch a staff screen."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

# allauth's own pages (sign-out, setting up the authenticator, re-entering the password it asks
# for first) and the browser's CSP reports stay open to staff without one.
OPEN_URL_PREFIXES = ("account_", "mfa_")
OPEN_URL_NAMES = frozenset({"csp_report"})
# URL namespaces that answer in JSON (the REST API): told, not redirected.
JSON_NAMESPACES = frozenset({"api"})
SETUP_MESSAGE = (
    "Reviewers and admins sign in with a code from an authenticator app as well as their "
    "password. Set one up to continue."
)


def staff_must_set_up_mfa(user) -> bool:
    """True for a signed-in reviewer or admin (or anyone who may open Django admin) who has no
    TOTP authenticator while ATTEST_REQUIRE_STAFF_MFA is on; applicants are never forced."""
    if not settings.ATTEST_REQUIRE_STAFF_MFA or not user.is_authenticated:
        return False
    if not (user.is_staff or user.is_reviewer):
        return False
    return not is_mfa_enabled(user, [Authenticator.Type.TOTP])


class StaffMFAMiddleware:
    """Sends staff without an authenticator app to allauth's TOTP set-up page from every other
    page (an htmx request is told to load it instead of receiving it as a fragment)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        name = (match.url_name or "") if match else ""
        if name in OPEN_URL_NAMES or name.startswith(OPEN_URL_PREFIXES):
            return None
        if not staff_must_set_up_mfa(request.user):
            return None
        url = reverse("mfa_activate_totp")
        if match and match.namespace in JSON_NAMESPACES:
            return JsonResponse({"code": "mfa_required", "message": SETUP_MESSAGE}, status=403)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        messages.warning(request, SETUP_MESSAGE, fail_silently=True)
        return redirect(url)
