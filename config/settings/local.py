"""One machine, as `make run` starts it: e-mail printed to the console, and the same friendly
404 and 500 pages a user sees in production (set DEBUG=1 for Django's debug pages)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)
# Without DEBUG, WhiteNoise serves the static files straight from the source folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-only")
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", default="local-development-audit-key")
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# The demo staff sign in with a password alone; ATTEST_REQUIRE_STAFF_MFA=1 make run asks them to
# set up an authenticator app first, as production does.
ATTEST_REQUIRE_STAFF_MFA = env.bool("ATTEST_REQUIRE_STAFF_MFA", default=False)
