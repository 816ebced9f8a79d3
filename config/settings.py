"""The only settings file. Everything that differs between machines comes from the environment.

See docs/configuration.md for every variable.
"""

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LINLI_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("LINLI_DEBUG", False)
SECRET_KEY = env_secret("LINLI_SECRET_KEY", VAR_DIR / "secret_key")
# Master key for field encryption (ID numbers, phones, care tags) and keyed lookup hashes.
FIELD_ENCRYPTION_KEY = env_secret("LINLI_FIELD_KEY", VAR_DIR / "field_key")
ALLOWED_HOSTS = env_list("LINLI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("LINLI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "linli.lib.admin.LinliAdminConfig",  # django.contrib.admin with Linli's site: roles, scopes, audit
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # its Swagger UI is bundled in the package: /api/v1/docs works offline
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "linli.lib",
    "linli.orgs",
    "linli.accounts",
    "linli.people",
    "linli.credits",
    "linli.orders",
    "linli.activities",
    "linli.dispatch",
    "linli.reports",
    "linli.api",
    "linli.open311",
    "linli.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.accounts.middleware.IdleTimeoutMiddleware",
    "linli.accounts.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linli.accounts.context_processors.ui",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# Embedded default: one SQLite file with WAL; IMMEDIATE transactions turn write contention into
# waiting (busy timeout) instead of "database is locked"; synchronous=FULL so a committed row
# survives a power cut.
SQLITE_PATH = Path(env_str("LINLI_SQLITE_PATH", str(VAR_DIR / "linli.sqlite3")))
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("LINLI_DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("LINLI_SQLITE_TIMEOUT", 30),
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;PRAGMA busy_timeout=30000;"
                ),
            },
            # A file, not :memory:, so concurrency tests' threads share it.
            "TEST": {"NAME": env_str("LINLI_SQLITE_TEST_PATH", str(VAR_DIR / "test.sqlite3"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks -------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_str("LINLI_TASKS_BACKEND", "django_tasks_db.backend.DatabaseBackend"),
    }
}

# --- Auth and sessions ------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = env_int("LINLI_LOGIN_MAX_FAILURES", 5)
LOGIN_LOCK_MINUTES = env_int("LINLI_LOGIN_LOCK_MINUTES", 15)
SESSION_IDLE_TIMEOUT = env_int("LINLI_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

SECURE = env_bool("LINLI_SECURE", False)  # behind HTTPS in production
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("LINLI_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "linli" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("LINLI_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# --- JSON API -------------------------------------------------------------------------------
API_TOKEN_DAYS = env_int("LINLI_API_TOKEN_DAYS", 30)
API_RATE_PER_MINUTE = env_int("LINLI_API_RATE_PER_MINUTE", 120)
API_LOGIN_RATE_PER_MINUTE = env_int("LINLI_API_LOGIN_RATE_PER_MINUTE", 10)
TRUSTED_PROXY_COUNT = env_int("LINLI_TRUSTED_PROXY_COUNT", 0)

# --- Open311 (GeoReport v2) -------------------------------------------------------------------
OPEN311_CONTACT = env_str("LINLI_OPEN311_CONTACT", "")
OPEN311_KEY_RATE_PER_MINUTE = env_int("LINLI_OPEN311_KEY_RATE_PER_MINUTE", 60)
OPEN311_READ_RATE_PER_MINUTE = env_int("LINLI_OPEN311_READ_RATE_PER_MINUTE", 120)

# --- Outbound messages ----------------------------------------------------------------------
# SMS has no gateway reachable from here: a small interface with a console backend.
SMS_BACKEND = env_str("LINLI_SMS_BACKEND", "linli.lib.sms.ConsoleBackend")
EMAIL_BACKEND = env_str("LINLI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LINLI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
