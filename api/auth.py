"""Who is calling: an API key (``Authorization: Bearer attest_...``) or a signed-in session
(cookie, with Django's CSRF check on writes), and how often they may (per key or person)."""

from __future__ import annotations

from django.conf import settings
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.throttling import SimpleRateThrottle

from .services import Caller, api_key_authenticate


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer attest_<prefix>_<secret>``. A wrong or revoked key is refused
    (401) without trying the session: a client that sent a key meant that key."""

    def authenticate(self, request, token: str) -> Caller:
        key = api_key_authenticate(token)
        return Caller(user=key.user, key=key, scopes=frozenset(key.scopes))


class SessionCookieAuth(APIKeyCookie):
    """The signed-in person's session cookie; writes need the CSRF token (X-CSRFToken)."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request, key) -> Caller | None:
        if request.user.is_authenticated:
            return Caller(user=request.user)
        return None


class CallerRateThrottle(SimpleRateThrottle):
    """API_RATE_LIMIT requests per period per key (or per signed-in person), counted in the
    Django cache (Redis in production through CACHE_URL), by django-ninja's throttling."""

    scope = "api"

    def __init__(self):
        super().__init__(rate=settings.API_RATE_LIMIT)

    def allow_request(self, request) -> bool:
        # The setting is read on every request, so that a change (or a test) takes effect
        # without a restart.
        if self.rate != settings.API_RATE_LIMIT:
            self.rate = settings.API_RATE_LIMIT
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_cache_key(self, request) -> str | None:
        caller = getattr(request, "auth", None)
        if caller is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": caller.identity}
