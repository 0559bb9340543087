"""Production: HTTPS only, secure cookies, HSTS; refuses to start with a weak secret key or
without a real database. ``manage.py check --deploy`` is clean with these defaults."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import AUDIT_HMAC_KEY, DATABASES, REDIS_URL, SECRET_KEY, env
from .secrets import secret_key_problem

if problem := secret_key_problem(SECRET_KEY):
    raise ImproperlyConfigured(problem)
if len(AUDIT_HMAC_KEY) < 32:
    raise ImproperlyConfigured(
        "AUDIT_HMAC_KEY must be set in production (at least 32 characters, kept outside the "
        "database): it keys the audit trail's chain."
    )
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and not env.bool(
    "ALLOW_SQLITE_IN_PRODUCTION", default=False
):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production.")

DEBUG = False
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SESSION_COOKIE_HTTPONLY = True
# One year; set SECURE_HSTS_SECONDS=300 for a first rollout, and 0 only to back out of HTTPS.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Reviewers and admins must set up an authenticator app (TOTP) before any staff screen opens.
ATTEST_REQUIRE_STAFF_MFA = env.bool("ATTEST_REQUIRE_STAFF_MFA", default=True)
# Sign-in throttling counts failures in the cache, so every web process must share one.
CACHES = {"default": env.cache("CACHE_URL", default=REDIS_URL)}
CACHES["default"].setdefault("KEY_PREFIX", "attest-cache")
# Behind one proxy (as SECURE_PROXY_SSL_HEADER assumes): the client's address is the last one
# the proxy appends to X-Forwarded-For, so that per-address limits count people, not the proxy.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=1)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
