"""One settings module; every deployment knob comes from the environment with a safe default.

Embedded default (nothing set): SQLite file, Celery tasks run in-process, DEBUG off.
`make run` serves with DEBUG off and a demo-only SECRET_KEY (`make run DEBUG=1` for debug pages). With DEBUG off a
SECRET_KEY must be given.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE as CSP_NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
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
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "common",
    "stepped_care",
    "referrals",
    "outcomes",
    "supervision",
    "workshops",
    "frontdoor",
    "appointments",
    "interop",
    "dataset",
    "dashboard",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "common.api_guards.ApiGuardMiddleware",  # API: 413 for an over-large body, Cache-Control: no-store
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "common.sessions.IdleRefreshMiddleware",  # the idle expiry moved on at most once a minute (issue 22.1)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "common.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.middleware.AuditContextMiddleware",
    "common.middleware.DatabaseBusyMiddleware",  # a cancelled statement answers 503, not 500 (issue 21.9)
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # A persistent connection the server dropped (a restart, a failover, pg_terminate_backend) is
        # noticed at the start of the next request and replaced, instead of failing that request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool("DB_JIT"):
    # PostgreSQL's JIT compiles a plan whose *estimated* cost is high, which for the short queries
    # of a web page (a caseload of 60 rows estimated at 50,000) costs far more than it saves:
    # measured 1.8 s of compilation on a 5 ms caseload query. Off for this connection; DB_JIT=1 keeps it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Two roles (common/database.py): DATABASE_URL is the application's, a role that owns nothing;
# DATABASE_MIGRATE_URL, when set, is the tables' owner (same database), which `manage.py migrate` and
# ANALYZE connect as. Unset (the embedded default, the tests): one role does both.
DATABASE_MIGRATE = (
    dj_database_url.parse(os.environ["DATABASE_MIGRATE_URL"]) if os.environ.get("DATABASE_MIGRATE_URL") else None
)
# Reads that may lag a few seconds (the managers' dashboard, the data-set export) go to a PostgreSQL read
# replica when DATABASE_REPLICA_URL names one (common/replica.py routes them); writes, sign-in and the
# clinicians' pages always use the primary. In tests the replica is a mirror of the test database.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["common.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "stepped_care.Staff"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "common.sessions.StaffBackend",  # ModelBackend, the user read with their team (issue 22.1)
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5  # hours
# Lock a username *at an address* (both together): one person's wrong passwords do not lock out every
# colleague behind the same NHS network address. Failed sign-ins from one address across all usernames
# have their own, looser limit (django-ratelimit, common/security.py): "N/period", e.g. "50/30m".
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
SIGN_IN_ADDRESS_FAILURE_RATE = os.environ.get("SIGN_IN_ADDRESS_FAILURE_RATE", "50/30m")
RATELIMIT_FAIL_OPEN = True  # a cache outage must not refuse every sign-in; django-axes (database) still locks
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "common.security.lockout_response"  # 429: JSON for the API, a page for people
AXES_CLIENT_IP_CALLABLE = "common.security.client_ip"  # the same client address the audit trail records

# Two-factor sign-in (django-otp TOTP): optional per person; required for managers and administrators
# when their team sets Team.require_two_factor (see common/two_factor.py).
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Stepped Care")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 minutes without activity: common.sessions.IdleRefreshMiddleware moves the expiry
# on at most once a minute (writing the session on every request cost an UPDATE a page).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = False
SESSION_ENGINE = "common.sessions"  # Django's database sessions, read by a statement compiled once
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many of our own proxies append to X-Forwarded-For; the client address is read that far from the right.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if env_bool("BEHIND_TLS_PROXY", False) else "0"))

# Content security policy: our own origin only, no inline script without the per-request nonce
# ({{ request.csp_nonce }} or {{ CSP_NONCE }}). Inline style *attributes* stay allowed (Bootstrap
# progress bars, widths); they cannot run code. data: images are Bootstrap's own SVG icons and QR codes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", CSP_NONCE],
        "style-src": ["'self'", CSP_NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages come from npm (package.json with its package-lock.json): `make install` runs `npm ci`
# into node_modules/, which git ignores. whitenoise serves the built files each package lists here, under
# a prefix: {% static 'nhsuk-frontend/nhsuk-frontend.min.js' %} (common/npm_static.py; patterns are
# fnmatch globs relative to the folder). axe-core is installed for the browser tests only, not served.
# nhsuk-frontend's prebuilt CSS is not listed: it loads its fonts from assets.nhs.uk (a CDN, blocked by
# our policy) and its images from /assets/; build the CSS from its Sass with $nhsuk-fonts-path and
# $nhsuk-assets-path pointing at our static files instead.
NODE_MODULES = BASE_DIR / "node_modules"
NPM_STATIC = {
    "nhsuk-frontend": ("nhsuk-frontend/dist/nhsuk", ["nhsuk-frontend.min.js", "nhsuk-frontend.min.js.map", "assets/*"]),
}
# Files served rewritten from a package's own (common/npm_static.py): nhsuk-frontend's CSS for the patient
# pages, without its fonts from the NHS CDN and with its images from /static/nhsuk-frontend/assets/.
NPM_BUILT = {
    "nhsuk-frontend/nhsuk-frontend.min.css": (
        "nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css",
        "common.npm_static.self_hosted_nhsuk_css",
    ),
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "common.npm_static.NpmFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", False)  # set where collectstatic runs (docker-compose)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Shared cache (the address sign-in limit): Redis when CACHE_URL is set (production), else per process.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL, "TIMEOUT": 300}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

REST_FRAMEWORK = {
    # Token first: an anonymous client is told 401 with `WWW-Authenticate: Token`, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "common.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "common.api_filters.StrictFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.api_filters.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "common.api_errors.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "common.api_errors.exception_handler",
}
# API tokens (django-rest-knox, common/api_auth.py): one per client, hashed, expiring, revocable.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=float(os.environ.get("API_TOKEN_TTL_HOURS", "10"))),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
API_TOKENS_PER_USER = int(os.environ.get("API_TOKENS_PER_USER", "10"))
# Idempotency-Key answers are kept this long (common/idempotency.py), then purged.
IDEMPOTENCY_KEY_TTL = int(os.environ.get("IDEMPOTENCY_KEY_TTL", str(24 * 3600)))
# Unsaved session-form drafts (referrals.models.SessionDraft) are purged this many days after their last save.
SESSION_DRAFT_DAYS = int(os.environ.get("SESSION_DRAFT_DAYS", "14"))
# The national data set (dataset/): where export files are written, how many days they are kept, how
# many failures a run keeps to show (all are counted), and the provider's system named in the header.
DATASET_DIR = Path(os.environ.get("DATASET_DIR", str(BASE_DIR / "var" / "dataset")))
DATASET_KEEP_DAYS = int(os.environ.get("DATASET_KEEP_DAYS", "7"))
DATASET_MAX_ERRORS = int(os.environ.get("DATASET_MAX_ERRORS", "500"))
DATASET_SYSTEM_NAME = os.environ.get("DATASET_SYSTEM_NAME", "Stepped Care")
# API request bodies above this many bytes are refused with 413 before they are read (common/api_guards.py).
# One statement of a web request may run this long (ms) before PostgreSQL cancels it and the page answers
# 503 "busy, nothing saved, try again" (common/database.py, issue 21.9); below gunicorn's 30 s worker
# timeout, so the person hears the truth instead of a killed worker's 502. Web connections only (wsgi.py):
# Celery and management commands run long statements by design. 0 turns it off.
WEB_STATEMENT_TIMEOUT_MS = int(os.environ.get("WEB_STATEMENT_TIMEOUT_MS", "20000"))
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024)))

SPECTACULAR_SETTINGS = {
    "TITLE": "Stepped Care API",
    "DESCRIPTION": "Case management for NHS Talking Therapies services: referrals, sessions, "
    "questionnaires, steps, review flags, supervision and service outcomes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No deep links: Swagger UI puts each operation's link inside its expand button, an interactive
    # control inside another (WCAG 4.1.2) and a 19 px target (2.5.8).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "ENUM_NAME_OVERRIDES": {
        "StepEnum": "stepped_care.models.Step",
        "GroupStepEnum": "workshops.codes.GroupStep",
        "CourseStatusEnum": "workshops.codes.CourseStatus",
        "WithdrawalReasonEnum": "workshops.codes.WithdrawalReason",
        "PresentingProblemEnum": "referrals.codes.PresentingProblem",
        "AttendanceEnum": "referrals.codes.Attendance",
        "AppointmentOutcomeEnum": "appointments.serializers.OUTCOME_CHOICES",
    },
}

# Celery: with no broker configured, tasks run eagerly in-process so the embedded default works alone.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "stepped_care")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Broker sockets time out (a silent Redis never holds a worker or a web request for long), and a
# message a worker took but never acknowledged (the worker died) comes back after 10 minutes, not
# Redis's default hour. The nightly scan's chunks finish well inside that.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "socket_timeout": 5,
    "socket_connect_timeout": 2,
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600")),
}
CELERY_BEAT_SCHEDULE = {
    "nightly-review-scan": {
        "task": "stepped_care.tasks.scan_active_referrals",
        "schedule": crontab(hour=2, minute=15),
    },
    "purge-expired-idempotency-keys": {
        "task": "common.tasks.purge_expired_idempotency_keys",
        "schedule": crontab(minute=40),
    },
    "outbox": {"task": "common.tasks.dispatch_outbox", "schedule": 60.0},
    "notify-statuses": {"task": "common.tasks.refresh_notify_statuses", "schedule": 300.0},
    "weekly-trajectory-fit": {
        "task": "outcomes.tasks.fit_trajectories",
        "schedule": crontab(day_of_week="sunday", hour=3, minute=30),
    },
    "purge-expired-dataset-files": {
        "task": "dataset.tasks.purge_expired_files",
        "schedule": crontab(hour=3, minute=20),
    },
    "appointment-reminders": {  # two days ahead, each once (appointments.services.send_reminders)
        "task": "appointments.tasks.send_appointment_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
    "purge-expired-session-drafts": {
        "task": "referrals.tasks.purge_expired_session_drafts",
        "schedule": crontab(hour=3, minute=5),
    },
}
# Writes queue their follow-up work through the outbox (common/outbox.py), which uses its own short
# timeouts; these apply to everything else that publishes.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECTION_TIMEOUT", "2"))
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# The nightly review scan sends this many referral ids per task (several workers share the scan).
REVIEW_SCAN_CHUNK_SIZE = int(os.environ.get("REVIEW_SCAN_CHUNK_SIZE", "2000"))

# Clinical standards that services and NHS England change: one place (see common/standards.py).
CLINICAL_STANDARDS = {
    # "targets": {"recovery_rate": 0.50, ...}, "mixed_reliable_change": "no_reliable_change", ...
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "common.security.RedactPatientIdentifiers"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# GOV.UK Notify (common/notify.py): with NOTIFY_API_KEY set, messages go to Notify; without it, to the
# in-memory outbox (development and tests). Template ids are Notify's, per key and channel; each
# template's placeholders are the personalisation its sender passes (named beside each key).
NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
NOTIFY_TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT", "10"))
# Where the patient's links point from background work (reminders), which has no request to ask.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")

NOTIFY_TEMPLATES = {
    # ((team)), ((link)), ((expires)): a link to complete questionnaires before a session
    "questionnaire_link": {
        "sms": os.environ.get("NOTIFY_TEMPLATE_QUESTIONNAIRE_LINK_SMS", "questionnaire-link-sms"),
        "email": os.environ.get("NOTIFY_TEMPLATE_QUESTIONNAIRE_LINK_EMAIL", "questionnaire-link-email"),
    },
    # ((team)), ((when)), ((how)), ((link)): an appointment in two days (the link empty unless scores are asked)
    "appointment_reminder": {
        "sms": os.environ.get("NOTIFY_TEMPLATE_APPOINTMENT_REMINDER_SMS", "appointment-reminder-sms"),
        "email": os.environ.get("NOTIFY_TEMPLATE_APPOINTMENT_REMINDER_EMAIL", "appointment-reminder-email"),
    },
    # ((team)): the self-referral was received
    "self_referral_received": {
        "sms": os.environ.get("NOTIFY_TEMPLATE_SELF_REFERRAL_SMS", "self-referral-received-sms"),
        "email": os.environ.get("NOTIFY_TEMPLATE_SELF_REFERRAL_EMAIL", "self-referral-received-email"),
    },
}

# The public front door's limits (django-ratelimit, frontdoor/views.py): per client address for each page
# submitted and each completed self-referral, and per form (all addresses together) against a flood.
FRONTDOOR_RATES = {
    "step": os.environ.get("FRONTDOOR_RATE_STEP", "120/h"),
    "form": os.environ.get("FRONTDOOR_RATE_FORM", "6000/h"),
    "submit": os.environ.get("FRONTDOOR_RATE_SUBMIT", "5/h"),
    "submit_form": os.environ.get("FRONTDOOR_RATE_SUBMIT_FORM", "600/h"),
    "link": os.environ.get("FRONTDOOR_RATE_LINK", "30/h"),
}
