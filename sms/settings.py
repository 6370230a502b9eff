"""Settings of the SMS application, read from the environment (12-factor).

Production defaults are the safe ones: DEBUG is off unless ``DEBUG=1``, cookies are
secure unless ``SMS_INSECURE_COOKIES=1`` (set by the local run command, which serves
plain HTTP), and HSTS is sent when ``SMS_HTTPS=1``.

Database roles: ``DATABASE_URL`` is the application's connection, made as a role that
neither owns the tables nor bypasses row-level security. ``DATABASE_OWNER_URL`` is the
owner's connection; it is used instead when ``SMS_DB_OWNER=1`` (migrations, role set-up).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SMS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or env_bool("SMS_DEV"):
        SECRET_KEY = "dev-only-secret-key-not-for-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 / SMS_DEV=1 for local use).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "axes",
    # shared kernel
    "sms.tenancy",
    "sms.core",
    "sms.parties",
    "sms.cmdb",
    # controlled documents and records (clause 4.3)
    "documents",
    "documents.retention",
    # service management processes (clauses 5 to 9)
    "processes.design_transition",
    "processes.delivery",
    "processes.relationship",
    "processes.resolution",
    "processes.control",
    # the management system (clause 4)
    "governance",
    # dashboards, service reports, evidence packs
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sms.tenancy.middleware.TenantMiddleware",
    "sms.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sms.urls"
WSGI_APPLICATION = "sms.wsgi.application"
ASGI_APPLICATION = "sms.asgi.application"

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
                "sms.tenancy.context_processors.tenancy",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# The engine is PostgreSQL with one addition: it applies the current tenant to every
# transaction (see sms/core/db/base.py). Nothing here works on another database: RLS,
# recursive CTEs and full-text search are used throughout.
DB_ENGINE = "sms.core.db"
SMS_DB_OWNER = env_bool("SMS_DB_OWNER")
_app_url = os.environ.get("DATABASE_URL", "")
_owner_url = os.environ.get("DATABASE_OWNER_URL", "") or _app_url
if not _app_url:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use ./dev run (it starts an embedded PostgreSQL) "
        "or point DATABASE_URL at a PostgreSQL database."
    )
_db = dj_database_url.parse(_owner_url if SMS_DB_OWNER else _app_url, conn_max_age=0)
_db["ENGINE"] = DB_ENGINE
_db["ATOMIC_REQUESTS"] = False  # the tenant middleware opens the request transaction
# Server-side cursors do not mix with transaction-pooling proxies and per-transaction
# tenant settings; Django fetches in chunks from client-side cursors instead.
_db["DISABLE_SERVER_SIDE_CURSORS"] = True
_db.setdefault("OPTIONS", {})
# No JIT compiling in the application's sessions. Under row-level security the planner
# cannot see through current_setting() and over-estimates short statements, so PostgreSQL
# compiled queries that run in milliseconds: 65 ms of compiling in a 165 ms known-error
# match while an incident is logged (bench/problems.py). Nothing here runs long enough
# to gain from it.
_db["OPTIONS"]["options"] = f"{_db['OPTIONS'].get('options', '')} -c jit=off".strip()
_db["TEST"] = {"NAME": os.environ.get("SMS_TEST_DB_NAME", "test_sms")}
DATABASES = {"default": _db}

# The application's role: granted DML on every table, owns none, cannot bypass RLS.
SMS_APP_DB_ROLE = dj_database_url.parse(_app_url).get("USER") or "sms_app"
SMS_APP_DB_PASSWORD = dj_database_url.parse(_app_url).get("PASSWORD") or ""

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Why a record changed is kept whole in its history: the API and the forms accept reasons
# of up to 500 characters, more than simple-history's default column of 100 holds.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
FILTERS_EMPTY_CHOICE_LABEL = "Any"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("SMS_DEV")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------
_secure_cookies = not env_bool("SMS_INSECURE_COOKIES")
SESSION_COOKIE_SECURE = _secure_cookies
CSRF_COOKIE_SECURE = _secure_cookies
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 10
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("SMS_HTTPS"):
    SECURE_SSL_REDIRECT = env_bool("SMS_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SMS_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SMS_HSTS_PRELOAD")
# One policy for every page: only our own origin; htmx needs no inline script.
SMS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", 0.25))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sms.tenancy.authentication.MembershipTokenAuthentication",
        "sms.tenancy.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sms.tenancy.permissions.HasCapability"],
    "DEFAULT_FILTER_BACKENDS": [
        "sms.core.api.strict.RejectUnknownQueryParams",
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "sms.core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sms.core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("SMS_TOKEN_THROTTLE", "20/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SMS API",
    "DESCRIPTION": (
        "REST API of the ISO/IEC 20000-1 service management system. Authenticate with "
        "a token from POST /api/v1/auth/token/ (one token belongs to one membership, "
        "so to one tenant) and send it as `Authorization: Token <key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The description of the API is public; every endpoint it describes is not.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {},  # filled from the project's choice classes (sms/core/api/enums.py)
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Cache, Celery ----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("SMS_CACHE_PREFIX", "sms"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    # No server needed: a local cache per process and kombu's filesystem transport.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Without this kombu writes its exchange table to ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Planned intervals: one dispatcher a minute claims what is due (ARCHITECTURE.md).
    "dispatch-planned-activities": {
        "task": "sms.core.tasks.dispatch_planned_activities",
        "schedule": 60.0,
    },
    # The notification outbox: send what is still queued (mail was down, a task was lost).
    "sweep-outbox": {
        "task": "sms.core.tasks.sweep_outbox",
        "schedule": 60.0,
    },
    # Incident targets (clause 8.1): flag running incidents whose due times have passed.
    "check-incident-breaches": {
        "task": "processes.resolution.tasks.check_breaches",
        "schedule": 60.0,
    },
    # Escalation rules and the automatic major incident rule (clause 8.1).
    "evaluate-incident-escalations": {
        "task": "processes.resolution.tasks.check_escalations",
        "schedule": 60.0,
    },
    # Trend analysis (clause 8.2): propose problems for incidents repeating on a CI.
    "propose-problems-from-trends": {
        "task": "processes.resolution.tasks.check_trends",
        "schedule": 3600.0,
    },
    # Idempotency keys past their time to live are forgotten (sms/core/api/idempotency.py).
    "purge-idempotency-keys": {
        "task": "sms.core.tasks.purge_idempotency_keys",
        "schedule": 3600.0,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Mail -------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or env_bool("SMS_DEV")
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sms@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 20))

# --- Records ----------------------------------------------------------------------------
# How long an Idempotency-Key is remembered: a retry within it replays the first answer;
# after it (once the hourly purge has run, at the latest an hour later) the key is new again.
SMS_IDEMPOTENCY_TTL_HOURS = int(os.environ.get("SMS_IDEMPOTENCY_TTL_HOURS", 24))
SMS_ATTACHMENT_MAX_BYTES = int(os.environ.get("SMS_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
SMS_ATTACHMENT_CONTENT_TYPES = env_list(
    "SMS_ATTACHMENT_CONTENT_TYPES",
    "application/pdf,text/plain,text/csv,text/markdown,image/png,image/jpeg,image/gif,"
    "application/json,application/zip,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Local runs and tests serve static files straight from static/ (no collectstatic step).
WHITENOISE_USE_FINDERS = DEBUG or env_bool("SMS_DEV")
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS

# Tests create many users; a fast hasher keeps them quick. Never set in production.
if env_bool("SMS_TEST_FAST_PASSWORD_HASHER"):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
