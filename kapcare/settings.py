"""Kapcare settings, read from the environment (healthchecks' hc/settings.py style).

KAPCARE_ENV selects "development" (the default: http on localhost, a throwaway
secret key) or "production" (a real SECRET_KEY, ALLOWED_HOSTS, HTTPS-only cookies,
HSTS). Everything else has a safe default and is overridden by an environment
variable of the same name.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name} must be 0/1, true/false, yes/no or on/off, not {raw!r}"
    )


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {raw!r}"
        ) from exc


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


KAPCARE_ENV = os.environ.get("KAPCARE_ENV", "development")
if KAPCARE_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("KAPCARE_ENV must be 'development' or 'production'")
PRODUCTION = KAPCARE_ENV == "production"

DEBUG = envbool("DEBUG", default=False)
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("Set SECRET_KEY (or SECRET_KEY_FILE) in production")
    SECRET_KEY = "development-only-key-never-use-in-production-" + "x" * 20

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS in production")
CSRF_TRUSTED_ORIGINS = [
    o.strip()
    for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",")
    if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "kapcare.accounts",
    "kapcare.audit",
    "kapcare.website",
    "kapcare.patients",
    "kapcare.measures",
    "kapcare.safety",
    "kapcare.clock",
    "kapcare.intake",
    "kapcare.treatment",
    "kapcare.scheduling",
    "kapcare.fhir",
    "kapcare.outcomes",
    "kapcare.backups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kapcare.lib.middleware.RequestIdMiddleware",
    "kapcare.lib.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kapcare.accounts.middleware.SessionLimitsMiddleware",
    "kapcare.accounts.middleware.StaffTwoFactorMiddleware",
    "kapcare.website.middleware.ClinicTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kapcare.urls"
WSGI_APPLICATION = "kapcare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kapcare" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kapcare.website.context_processors.clinic",
                "kapcare.safety.context_processors.open_alerts",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'kapcare.sqlite3'}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Recipe and its test (T19) in shared/reference/security-reliability.md §3a.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=FULL;"
            "PRAGMA journal_size_limit=67108864;"
            "PRAGMA temp_store=MEMORY;"
        ),
    }
else:
    # A PostgreSQL connection costs about 2.4 ms to open (make bench); keep it a minute.
    DATABASES["default"]["CONN_MAX_AGE"] = envint("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour, not Django's three days

# Sessions: absolute lifetime 12 h (ASVS 4.0.3 3.3.2); staff idle limit below.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
STAFF_IDLE_TIMEOUT = timedelta(minutes=envint("STAFF_IDLE_TIMEOUT_MINUTES", 15))
PORTAL_INVITATION_LIFETIME = timedelta(days=envint("PORTAL_INVITATION_DAYS", 7))
QUESTIONNAIRE_LINK_LIFETIME = timedelta(hours=envint("QUESTIONNAIRE_LINK_HOURS", 72))
# A leaked calendar link cannot work for ever; the clinician makes a new one yearly.
CALENDAR_FEED_LIFETIME = timedelta(days=envint("CALENDAR_FEED_DAYS", 365))
# Public consultation form: spam defence without third-party services.
INTAKE_MIN_FILL_SECONDS = envint("INTAKE_MIN_FILL_SECONDS", 3)
INTAKE_REQUESTS_PER_HOUR = envint("INTAKE_REQUESTS_PER_HOUR", 5)
INTAKE_SELF_CHECK_AGE = envint("INTAKE_SELF_CHECK_MINUTES", 120) * 60

# django-axes: lock a username from one IP, with a cool-off (security-reliability.md §2b).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kapcare.accounts.views.lockout"
AXES_CLIENT_IP_CALLABLE = "kapcare.lib.client_ip.client_ip"
# Reverse proxies in front of the app (nginx: 1). Decides which X-Forwarded-For
# entry is the client for the lockout and the audit log; 0 ignores the header.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
AXES_USERNAME_CALLABLE = "kapcare.accounts.views.axes_username"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False

OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Kapcare")

LANGUAGE_CODE = "en-ca"
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Toronto")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "kapcare" / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# manage.py backup writes here (docs/deploy.md: schedule, retention, off-site copy)
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", str(BASE_DIR / "var" / "backups")))
MEDIA_URL = "media/"
# Clinical documents (referral letters, signed consents) live outside any served
# folder and are streamed only by views that check the role and audit the read.
PRIVATE_MEDIA_ROOT = Path(
    os.environ.get("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private"))
)
DOCUMENT_MAX_BYTES = envint("DOCUMENT_MAX_MB", 10) * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "kapcare.lib.storage.StaticStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Kapcare <no-reply@localhost>"
)
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "kapcare.lib.sms.TwilioBackend" if PRODUCTION else "kapcare.lib.sms.ConsoleBackend",
)
SMS_FROM = os.environ.get("SMS_FROM", "")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = envsecret("TWILIO_AUTH_TOKEN")

# Background work: django-tasks with the database backend; `manage.py clinic_worker`
# runs it. The backend never retries, so every task is idempotent and the worker
# re-queues jobs left "running" by a killed worker (kapcare/clock.py).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
CLOCK_INTERVAL = timedelta(seconds=envint("CLOCK_INTERVAL_SECONDS", 60))
STALE_TASK_AFTER = timedelta(minutes=envint("STALE_TASK_MINUTES", 10))

# A hung mail server must not stall the clinic clock (escalations).
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Keys the audit log's hash chain (HMAC-SHA-256), so someone who can write to the
# database but not read the app's secrets cannot rebuild the chain after an edit.
# Keep it stable: events written under one key verify only with that key.
AUDIT_CHAIN_KEY = envsecret("AUDIT_CHAIN_KEY")
if not AUDIT_CHAIN_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "Set AUDIT_CHAIN_KEY (or AUDIT_CHAIN_KEY_FILE) in production"
        )
    AUDIT_CHAIN_KEY = "development-only-audit-chain-key"

# HTTPS hardening: on in production (manage.py check --deploy is clean), off for http://127.0.0.1.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
