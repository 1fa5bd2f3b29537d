"""Settings from the environment, so one code base runs on a laptop and in the hospital.

Development (``make serve``): SQLite and files in ``data/`` (git-ignored), a secret key made
once and kept there. Production (``LEAFLETPRESS_PRODUCTION=1``): the secret key and database
URL must come from the environment (``LEAFLETPRESS_SECRET_KEY``, ``DATABASE_URL``), cookies
are secure, HTTPS is required; ``manage.py check --deploy`` is clean.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from leafletpress.common.project import CHECKOUT, DEFAULT_ROOT
from leafletpress.web import logs, signin

os.umask(0o077)  # the database, the leaflets and the lists: readable by their owner only
PRODUCTION = os.environ.get("LEAFLETPRESS_PRODUCTION") == "1"
# The project: leaflets/, config/ (and templates/, styles/ if it has its own): the hospital's
# content folder in production; the example one leafletpress ships otherwise.
ROOT = Path(os.environ.get("LEAFLETPRESS_PROJECT", DEFAULT_ROOT)).resolve()
if PRODUCTION and not CHECKOUT and "LEAFLETPRESS_PROJECT" not in os.environ:
    raise ImproperlyConfigured(  # the example content inside the package is never the hospital's
        "zet LEAFLETPRESS_PROJECT: de inhoudsmap van het ziekenhuis (begin er een met "
        "'leafletpress init MAP')"
    )
# This machine's data: data/ in a checkout; installed, where the service says
# (else the user's own folder, never inside the installed package).
_HOME_DATA = Path.home() / ".local" / "share" / "leafletpress" / "data"
_DATA = CHECKOUT / "data" if CHECKOUT else _HOME_DATA
DATA = Path(os.environ.get("LEAFLETPRESS_DATA", _DATA)).resolve()
# Patients' files, on a folder every machine shares (Django's storage API: storage.py).
SHARED = Path(os.environ.get("LEAFLETPRESS_SHARED", DATA)).resolve()
STORAGES = {
    "default": {"BACKEND": "leafletpress.web.storage.SharedStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def _secret_key() -> str:
    if key := os.environ.get("LEAFLETPRESS_SECRET_KEY"):
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("zet LEAFLETPRESS_SECRET_KEY (50 willekeurige tekens)")
    path = DATA / "secret_key"  # development: made once, owner-only
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _retention_days() -> int:
    """How long patients' files are kept (GOV.UK Notify: 7 days, adjustable from 3 to 90)."""
    value = os.environ.get("LEAFLETPRESS_RETENTION_DAYS", "7")
    if not re.fullmatch(r"[0-9]+", value) or not 3 <= int(value) <= 90:
        raise ImproperlyConfigured(
            f"LEAFLETPRESS_RETENTION_DAYS is '{value}': geef een aantal dagen van 3 tot en met 90"
        )
    return int(value)


RETENTION_DAYS = _retention_days()
DEBUG = os.environ.get("LEAFLETPRESS_DEBUG") == "1" and not PRODUCTION
ALLOWED_HOSTS = os.environ.get("LEAFLETPRESS_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "leafletpress.web",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "leafletpress.web.logs.RequestLog",  # the request id and account on every log line
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "leafletpress.web.middleware.NoStore",
    "leafletpress.web.middleware.Gone",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]
CSRF_FAILURE_VIEW = "leafletpress.web.views.csrf_failure"
ROOT_URLCONF = "leafletpress.web.urls"
WSGI_APPLICATION = "leafletpress.web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leafletpress.web.roles.context",
            ],
        },
    }
]
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA / 'leafletpress.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # a web server and a worker share it
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["TEST"] = {"NAME": str(DATA / "test.sqlite3")}  # a file: for threads
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Who may sign in: local accounts, or the hospital's directory too (LDAP or OpenID Connect).
_signin = signin.settings_from(os.environ)
globals().update(_signin)
# Need to know: each account sees only its services' leaflets and days (roles.py).
NEED_TO_KNOW = os.environ.get("LEAFLETPRESS_NEED_TO_KNOW") == "1" or bool(_signin["SERVICE_GROUPS"])
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = 5  # wrong passwords for one account from one address, then locked
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # its banner at every command; sign-ins and lock-outs are in the audit log
AXES_WHITELIST_CALLABLE = "leafletpress.web.signin.without_password"
AXES_USERNAME_CALLABLE = "leafletpress.web.signin.typed_account"  # never a password in clear
# Behind the hospital's proxy every request comes from the proxy: the client's own address is
# the one the proxies appended to X-Forwarded-For (else one typist could lock out everyone).
PROXIES = int(os.environ.get("LEAFLETPRESS_PROXIES", "1" if PRODUCTION else "0"))
AXES_CLIENT_IP_CALLABLE = "leafletpress.web.signin.client_address"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The appointment feed (docs/koppeling.md): the MLLP listener (`leafletpress-web luister`)
# and the FHIR endpoint. Only these senders' addresses (or networks) are answered.
FEED_ADDRESS = os.environ.get("LEAFLETPRESS_FEED_ADDRESS", "127.0.0.1:2575")
FEED_SENDERS = [a.strip() for a in os.environ.get("LEAFLETPRESS_FEED_SENDERS", "127.0.0.1,::1"
                                                  ).split(",") if a.strip()]  # fmt: skip
FEED_TLS_CERT = os.environ.get("LEAFLETPRESS_FEED_TLS_CERT", "")  # PEM: TLS when set
FEED_TLS_KEY = os.environ.get("LEAFLETPRESS_FEED_TLS_KEY", "")
FEED_TLS_CLIENTS = os.environ.get("LEAFLETPRESS_FEED_TLS_CLIENTS", "")  # CA: client certificates
FEED_TOKEN = os.environ.get("LEAFLETPRESS_FEED_TOKEN", "")  # FHIR: the bearer token (else off)
# A worker silent this long (killed, its machine gone) leaves its part of a day to another.
WORKER_LEASE_SECONDS = int(os.environ.get("LEAFLETPRESS_WORKER_LEASE_SECONDS", "120"))
WORKER_HELPERS = 7  # at most this many more workers join a day's first one

LANGUAGE_CODE = "nl-be"

# Local accounts' passwords (the directory's own rules apply to directory sign-in): Django's
# checks, at least LEAFLETPRESS_PASSWORD_MIN characters (12).
_PASSWORDS = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": _PASSWORDS + "UserAttributeSimilarityValidator"},
    {"NAME": _PASSWORDS + "MinimumLengthValidator",
     "OPTIONS": {"min_length": int(os.environ.get("LEAFLETPRESS_PASSWORD_MIN", "12"))}},
    {"NAME": _PASSWORDS + "CommonPasswordValidator"},
    {"NAME": _PASSWORDS + "NumericPasswordValidator"},
]  # fmt: skip
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
WHITENOISE_USE_FINDERS = True  # the app's few files, straight from the packages

# Uploads: a day's list is at most config/columns.yaml's max_megabytes (checked again there).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A larger upload is spooled in the data folder, not the system's /tmp: one left behind by a
# worker that died mid-upload is deleted by the daily retention run (retention.py).
FILE_UPLOAD_TEMP_DIR = str(DATA / "tmp")
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# The key of the keyed hashes (common/keyed.py): a file of its own, the same on every machine.
# Machines that share a folder each made their own, silently: it must be named.
if SHARED != DATA and not os.environ.get("LEAFLETPRESS_KEY_FILE"):
    raise ImproperlyConfigured(
        "zet LEAFLETPRESS_KEY_FILE: met een gedeelde map (LEAFLETPRESS_SHARED) heeft elke "
        "machine hetzelfde sleutelbestand nodig (maak het één keer met `openssl rand -hex 32`, "
        "alleen leesbaar voor de dienstgebruiker, en kopieer het naar elke machine)"
    )
KEY_FILE = os.environ.get("LEAFLETPRESS_KEY_FILE", str(DATA / "sleutel"))
# What one account may upload in a day, and the free space the shared folder keeps: a script
# in a signed-in tab cannot fill the disk the workers and the database need (F13).
UPLOAD_BYTES_PER_DAY = int(os.environ.get("LEAFLETPRESS_UPLOAD_MB_PER_DAY", "100")) * 2**20
MIN_FREE_BYTES = int(os.environ.get("LEAFLETPRESS_MIN_FREE_MB", "1024")) * 2**20

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600  # a working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    }
}
if PRODUCTION:
    if "DATABASE_URL" not in os.environ:
        raise ImproperlyConfigured("zet DATABASE_URL, bv. postgres://leafletpress@db/leafletpress")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("LEAFLETPRESS_PROXY_HTTPS") != "0"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = False  # an intranet host: never on a public preload list
    SILENCED_SYSTEM_CHECKS = ["security.W021"]  # that, deliberately

# One format for every line (logs.py): LEAFLETPRESS_LOG_FORMAT (text, json) and _LEVEL.
LOGGING = logs.config(dict(os.environ) | ({"LEAFLETPRESS_LOG_LEVEL": "DEBUG"} if DEBUG else {}))
