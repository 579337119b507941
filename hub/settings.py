"""Settings for the customer hub, read from the environment with small helpers.

Defaults make the hub run anywhere with nothing installed: a SQLite file next to the code, DEBUG
on, a development secret key. Production sets DATABASE_URL, SECRET_KEY, DEBUG=false and
ALLOWED_HOSTS.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float | None) -> float | None:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# The fallback key is only good for a laptop; it is refused when DEBUG is off.
SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hub.apps.HubConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'hub.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers wait for each
    # other (up to the timeout) instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 30}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hub.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Customer hub API",
    "DESCRIPTION": "Push source-record changes, resolve source keys and golden IDs.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package: the docs work without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Matching: the configuration file (None = the one shipped in linkage/) and optional threshold
# overrides on the match weight, in bits.
MATCH_CONFIG_PATH = os.environ.get("MATCH_CONFIG_PATH") or None
MATCH_REVIEW_THRESHOLD = env_float("MATCH_REVIEW_THRESHOLD", None)
MATCH_AUTO_LINK_THRESHOLD = env_float("MATCH_AUTO_LINK_THRESHOLD", None)
# Country assumed for phone numbers without a country code when the record has no country.
MATCH_DEFAULT_COUNTRY = os.environ.get("MATCH_DEFAULT_COUNTRY") or None
# Largest number of records one batch request may carry.
INGEST_BATCH_LIMIT = 1000
# Seconds GET /api/entities/{id}/records waits for the sources; a slower one answers "timeout".
FEDERATION_TIMEOUT = env_float("FEDERATION_TIMEOUT", 2.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every request URL at INFO; connector URLs carry source keys, which identify
    # a customer in a source system, so only warnings get through.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# Privacy requests (GDPR export and erasure).
# Secret for the keyed hashes of the suppression list; required once anything is erased.
PRIVACY_HMAC_KEY = os.environ.get("PRIVACY_HMAC_KEY", "")
if not PRIVACY_HMAC_KEY and os.environ.get("PRIVACY_HMAC_KEY_FILE"):
    PRIVACY_HMAC_KEY = Path(os.environ["PRIVACY_HMAC_KEY_FILE"]).read_text().strip()
# Days an export's download link works; the bundle is deleted after that.
PRIVACY_EXPORT_TTL_DAYS = env_float("PRIVACY_EXPORT_TTL_DAYS", 7.0)
# Retries of a source that fails: exponential backoff with jitter, within a retry window.
PRIVACY_RETRY_BASE_SECONDS = env_float("PRIVACY_RETRY_BASE_SECONDS", 60.0)
PRIVACY_RETRY_MAX_SECONDS = env_float("PRIVACY_RETRY_MAX_SECONDS", 3600.0)
PRIVACY_RETRY_WINDOW_HOURS = env_float("PRIVACY_RETRY_WINDOW_HOURS", 72.0)
# A step left "running" longer than this (a crashed worker) is picked up again.
PRIVACY_STEP_LEASE_SECONDS = env_float("PRIVACY_STEP_LEASE_SECONDS", 900.0)

# Background work runs on Celery when a broker is configured, in-process otherwise.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "privacy-steps": {"task": "hub.tasks.privacy_steps_run_due", "schedule": 60.0},
    "privacy-exports-purge": {"task": "hub.tasks.privacy_exports_purge", "schedule": 3600.0},
}
