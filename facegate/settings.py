"""Django settings for facegate. Every setting comes from the environment; README lists them all."""
from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from facegate import config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.persistent_secret("secret_key", "FACEGATE_SECRET_KEY")
# Key for encrypting AppSecrets at rest; separate from SECRET_KEY so either can be rotated alone.
FACEGATE_ENCRYPTION_KEY = config.persistent_secret("encryption_key", "FACEGATE_ENCRYPTION_KEY")
DEBUG = config.env_bool("FACEGATE_DEBUG", False)

# Production is one setting: the public URL (e.g. https://face.example.com). It pins ALLOWED_HOSTS and
# the trusted CSRF origin to that host, and for https turns on secure cookies, HSTS; a
# Content-Security-Policy is sent on every response. Unset: a loopback / LAN set-up (any Host).
PUBLIC_URL = config.public_url(os.environ.get("FACEGATE_PUBLIC_URL", ""))
PRODUCTION = PUBLIC_URL is not None
HTTPS = PRODUCTION and PUBLIC_URL.scheme == "https"
ALLOWED_HOSTS = config.env_list("FACEGATE_ALLOWED_HOSTS", PUBLIC_URL.hostname if PRODUCTION else "*")
CSRF_TRUSTED_ORIGINS = config.env_list("FACEGATE_CSRF_TRUSTED_ORIGINS",
                                       f"{PUBLIC_URL.scheme}://{PUBLIC_URL.netloc}" if PRODUCTION else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "gateway",
    "billing",
    "monitoring",
    "apps_console",
    "audit",
]

MIDDLEWARE = [
    "gateway.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "facegate.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "facegate.urls"
WSGI_APPLICATION = "facegate.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": config.database_from_url(os.environ.get("DATABASE_URL"), DATA_DIR / config.SQLITE_NAME)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "apps_console.passwords.AccountNameValidator"},
]
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/console/login/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Secure cookies need HTTPS: on with an https public URL, off for plain loopback set-ups.
SESSION_COOKIE_SECURE = config.env_bool("FACEGATE_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# HSTS is sent on https requests; behind a TLS proxy, FACEGATE_TRUSTED_PROXY tells waitress whose
# X-Forwarded-Proto to believe.
SECURE_HSTS_SECONDS = 365 * 86400 if HTTPS else 0
# The console loads scripts, styles and images from itself only; photos are drawn from data:/blob:.
# Left to the operator: HSTS for every subdomain and browser preload lists are commitments about the
# whole domain; the TLS proxy in front redirects http to https.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W008", "security.W021"] if PRODUCTION else []
FACEGATE_CSP = ("default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; "
                "form-action 'self'; frame-ancestors 'none'") if PRODUCTION else ""

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("简体中文"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("FACEGATE_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"

# Request bodies: two base64 images of 2 MB each plus JSON overhead fit well under 8 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = config.env_int("FACEGATE_MAX_BODY_BYTES", 8 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

# Gateway.
FACEGATE_BACKEND_URLS = config.env_list("FACEGATE_BACKEND_URLS", "http://127.0.0.1:8001")
FACEGATE_BACKEND_TOKEN = config.persistent_secret("backend_token", "FACEGATE_BACKEND_TOKEN", 32)
FACEGATE_BACKEND_TIMEOUT = config.env_float("FACEGATE_BACKEND_TIMEOUT", 30.0)
# A reservation this old belongs to a request that died (a crashed worker): no live request waits
# on the backend longer than its timeout. Released by the beat task billing.release_stale.
FACEGATE_STALE_RESERVATION_SECONDS = FACEGATE_BACKEND_TIMEOUT + 30
FACEGATE_TIMESTAMP_WINDOW_SECONDS = config.env_int("FACEGATE_TIMESTAMP_WINDOW_SECONDS", 300)
FACEGATE_DEFAULT_RATE_LIMIT = config.env_int("FACEGATE_DEFAULT_RATE_LIMIT", 50)  # requests/second/app

# Billing: pack tiers (calls) and their prices in the currency below.
FACEGATE_CURRENCY = os.environ.get("FACEGATE_CURRENCY", "CNY")
FACEGATE_PACK_TIERS = {
    "100k": (100_000, config.env_float("FACEGATE_PRICE_100K", 100.0)),
    "1m": (1_000_000, config.env_float("FACEGATE_PRICE_1M", 800.0)),
    "10m": (10_000_000, config.env_float("FACEGATE_PRICE_10M", 6_000.0)),
    "100m": (100_000_000, config.env_float("FACEGATE_PRICE_100M", 40_000.0)),
}
FACEGATE_PACK_DAYS = config.env_int("FACEGATE_PACK_DAYS", 365)
FACEGATE_PAYMENT_PROVIDER = os.environ.get("FACEGATE_PAYMENT_PROVIDER", "billing.payments.InstantPayment")

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport in the data dir,
# so that a real worker runs with zero set-up (docs/DECISIONS.md).
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    _broker_dir = config.private_dir(DATA_DIR / "celery-broker")
    for _sub in ("out", "processed", "control"):
        config.private_dir(_broker_dir / _sub)
    CELERY_BROKER_URL = "filesystem://localhost/"  # a host, or kombu warns on every connect
    CELERY_BROKER_TRANSPORT = "facegate.broker:Transport"  # kombu's, with whole message files
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Without this kombu keeps its exchange table in ./control of whatever the cwd is.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = config.env_bool("FACEGATE_CELERY_EAGER", False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat (run by exactly one `celery worker -B`): the periodic alert check, releasing reservations of
# crashed requests, pruning old rows and expired replay-cache signatures, and removing the face
# libraries of deleted apps that the backend has not confirmed yet.
FACEGATE_HOUSEKEEPING_SECONDS = config.env_float("FACEGATE_HOUSEKEEPING_SECONDS", 60.0)
CELERY_BEAT_SCHEDULE = {
    "evaluate-alerts": {"task": "monitoring.evaluate_alerts", "schedule": 60.0},
    "release-stale-reservations": {"task": "billing.release_stale", "schedule": FACEGATE_HOUSEKEEPING_SECONDS},
    "prune": {"task": "monitoring.prune", "schedule": FACEGATE_HOUSEKEEPING_SECONDS},
    "prune-replay-cache": {"task": "gateway.prune_replay_cache", "schedule": FACEGATE_HOUSEKEEPING_SECONDS},
    "purge-libraries": {"task": "gateway.purge_libraries", "schedule": FACEGATE_HOUSEKEEPING_SECONDS},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Monitoring: gateway processes hand call records to the worker in batches of this many seconds.
FACEGATE_METRICS_BATCH_SECONDS = config.env_float("FACEGATE_METRICS_BATCH_SECONDS", 0.5)
# Monitoring: /metrics needs `Authorization: Bearer <token>` (generated into the data dir when unset)
# unless FACEGATE_METRICS_PUBLIC=1 opens it. Loopback is not trusted: behind a proxy on the same host
# every client is loopback.
FACEGATE_METRICS_PUBLIC = config.env_bool("FACEGATE_METRICS_PUBLIC", False)
FACEGATE_METRICS_TOKEN = "" if FACEGATE_METRICS_PUBLIC else config.persistent_secret(
    "metrics_token", "FACEGATE_METRICS_TOKEN", 32)
# Calls in 5 minutes before the error-rate and p95 rules may alert (fewer is noise).
FACEGATE_ALERT_MIN_CALLS = config.env_int("FACEGATE_ALERT_MIN_CALLS", 20)
# Alert webhooks reach public addresses only; these hosts or networks (e.g. "hooks.internal,10.1.0.0/16")
# may be internal. Each delivery, redirects included, is bounded by the timeout.
FACEGATE_WEBHOOK_ALLOWED_HOSTS = config.env_list("FACEGATE_WEBHOOK_ALLOWED_HOSTS")
FACEGATE_WEBHOOK_TIMEOUT = config.env_float("FACEGATE_WEBHOOK_TIMEOUT", 5.0)
# Seconds between the rate-rule checks that recorded calls trigger per (app, API); 0 = every call.
FACEGATE_ALERT_CHECK_SECONDS = config.env_float("FACEGATE_ALERT_CHECK_SECONDS", 5.0)
# Console sign-in: this many failures of one account (or from one address) within the window lock it.
FACEGATE_SIGNIN_MAX_FAILURES = config.env_int("FACEGATE_SIGNIN_MAX_FAILURES", 5)
FACEGATE_SIGNIN_ADDRESS_MAX_FAILURES = config.env_int("FACEGATE_SIGNIN_ADDRESS_MAX_FAILURES", 20)
FACEGATE_SIGNIN_WINDOW_S = config.env_int("FACEGATE_SIGNIN_WINDOW_S", 900)
FACEGATE_SIGNIN_LOCK_S = config.env_int("FACEGATE_SIGNIN_LOCK_S", 900)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FACEGATE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A short task queue under a burst is normal operation for waitress, not a warning.
        "waitress.queue": {"level": "ERROR"},
    },
}
