"""Settings, all from environment variables.

With nothing set this is the one-command demo: SQLite, tasks run in-process, local-memory
cache, console email and the test payment provider. ``DATABASE_URL`` switches to PostgreSQL,
``REDIS_URL`` to Redis (cache, rate limits and the Celery broker), Stripe keys to real Stripe.
``DJANGO_ENV=production`` refuses to start without its secrets.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from campaign import client_ip, deploy_checks, gift_amounts, task_routes, update_settings
from campaign.beat_schedule import beat_schedule
from campaign.content_security_policy import content_security_policy
from campaign.journal_accounts import journal_settings
from campaign.logging_config import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return value


if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    ALLOWED_HOSTS = [h.strip() for h in _required("ALLOWED_HOSTS").split(",") if h.strip()]
    DEBUG = False
else:
    # Development only: a fixed, clearly unusable key so that `make demo` needs no set-up.
    SECRET_KEY = env.str("SECRET_KEY", default=deploy_checks.DEVELOPMENT_SECRET_KEY)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
    DEBUG = env.bool("DJANGO_DEBUG", default=False)

INSTALLED_APPS = [
    # Before the admin so that its translated-field widgets and checks are in place.
    "modeltranslation",
    "campaign.apps.CampaignAdminConfig",  # django.contrib.admin, with the Finance section
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "campaign.apps.CampaignConfig",  # before staticfiles: its collectstatic writes the 503 page
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "djmoney",
    "csp",
    "axes",
    "pgtrigger",
    "pghistory",
    "django_prose_editor",  # the section body editor in the admin (static files)
    "projects",
    "donations",
    "finance",  # the finance desk: after donations, whose admin it extends
    "stewardship",  # project updates; after projects, whose admin it extends
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: /es/... is Spanish; an unprefixed page follows the
    # language cookie, then Accept-Language (campaign/language_middleware.py).
    "campaign.language_middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the signed-in user and the path in the money models' history (PostgreSQL), for
    # the methods in PGHISTORY_MIDDLEWARE_METHODS.
    "donations.history_context_middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "campaign.urls"
WSGI_APPLICATION = "campaign.wsgi.application"

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
                "campaign.context_processors.site",
                "campaign.context_processors.page_cache",
            ],
        },
    },
]
FORM_RENDERER = "campaign.form_renderer.FastWidgetRenderer"  # Django's widget templates in Python

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _bouncer = env.bool("PGBOUNCER", default=False)  # docs/operations.md#pgbouncer
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if _bouncer else 60)
    _no_cursors = env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False)
    DATABASES["default"].update(CONN_HEALTH_CHECKS=True, DISABLE_SERVER_SIDE_CURSORS=_no_cursors)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# "default" holds page fragments: if Redis is unreachable they render afresh
# (campaign/redis_fallback_cache.py).
# "counters" holds the rate limits: same Redis, errors raised so that the limiter falls back
# to a per-process limit and says so (donations/services/ratelimit.py). Short socket timeouts:
# a Redis that hangs must not hold a donor's request.
if REDIS_URL:
    _redis_cache = {
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="campaign"),
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    CACHES = {
        "default": {"BACKEND": "campaign.redis_fallback_cache.TolerantRedisCache", **_redis_cache},
        "counters": {"BACKEND": "django.core.cache.backends.redis.RedisCache", **_redis_cache},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "counters": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "counters",
        },
    }

# Only requests that change things carry the history context: on a GET it would open every
# visitor's session (Vary: Cookie, so no shared cache could keep the page) and prefix every
# query of the page with two set_config calls.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Whole-page cache of the public pages for anonymous visitors (campaign/pagecache.py): kept
# until the page version moves (any change a page shows) or this many seconds pass; 0 = off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=300)
# How long nginx's micro-cache may keep such a page (X-Accel-Expires): the thermometer's lag.
PAGE_PROXY_CACHE_SECONDS = env.int("PAGE_PROXY_CACHE_SECONDS", default=5)
PAGE_STALE_SECONDS = env.int("PAGE_STALE_SECONDS", default=3600)  # stale-if-error: pagecache.py
# Hooks naming the next moment a page changes by the clock alone (a pool opening or closing).
PAGE_CACHE_EXPIRY = ["donations.selectors.match_next_change"]
# The donate form's first post without JavaScript carries no token (cached pages have none):
# this view shows the form again with one.
CSRF_FAILURE_VIEW = "donations.views.csrf_failure"

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
# No broker configured: run tasks in-process so the demo needs no worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Our tasks are idempotent, so a task whose worker dies mid-run is redelivered, not lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis visibility timeout must exceed the longest task, or acks_late tasks run twice.
# socket_timeout bounds a publish to a broker that accepts connections but never answers
# (without it the webhook's after-commit enqueue waits forever); it must exceed kombu's
# 1 s BRPOP timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A publish that fails (broker down) is retried briefly, then given up: the webhook has
# already stored the event and the inbox sweep processes it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Without it Celery's Django fixup closes the DB connection after every task; measured here,
# database-bound task throughput falls to about a quarter.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=200)
# Email tasks have their own queue (campaign/task_routes.py).
CELERY_TASK_ROUTES = task_routes.TASK_ROUTES
# CELERY_BEAT_SCHEDULE, the periodic jobs, is set below, once PAYMENT_PROVIDER is known
# (campaign/beat_schedule.py).
# --- Auth, i18n, files ----------------------------------------------------------------------
# The admin's address (a path, e.g. "staff-7f3a/"); a less guessable one keeps scanners off it.
ADMIN_URL = env.str("ADMIN_URL", default="admin/")
if not re.fullmatch(r"([A-Za-z0-9._~-]+/)+", ADMIN_URL) or {".", ".."} & set(ADMIN_URL.split("/")):
    raise ImproperlyConfigured(
        f"ADMIN_URL must be a relative path ending in a slash, like admin/, not {ADMIN_URL!r}"
    )
# Admin logins are throttled by django-axes: after AXES_FAILURE_LIMIT failures for one
# username (from anywhere) or from one address (any username), further attempts are refused
# for AXES_COOLOFF_TIME, with the right password too; a success resets the count.
# `manage.py axes_reset_username NAME` lets a locked-out colleague back in at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "campaign.views.admin_locked_out"
AXES_CLIENT_IP_CALLABLE = "campaign.client_ip.client_ip"  # the same client as rate limits
AXES_SENSITIVE_PARAMETERS = ["password"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en"
# English at unprefixed URLs (/projects/...), Spanish under /es/ (/es/projects/...).
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice, remembered for a year (Django's set_language view writes it).
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Babel locale used for money and numbers in each language (CLDR data, not hand rules).
BABEL_LOCALES = {"en": "en_US", "es": "es"}
# Project content in both languages (django-modeltranslation): a missing Spanish text
# shows the English one.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = ("en", "es")
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
MODELTRANSLATION_PREPOPULATE_LANGUAGE = "en"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production WhiteNoise serves straight from the app folders: no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
# Files browsers ask for at the site's root (/favicon.ico, /apple-touch-icon.png, the web
# manifest), served by WhiteNoise without a view.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Development serves uploads itself; docker-compose.yml turns this on for its single web
# host; at scale, put uploads in an object store behind a CDN.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=not PRODUCTION)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded images: bigger files or pictures are refused before Pillow decodes them.
IMAGE_MAX_UPLOAD_BYTES = env.int("IMAGE_MAX_UPLOAD_BYTES", default=15 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
IMAGE_MAX_SIDE = env.int("IMAGE_MAX_SIDE", default=12_000)  # pixels, either side
IMAGE_RENDITION_WIDTHS = (480, 960, 1600)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.smtp.EmailBackend"
        if PRODUCTION
        else "django.core.mail.backends.console.EmailBackend"
    ),
)
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Conservation Campaigns <gifts@example.org>"
)
# Seconds an SMTP call may take before the email task fails and is retried later.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- The organisation -----------------------------------------------------------------------
ORGANISATION_NAME = env.str("ORGANISATION_NAME", default="Conservation Campaigns (demo)")
# Printed on receipts and statements as given. Unset, the demo's own sentence is used, in
# the gift's language (donations/services/receipts.py).
ORGANISATION_TAX_STATEMENT = env.str("ORGANISATION_TAX_STATEMENT", default="")
ORGANISATION_DESCRIPTION = env.str(
    "ORGANISATION_DESCRIPTION",
    default=(
        "A conservation charity that raises money to buy and protect threatened land for "
        "wildlife, with local partners. 100% of your donation goes towards Conservation Action."
    ),
)
# The charity's registration: the schema.org NGO identifier in every page's JSON-LD (e.g.
# "Registered charity no." and "1234567", or "EIN" and "12-3456789") and, unless
# ORGANISATION_REGISTRATION says it otherwise, the line in every page's footer and beside the
# donate button (donors look for it).
ORGANISATION_REGISTRATION_SCHEME = env.str(
    "ORGANISATION_REGISTRATION_SCHEME", default="Registered charity no."
)
ORGANISATION_REGISTRATION_NUMBER = env.str(
    "ORGANISATION_REGISTRATION_NUMBER", default="" if PRODUCTION else "0000000"
)
ORGANISATION_REGISTRATION = env.str(
    "ORGANISATION_REGISTRATION",
    default=(
        f"{ORGANISATION_REGISTRATION_SCHEME} {ORGANISATION_REGISTRATION_NUMBER}"
        + ("" if PRODUCTION else " (demo)")
        if ORGANISATION_REGISTRATION_NUMBER
        else ""
    ),
)
ORGANISATION_TWITTER = env.str("ORGANISATION_TWITTER", default="")  # e.g. @charity
# The public origin: links in emails, canonical URLs, the sitemap, social cards.
# Production must name it: a canonical URL or sitemap on a default host would send search
# engines elsewhere.
SITE_URL = (
    _required("SITE_URL") if PRODUCTION else env.str("SITE_URL", default="http://127.0.0.1:8000")
).rstrip("/")

# --- Donations and Stripe -------------------------------------------------------------------
DONATION_CURRENCIES = env.list("DONATION_CURRENCIES", default=["USD", "EUR", "GBP", "JPY"])
CURRENCIES = tuple(sorted(set(DONATION_CURRENCIES) | {"USD"}))
DEFAULT_CURRENCY = "USD"
# Per-currency gift limits and the donate form's preset buttons: campaign/gift_amounts.py.
DONATION_LIMITS = gift_amounts.LIMITS
DONATION_PRESETS = gift_amounts.PRESETS
# The currency the Stripe account settles in. A gift counts towards a project only if it is
# charged in the project's currency or settles in it, so donors may choose another currency
# only for projects in this one (Stripe's balance transaction then converts it).
DONATION_SETTLEMENT_CURRENCY = env.str("DONATION_SETTLEMENT_CURRENCY", default="USD").upper()
# "Cover the processing fee": percentage of the charge plus a fixed fee per currency.
DONATION_FEE_PERCENT = Decimal(env.str("DONATION_FEE_PERCENT", default="2.9"))
DONATION_FEE_FIXED = {
    "USD": Decimal(env.str("DONATION_FEE_FIXED", default="0.30")),
    "EUR": Decimal("0.25"),
    "GBP": Decimal("0.20"),
    "JPY": Decimal("0"),
}
# reconcile_check: a succeeded Stripe gift older than this on no payout is a discrepancy
# (Stripe's standard schedule pays out within a few days).
RECONCILE_UNPAID_AFTER_DAYS = env.int("RECONCILE_UNPAID_AFTER_DAYS", default=10)
# Who hears about discrepancies (mail_admins): "Name <email>, Name <email>".
ADMINS = [
    (name.strip(), addr.strip(" >"))
    for name, _, addr in (
        item.partition("<") for item in env.list("ADMINS", default=[]) if item.strip()
    )
]
SERVER_EMAIL = env.str("SERVER_EMAIL", default="root@localhost")
DONATION_PENDING_RECHECK_AFTER = timedelta(
    minutes=env.int("DONATION_PENDING_RECHECK_MINUTES", default=60)
)
# Starting a gift is rate limited per IP and per email (card-testing defence).
DONATION_RATE_LIMIT_PER_IP = env.str("DONATION_RATE_LIMIT_PER_IP", default="10/h")
DONATION_RATE_LIMIT_PER_EMAIL = env.str("DONATION_RATE_LIMIT_PER_EMAIL", default="5/h")
# Donor self-service ("My gifts"): the emailed sign-in link lives about an hour and
# works once; the link in a failed-payment email lives longer (a donor may read it late).
DONOR_SIGN_IN_LINK_MAX_AGE = env.int("DONOR_SIGN_IN_LINK_MAX_AGE", default=3600)
DONOR_PAYMENT_FAILED_LINK_AGE = env.int("DONOR_PAYMENT_FAILED_LINK_AGE", default=72 * 3600)
DONOR_SIGN_IN_LINK_LONGEST_AGE = max(DONOR_SIGN_IN_LINK_MAX_AGE, DONOR_PAYMENT_FAILED_LINK_AGE)
DONOR_SESSION_AGE = env.int("DONOR_SESSION_AGE", default=2 * 3600)
DONOR_SIGN_IN_RATE_PER_IP = env.str("DONOR_SIGN_IN_RATE_PER_IP", default="10/h")
DONOR_SIGN_IN_RATE_PER_EMAIL = env.str("DONOR_SIGN_IN_RATE_PER_EMAIL", default="3/h")
DONOR_RECEIPT_RESEND_RATE = env.str("DONOR_RECEIPT_RESEND_RATE", default="5/h")
# A Stripe customer-portal configuration (bpc_...) allowing cancel and payment-method
# update; empty = the account's default configuration.
STRIPE_PORTAL_CONFIGURATION = env.str("STRIPE_PORTAL_CONFIGURATION", default="")
DONATION_MATCH_EVERY_INSTALMENT = env.bool("DONATION_MATCH_EVERY_INSTALMENT", default=False)

STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# Verifies webhooks. The test provider signs its events with the same secret.
TEST_PROVIDER_WEBHOOK_SECRET = deploy_checks.TEST_PROVIDER_WEBHOOK_SECRET
STRIPE_WEBHOOK_SECRET = env.str(
    "STRIPE_WEBHOOK_SECRET", default="" if PRODUCTION else TEST_PROVIDER_WEBHOOK_SECRET
)
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")  # tests point this at recordings
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=3)
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20)
# "stripe" talks to Stripe; "test" is the local no-money checkout for demo and development.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="stripe" if STRIPE_SECRET_KEY else "test")
if PAYMENT_PROVIDER not in {"stripe", "test"}:
    raise ImproperlyConfigured("PAYMENT_PROVIDER must be stripe or test")
# The periodic jobs (campaign/beat_schedule.py); the test provider adds its own.
CELERY_BEAT_SCHEDULE = beat_schedule(
    test_provider=PAYMENT_PROVIDER == "test",
    test_provider_payout_minutes=env.int("TEST_PROVIDER_PAYOUT_MINUTES", default=10),
)

# --- Production hardening -------------------------------------------------------------------
if PRODUCTION:
    if PAYMENT_PROVIDER != "stripe":
        raise ImproperlyConfigured(
            "The test payment provider is refused in production: set STRIPE_SECRET_KEY"
        )
    _required("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _required("STRIPE_WEBHOOK_SECRET")
    # A weak or development key, a wildcard host, an http:// SITE_URL, a webhook secret
    # that is not Stripe's (campaign/deploy_checks.py; `check --deploy` errs on the first three).
    if _refused := deploy_checks.deployment_problems(
        secret_key=SECRET_KEY,
        allowed_hosts=ALLOWED_HOSTS,
        site_url=SITE_URL,
        webhook_secret=STRIPE_WEBHOOK_SECRET,
    ):
        raise ImproperlyConfigured("; ".join(_refused))
    # Rate limits and the thermometer cache must be shared by every web process, and tasks
    # need a broker: without REDIS_URL each process would count on its own and tasks would
    # run inside web requests.
    if not REDIS_URL:
        raise ImproperlyConfigured(
            "REDIS_URL must be set when DJANGO_ENV=production (the shared cache for rate limits"
            " and the Celery broker)"
        )
    if CELERY_BROKER_URL.startswith("memory://") or CELERY_TASK_ALWAYS_EAGER:
        raise ImproperlyConfigured(
            "Production needs a real Celery broker and worker: CELERY_BROKER_URL may not be"
            " memory:// and CELERY_TASK_ALWAYS_EAGER may not be true"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # health checks ask a node over plain http
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Behind a reverse proxy ------------------------------------------------------------------
# Who may set the client's address in X-Forwarded-For (campaign/client_ip.py): unset = no proxy,
# N proxy hops (believed only from a peer in TRUSTED_PROXY_NETWORKS), or the proxies' networks.
TRUSTED_PROXIES = env.str("TRUSTED_PROXIES", default="")
TRUSTED_PROXY_NETWORKS = env.str("TRUSTED_PROXY_NETWORKS", default=client_ip.PRIVATE_NETWORKS)
client_ip.proxy_settings_check(TRUSTED_PROXIES, TRUSTED_PROXY_NETWORKS)  # malformed: refused

# --- Content-Security-Policy (django-csp): campaign/content_security_policy.py -------------
CONTENT_SECURITY_POLICY = content_security_policy(img_src=env.list("CSP_IMG_SRC", default=[]))

LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"))
UPDATE_EMAILS = update_settings.settings(env)  # project updates: campaign/update_settings.py

# --- The finance desk (issue 9) -------------------------------------------------------------
# The first month of the financial year (1 = January: the financial year is the calendar year).
FINANCIAL_YEAR_START_MONTH = env.int("FINANCIAL_YEAR_START_MONTH", default=1)
if not 1 <= FINANCIAL_YEAR_START_MONTH <= 12:  # noqa: PLR2004 - the months of a year
    raise ImproperlyConfigured("FINANCIAL_YEAR_START_MONTH must be a month number, 1 to 12")
# Added to the year-end statement's acknowledgement (e.g. "EIN 12-3456789.").
ORGANISATION_STATEMENT_TAX_NOTE = env.str(
    "ORGANISATION_STATEMENT_TAX_NOTE", default="Tax identification number 00-0000000 (demo)."
)
# Exports over this many rows run in the background (smaller ones stream); files kept N hours.
EXPORT_ASYNC_ROWS = env.int("EXPORT_ASYNC_ROWS", default=20000)
EXPORT_FILE_HOURS = env.int("EXPORT_FILE_HOURS", default=24)
EXPORT_ROOT = env.str("EXPORT_ROOT", default=str(BASE_DIR / "exports"))
# Offline gifts (cheques, transfers) are matched by the pools like online gifts unless false.
OFFLINE_GIFTS_MATCHED = env.bool("OFFLINE_GIFTS_MATCHED", default=True)
# The accounting journals (Xero / QuickBooks Online): each ledger kind's account code and name,
# tax rate, date format and tracking, from JOURNAL_* (campaign/journal_accounts.py names them).
_journal = journal_settings(env)
JOURNAL_COUNTRY: str = _journal["JOURNAL_COUNTRY"]
JOURNAL_ACCOUNTS: dict[str, str] = _journal["JOURNAL_ACCOUNTS"]
JOURNAL_ACCOUNT_NAMES: dict[str, str] = _journal["JOURNAL_ACCOUNT_NAMES"]
JOURNAL_TAX_RATE: str = _journal["JOURNAL_TAX_RATE"]
JOURNAL_TRACKING_NAME: str = _journal["JOURNAL_TRACKING_NAME"]
JOURNAL_QUICKBOOKS_DATE_FORMAT: str = _journal["JOURNAL_QUICKBOOKS_DATE_FORMAT"]
JOURNAL_QUICKBOOKS_MULTICURRENCY: bool = _journal["JOURNAL_QUICKBOOKS_MULTICURRENCY"]
