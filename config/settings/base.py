"""Settings shared by every environment, read from the environment through django-environ.

Defaults give a working single-machine app (SQLite, local files, the `local` provider); production
overrides refuse to start without the secrets they need (see production.py).
"""

from pathlib import Path

import environ

from config.provider_prices import default_prices

from .storage import file_storages_from_env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A developer's .env is read when present; real deployments set the environment directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="")
# The key of the audit trail's MAC chain. It must live outside the database (environment or a
# secrets manager): whoever holds both could rewrite history undetected (docs/audit.md).
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # On PostgreSQL only: OpClass in index expressions (the search's trigram indexes).
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "core",
    "audit",
    "applications",
    "extraction",
    "rules",
    "review",
    "evals",
    "ninja",
    "api",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every answer under /api/ in the API's error shape (api/middleware.py).
    "api.middleware.ApiErrorShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # NUL characters out of submitted forms: PostgreSQL cannot store them (core/middleware.py).
    "core.middleware.StripNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Reviewers and admins set up an authenticator app before any staff screen opens
    # (ATTEST_REQUIRE_STAFF_MFA).
    "accounts.middleware.StaffMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

# Content-Security-Policy on every response (django-csp): scripts and styles only from our own
# static files (no inline code, no eval: htmx runs with allowEval false), no plugins, no framing.
# Browsers report violations to /csp-report/, which logs them (core/csp.py).
CSP_REPORT_PATH = "/csp-report/"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "report-uri": [CSP_REPORT_PATH],
    },
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.role",
            ],
        },
    },
]

VAR_DIR = BASE_DIR / "var"
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'attest.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(exist_ok=True)
    # WAL lets the web process read while a worker writes; the timeout rides out short locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]

# --- Sign-up, sign-in, password reset and staff TOTP: django-allauth ----------------------------
# People sign in with their e-mail address; a new applicant confirms it by a link before the
# first sign-in. Neither sign-up nor password reset says whether an address has an account:
# both answer with the same page and e-mail the address (ACCOUNT_PREVENT_ENUMERATION).
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupDetailsForm"
ACCOUNT_FORMS = {
    "login": "accounts.allauth_forms.EmailLoginForm",
    "signup": "accounts.allauth_forms.EmailSignupForm",
    "reset_password": "accounts.allauth_forms.EmailResetPasswordForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_GET = False
# Signed in until signing out or two weeks pass (SESSION_COOKIE_AGE), as before allauth.
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 1
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Throttling, counted in the Django cache (Redis in production): after 5 failed sign-ins for one
# address in 5 minutes, or 10 from one address a minute, sign-in is refused with a plain message
# until the window passes, even with the right password.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("ACCOUNT_LOGIN_FAILED_RATE", default="10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
# A TOTP authenticator app, with recovery codes, for everyone who wants one; staff must have one
# (ATTEST_REQUIRE_STAFF_MFA, accounts/middleware.py).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Attest"
# A code is accepted from the 30-second step before or after the current one (clock drift, a code
# typed as it turns over); each code works once (allauth remembers used ones in the cache).
MFA_TOTP_TOLERANCE = 1
# Reviewers and admins are sent to set up an authenticator app before any other screen opens.
# On in production; `make run` and the tests turn it off so that the demo staff can sign in with
# a password alone (README, "Signing in").
ATTEST_REQUIRE_STAFF_MFA = env.bool("ATTEST_REQUIRE_STAFF_MFA", default=True)
# Rate limits and anything else cached; per process unless CACHE_URL points at a shared cache.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://attest")}
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

# Uploaded originals and rendered pages live outside every web-served root and are only ever
# returned by permission-checked views: in a local folder, or with ATTEST_STORAGE=s3 in an
# S3-compatible bucket shared by every machine (config/settings/storage.py, docs/storage.md).
PRIVATE_STORAGE_ROOT = env.path("PRIVATE_STORAGE_ROOT", default=BASE_DIR / "var" / "files")
STORAGES = {
    **file_storages_from_env(env, PRIVATE_STORAGE_ROOT),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Signed checkpoints of the audit chain's head (audit/seal.py). Point it at storage the
# database's administrators cannot rewrite (another host, an append-only mount).
AUDIT_SEAL_PATH = Path(
    env("AUDIT_SEAL_PATH", default=str(Path(str(PRIVATE_STORAGE_ROOT), "audit", "seal.log")))
)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Attest <no-reply@attest.local>")
# Links in e-mails point here (the address people open Attest at).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
EMAIL_URL = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_HOST = EMAIL_URL["EMAIL_HOST"]
EMAIL_PORT = EMAIL_URL["EMAIL_PORT"]
EMAIL_HOST_USER = EMAIL_URL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_URL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_URL.get("EMAIL_USE_TLS", False)

# --- Queue -------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
# A task's countdown must stay below this, or Redis redelivers it while it still waits.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "recover-stuck-documents": {
        "task": "extraction.recover_stuck_documents",
        # Short, so that documents queued while the broker was down, or whose reader died,
        # are sent again within seconds of it coming back (``extraction.recovery``).
        "schedule": env.float("EXTRACTION_SWEEP_SECONDS", default=10.0),
    },
    "seal-audit-head": {"task": "audit.seal_head", "schedule": 60.0},
    "send-due-webhooks": {"task": "webhooks.send_due", "schedule": 60.0},
}

# --- Uploads -----------------------------------------------------------------------------------
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=25 * 1024 * 1024)
UPLOAD_MAX_PAGES = env.int("UPLOAD_MAX_PAGES", default=50)
# One request (a batch of files) may declare at most this many bytes; more is refused unread.
UPLOAD_MAX_REQUEST_BYTES = env.int("UPLOAD_MAX_REQUEST_BYTES", default=100 * 1024 * 1024)
# The size limits are enforced while the body arrives (extraction/upload_limits.py).
FILE_UPLOAD_HANDLERS = [
    "extraction.upload_limits.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- REST API (api/, docs/api.md) ------------------------------------------------------------
# Requests per key (or signed-in person) per period, counted in the cache above: "120/min".
API_RATE_LIMIT = env("API_RATE_LIMIT", default="120/min")

# --- Extraction --------------------------------------------------------------------------------
EXTRACTION_PROVIDER = env("EXTRACTION_PROVIDER", default="local")
# How numeric dates are read: MDY (03/04/2026 is March 4), DMY or YMD. A document type may
# override it (DocumentType.date_order).
EXTRACTION_DATE_ORDER = env("EXTRACTION_DATE_ORDER", default="MDY")
# Extra folders of document type files (*.yaml), comma-separated, loaded by
# `manage.py sync_document_types` (and `make run`) beside the shipped ones: a team's own types,
# kept in git. A file there with a shipped type's key replaces the shipped definition.
DOCUMENT_TYPES_DIRS = env.list("DOCUMENT_TYPES_DIRS", default=[])
# OCR for scans and photos: "auto" (RapidOCR for camera photos; for scans, Tesseract where
# installed, else RapidOCR: extraction.ocr.engine_name), "rapidocr"
# (ships with the Python packages), "tesseract" (Debian's tesseract-ocr) or "none".
# Figures: `python -m bench.ocr` and `python -m bench.evals` (README, "OCR engines").
EXTRACTION_OCR_ENGINE = env("EXTRACTION_OCR_ENGINE", default="auto")
LLM_BASE_URL = env("LLM_BASE_URL", default="https://api.openai.com/v1")
LLM_API_KEY = env("LLM_API_KEY", default="")
LLM_MODEL = env("LLM_MODEL", default="gpt-5.4-mini")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=120.0)
LLM_IMAGE_DETAIL = env("LLM_IMAGE_DETAIL", default="auto")
# Ollama reads only max_tokens; OpenAI's newer models want max_completion_tokens.
LLM_MAX_TOKENS_PARAM = env("LLM_MAX_TOKENS_PARAM", default="max_completion_tokens")
LLM_MAX_TOKENS = env.int("LLM_MAX_TOKENS", default=2048)
LLM_EXTRA_HEADERS = env.json("LLM_EXTRA_HEADERS", default={})
# Azure OpenAI deployment URLs only (.../openai/deployments/<name>): sent as ?api-version=.
LLM_API_VERSION = env("LLM_API_VERSION", default="")
# Blank: no temperature is sent (OpenAI's reasoning models refuse any but the default); set 0
# for a local server (Ollama, vLLM, llama.cpp) to read deterministically.
LLM_TEMPERATURE = env.float("LLM_TEMPERATURE", default=None)
# Price per million tokens, by model: {"gpt-5.4-mini": {"input": "0.75", "output": "4.50"}}.
# Defaults: config/provider_prices.py (one dated, sourced row per model).
LLM_PRICES = env.json("LLM_PRICES", default=default_prices("openai"))
# Page images are rendered so that their long side is at most this many pixels.
PAGE_IMAGE_MAX_PIXELS = env.int("PAGE_IMAGE_MAX_PIXELS", default=1600)
# A document left in `processing` longer than this is handed back to the queue.
EXTRACTION_STUCK_AFTER_SECONDS = env.int("EXTRACTION_STUCK_AFTER_SECONDS", default=900)
EXTRACTION_MAX_ATTEMPTS = env.int("EXTRACTION_MAX_ATTEMPTS", default=4)
# A reading holds its document this long unless its heartbeat (every third of it) renews it; a
# reading whose worker died is taken over once it runs out (at once when the worker was on this
# machine). Last resort: a reading is not renewed past EXTRACTION_STUCK_AFTER_SECONDS.
EXTRACTION_LEASE_SECONDS = env.float("EXTRACTION_LEASE_SECONDS", default=20.0)
# A document never handed to the broker (its send failed) is sent again after this long.
EXTRACTION_RESEND_GRACE_SECONDS = env.float("EXTRACTION_RESEND_GRACE_SECONDS", default=5.0)
# Pages are rendered in slices of about this long; then the document queues again behind those
# that waited, so that one heavy upload cannot hold every worker. 0: all pages at once.
EXTRACTION_SLICE_SECONDS = env.float("EXTRACTION_SLICE_SECONDS", default=2.0)
# Provider calls start while later pages are still rendered; at most this many rendered pages
# wait in a worker's memory for their call (rendering waits beyond it). 0: no streaming, every
# page is rendered before the first call. The default lets 8 calls of 4 pages be in flight
# while the next group renders (16, before, capped a document at 4 calls at once: a 20-page
# statement at 2 s a call waited 2 s for room); a page waits as the image sent, 20-140 KB at
# 1,024 px, so 40 of them hold a few MB.
EXTRACTION_STREAM_MAX_PAGES = env.int("EXTRACTION_STREAM_MAX_PAGES", default=40)
# A document's pages are rendered by this many sandboxed children at once, page by page in
# turn (extraction.ingest.render_pages): 1-3 s of OCR a scanned page or photo, so on two cores
# the last page of a long scan is ready in about half the time. Each child has
# its own RENDER_MEMORY_LIMIT_MB (and loads the OCR models, 0.15 s of CPU, when its first page
# needs them); 1 renders in one child.
EXTRACTION_RENDER_PROCESSES = env.int("EXTRACTION_RENDER_PROCESSES", default=2)
# The same for a PDF whose first page has a text layer (the upload check notes it): a text page
# renders in about 25 ms, so one child has a 20-page file drawn while its first calls are out,
# and a second costs CPU (on two hyperthreads 44-53 ms a page against 40-44) for about 0.1-0.2 s
# less wall time (extraction.pipeline._renderers).
EXTRACTION_TEXT_RENDER_PROCESSES = env.int("EXTRACTION_TEXT_RENDER_PROCESSES", default=1)
# A slice that ends with pages left keeps its sandboxed renderer this long for the next slice
# of the same document (extraction/renderers.py). 0: a fresh child every slice.
EXTRACTION_RENDERER_PARK_SECONDS = env.float("EXTRACTION_RENDERER_PARK_SECONDS", default=30.0)
# First retry waits up to this many seconds, doubling each time (with jitter, capped).
EXTRACTION_RETRY_BACKOFF_SECONDS = env.int("EXTRACTION_RETRY_BACKOFF_SECONDS", default=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# The embedded broker for machines without Redis (set by `make run` when none is reachable).
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = env("CELERY_FILESYSTEM_BROKER_FOLDER", default=str(VAR_DIR / "broker"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _broker_folder,
        "data_folder_out": _broker_folder,
        "processed_folder": _broker_folder,
        "control_folder": f"{_broker_folder}/control",
        "store_processed": False,
    }

# --- Extraction: Anthropic, second reading, parallel pages, caps, image sizes --------------------
# Anthropic's Messages API. With EXTRACTION_PROVIDER=anthropic the LLM_* settings apply to it
# (LLM_BASE_URL, LLM_API_KEY, LLM_MODEL), so one set of variables points at any provider;
# ANTHROPIC_* wins when set, which lets a document type use Anthropic beside an OpenAI default.
_LLM_IS_ANTHROPIC = EXTRACTION_PROVIDER == "anthropic"
ANTHROPIC_BASE_URL = env(
    "ANTHROPIC_BASE_URL",
    default=(env("LLM_BASE_URL", default="") if _LLM_IS_ANTHROPIC else "")
    or "https://api.anthropic.com/v1",
)
ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default=LLM_API_KEY if _LLM_IS_ANTHROPIC else "")
ANTHROPIC_MODEL = env(
    "ANTHROPIC_MODEL",
    default=(env("LLM_MODEL", default="") if _LLM_IS_ANTHROPIC else "") or "claude-haiku-5-5",
)
ANTHROPIC_TIMEOUT_SECONDS = env.float("ANTHROPIC_TIMEOUT_SECONDS", default=LLM_TIMEOUT_SECONDS)
ANTHROPIC_MAX_TOKENS = env.int("ANTHROPIC_MAX_TOKENS", default=LLM_MAX_TOKENS)
ANTHROPIC_EXTRA_HEADERS = env.json(
    "ANTHROPIC_EXTRA_HEADERS", default=LLM_EXTRA_HEADERS if _LLM_IS_ANTHROPIC else {}
)
# Price per million tokens, by model, as LLM_PRICES.
ANTHROPIC_PRICES = env.json("ANTHROPIC_PRICES", default=default_prices("anthropic"))
# --- Extraction through cloud vendors: AWS Bedrock, Google Vertex AI (README: "Cloud providers")
# AWS Bedrock's Converse API, signed with SigV4; credentials from botocore's usual chain
# (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], AWS_PROFILE, instance roles).
BEDROCK_REGION = env("BEDROCK_REGION", default=env("AWS_REGION", default=""))
# Blank: https://bedrock-runtime.<BEDROCK_REGION>.amazonaws.com; set for a VPC endpoint.
BEDROCK_BASE_URL = env("BEDROCK_BASE_URL", default="")
# A named profile of ~/.aws/config; blank: the default chain.
BEDROCK_PROFILE = env("BEDROCK_PROFILE", default="")
# A model id, inference profile or ARN: "us.anthropic.claude-haiku-4-5-20251001-v1:0".
BEDROCK_MODEL = env("BEDROCK_MODEL", default="")
BEDROCK_TIMEOUT_SECONDS = env.float("BEDROCK_TIMEOUT_SECONDS", default=LLM_TIMEOUT_SECONDS)
BEDROCK_MAX_TOKENS = env.int("BEDROCK_MAX_TOKENS", default=LLM_MAX_TOKENS)
BEDROCK_EXTRA_HEADERS = env.json("BEDROCK_EXTRA_HEADERS", default={})
# Price per million tokens by model id, as LLM_PRICES (none verified: config/provider_prices.py).
BEDROCK_PRICES = env.json("BEDROCK_PRICES", default=default_prices("bedrock"))
# Google Vertex AI: Gemini (generateContent) or Claude (rawPredict), chosen by VERTEX_PUBLISHER;
# credentials from google-auth's application default credentials
# (GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`, the metadata server).
VERTEX_PROJECT = env("VERTEX_PROJECT", default=env("GOOGLE_CLOUD_PROJECT", default=""))
VERTEX_LOCATION = env("VERTEX_LOCATION", default="us-central1")
VERTEX_PUBLISHER = env("VERTEX_PUBLISHER", default="google")  # "google" or "anthropic"
# Blank: https://<location>-aiplatform.googleapis.com (aiplatform.googleapis.com for "global").
VERTEX_BASE_URL = env("VERTEX_BASE_URL", default="")
VERTEX_MODEL = env("VERTEX_MODEL", default="")
VERTEX_TIMEOUT_SECONDS = env.float("VERTEX_TIMEOUT_SECONDS", default=LLM_TIMEOUT_SECONDS)
VERTEX_MAX_TOKENS = env.int("VERTEX_MAX_TOKENS", default=LLM_MAX_TOKENS)
VERTEX_EXTRA_HEADERS = env.json("VERTEX_EXTRA_HEADERS", default={})
VERTEX_PRICES = env.json("VERTEX_PRICES", default=default_prices("vertex"))
# Claude on Vertex takes the version in the body; Anthropic's Vertex documentation names this one.
VERTEX_ANTHROPIC_VERSION = env("VERTEX_ANTHROPIC_VERSION", default="vertex-2023-10-16")
# A fixed OAuth access token instead of application default credentials (short-lived; tests and
# one-off runs only).
VERTEX_ACCESS_TOKEN = env("VERTEX_ACCESS_TOKEN", default="")

# Pages sent to an LLM in one call; the calls of one document run in parallel. 0: all in one.
EXTRACTION_PAGES_PER_CALL = env.int("EXTRACTION_PAGES_PER_CALL", default=4)
# Calls in flight per provider across every worker (a Redis semaphore); others wait their turn.
EXTRACTION_PROVIDER_CONCURRENCY = env.json(
    "EXTRACTION_PROVIDER_CONCURRENCY", default={"openai": 8, "anthropic": 4}
)
# How long a call waits for a free slot before the document is retried later.
EXTRACTION_SLOT_WAIT_SECONDS = env.float("EXTRACTION_SLOT_WAIT_SECONDS", default=60.0)
# The Redis holding those slots; blank: the Celery broker's, when it is Redis.
EXTRACTION_LIMITS_REDIS_URL = env("EXTRACTION_LIMITS_REDIS_URL", default="")
# A second, independent reading of every document (e.g. "local" beside an LLM); blank: none.
EXTRACTION_SECOND_PROVIDER = env("EXTRACTION_SECOND_PROVIDER", default="")
# Caps on paid provider calls (the local provider is free and uncapped); past one, the document
# waits for manual entry with a plain reason instead of spending more.
EXTRACTION_MAX_PAGES_PER_DOCUMENT = env.int("EXTRACTION_MAX_PAGES_PER_DOCUMENT", default=50)
EXTRACTION_MAX_CALLS_PER_DOCUMENT = env.int("EXTRACTION_MAX_CALLS_PER_DOCUMENT", default=40)
EXTRACTION_MAX_PAGES_PER_APPLICATION = env.int("EXTRACTION_MAX_PAGES_PER_APPLICATION", default=300)
EXTRACTION_MAX_CALLS_PER_APPLICATION = env.int("EXTRACTION_MAX_CALLS_PER_APPLICATION", default=200)
# Long side, in pixels, of the page images sent to each provider (0: as stored). OpenAI scales
# a page to 768 px on its short side at detail "high" anyway; Anthropic to 1568 px long side.
EXTRACTION_IMAGE_MAX_PIXELS = env.json(
    "EXTRACTION_IMAGE_MAX_PIXELS", default={"openai": 1024, "anthropic": 1568}
)

# --- Parsing untrusted files (extraction/sandbox.py) -------------------------------------------
# Uploads are inspected (in the web request) in a child process with this address-space cap.
# Each process keeps one zygote per job (extraction/zygote.py): a warm interpreter that forks
# a fresh child per file in about 5 ms instead of 0.3-0.5 s of CPU for a cold one, for the
# memory of an idle zygote (about 60 MB for uploads, 120 MB for pages). False: cold children.
SANDBOX_ZYGOTES = env.bool("SANDBOX_ZYGOTES", default=True)
PARSE_MEMORY_LIMIT_MB = env.int("PARSE_MEMORY_LIMIT_MB", default=512)
# Pages are rendered, and scans read by OCR, in a child with this one. Higher: RapidOCR's ONNX
# runtime reserves about 1.2 GB of address space before a page (RLIMIT_AS counts reserved, not
# resident, memory) and more for a whole letter page: 8 of 8 receipt photos failed OCR under
# 768 MB, and a full-page scan of the generated corpus under 1536 MB (read at 2048). Decoding
# stays bounded by the stream and pixel limits below whatever this is.
RENDER_MEMORY_LIMIT_MB = env.int("RENDER_MEMORY_LIMIT_MB", default=2048)
# Inspecting one upload (in the web request) may take this long before it is refused.
PARSE_TIME_LIMIT_SECONDS = env.float("PARSE_TIME_LIMIT_SECONDS", default=30.0)
# Rendering: the longest wait for the next page (OCR of one dense page included).
RENDER_PAGE_TIME_LIMIT_SECONDS = env.float("RENDER_PAGE_TIME_LIMIT_SECONDS", default=300.0)
# CPU seconds one child may use in all (a guard behind the wall-clock limits above).
PARSE_CPU_LIMIT_SECONDS = env.int("PARSE_CPU_LIMIT_SECONDS", default=900)
# One PDF stream may unpack to at most this many bytes; a larger one is refused at upload.
PARSE_MAX_STREAM_BYTES = env.int("PARSE_MAX_STREAM_BYTES", default=100 * 1024 * 1024)
# An image (or one TIFF page) of more pixels is refused; Pillow itself only warns up to 2x.
PARSE_MAX_IMAGE_PIXELS = env.int("PARSE_MAX_IMAGE_PIXELS", default=50_000_000)

# --- Webhooks (webhooks/, docs/webhooks.md) ---------------------------------------------------
# Their own queue, so that a receiver that is down or slow never holds up a reading: run a
# worker with `-Q webhooks` (scripts/dev.py starts one).
WEBHOOK_QUEUE = env("WEBHOOK_QUEUE", default="webhooks")
CELERY_TASK_ROUTES = {"webhooks.*": {"queue": WEBHOOK_QUEUE}}
# One attempt may take this long (the connection: at most 3 s of it).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Seconds between attempts: 10 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 6 h (9 attempts over
# about 23.6 hours), each with up to 10% jitter; then the delivery gives up (an admin can
# resend it).
WEBHOOK_RETRY_DELAYS = env.list(
    "WEBHOOK_RETRY_DELAYS", cast=float, default=[10, 60, 300, 1800, 7200, 18000, 36000, 21600]
)
# How much of a receiver's answer is kept with each attempt.
WEBHOOK_RESPONSE_KEEP_CHARS = env.int("WEBHOOK_RESPONSE_KEEP_CHARS", default=1000)
# Private, loopback and link-local receivers are refused unless this is on (webhooks/safety.py).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
# A due delivery whose task has not run after this long is sent again by the beat job.
WEBHOOK_SWEEP_GRACE_SECONDS = env.float("WEBHOOK_SWEEP_GRACE_SECONDS", default=120.0)
