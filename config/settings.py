"""Waypoint settings, driven by environment variables.

DATABASE_URL            default: SQLite file var/waypoint.sqlite3
WAYPOINT_SECRET_KEY     default: generated once into var/secret_key
WAYPOINT_DEBUG          "1" for development (make run sets it)
WAYPOINT_ALLOWED_HOSTS  comma-separated, default localhost names
WAYPOINT_EMULATORS      "1" mounts the LRS and EPA-platform emulators at /emulators/lrs/ and /emulators/epa/
                        (make run sets it)
WAYPOINT_MARKING_AID    "1" when the installation uses Marking Aid exercises
WAYPOINT_SYNC_BACKGROUND_FROM  sync runs with more target learners than this run in the task worker (500)
WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM  the wizard works out summaries of more learner/component pairs than this
                               in the task worker (20000)
WAYPOINT_LRS_URL        the Learning Records Service endpoint (LearnerServiceR9.svc); empty: PLR downloads are off
WAYPOINT_LRS_UKPRN, WAYPOINT_LRS_USERNAME, WAYPOINT_LRS_PASSWORD, WAYPOINT_LRS_VENDOR_ID
                        the organisation's LRS credentials (environment only, never stored in the database)
WAYPOINT_LRS_CERT_FILE, WAYPOINT_LRS_KEY_FILE  the LRS-issued client certificate and its key (PEM file paths)
WAYPOINT_LRS_TIMEOUT    seconds per call (20); WAYPOINT_LRS_CONCURRENCY calls at once (8);
WAYPOINT_LRS_BATCH_SIZE learners per progress step and database write (20)
WAYPOINT_PLR_ATTAINMENT_TYPE  the attainment type stamped on attainments written from the PLR ("PLR")
WAYPOINT_PLR_DOWNLOAD_HOURS  a PLR download session is discarded this many hours after it was made (24)
WAYPOINT_EPA_TOKEN      the EPA platform's API token, for connections whose credential setting names it (the
                        default name); a connection may name any other environment variable instead
WAYPOINT_EPA_TIMEOUT    seconds per call to the platform (10); WAYPOINT_EPA_CONCURRENCY calls at once (8)
WAYPOINT_EPA_BATCH_SIZE messages a worker claims at once (100)
WAYPOINT_EPA_LEASE      seconds a worker holds the messages it claimed; a worker killed mid-delivery lets them
                        go after this (300); keep it above TIMEOUT x BATCH_SIZE / CONCURRENCY
WAYPOINT_EPA_BACKOFF_BASE, WAYPOINT_EPA_BACKOFF_CAP  seconds: the n-th failed try waits a random time up to
                        min(CAP, BASE x 2^(n-1)) (2, 3600); WAYPOINT_EPA_MAX_ATTEMPTS tries before a message is
                        parked as failed (15)
WAYPOINT_EPA_POLL_INTERVAL  seconds between looks for due messages of `outbox_deliver --loop` (0.5)
WAYPOINT_EPA_EMULATOR_TOKEN  the bearer token the EPA-platform emulator accepts (empty: it refuses every call)
WAYPOINT_EPA_EMULATOR_ERROR_RATE, _RATE_LIMIT_RATE, _TIMEOUT_RATE  shares (0..1) of the emulator's answers that
                        are a 503, a 429 with Retry-After, or held past the client's timeout (0 each)
WAYPOINT_EPA_EMULATOR_LATENCY_MS  added to every emulator answer (0); WAYPOINT_EPA_EMULATOR_RETRY_AFTER seconds
                        its 429s ask for (1); WAYPOINT_EPA_EMULATOR_HANG_SECONDS how long a timeout is held (30)
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WAYPOINT_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if key := os.environ.get("WAYPOINT_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _flag("WAYPOINT_DEBUG")
ALLOWED_HOSTS = os.environ.get("WAYPOINT_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("WAYPOINT_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

WAYPOINT_EMULATORS = _flag("WAYPOINT_EMULATORS")
WAYPOINT_MARKING_AID = _flag("WAYPOINT_MARKING_AID", "1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "waypoint.core",
    "waypoint.people",
    "waypoint.programmes",
    "waypoint.plans",
    "waypoint.attainments",
    "waypoint.automation",
    "waypoint.curriculum",
    "waypoint.epa",
    "waypoint.api",
    "waypoint.web",
    "waypoint.demo",
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
    "waypoint.plans.visits.RecordVisitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'waypoint.sqlite3'}"),
        conn_max_age=int(os.environ.get("WAYPOINT_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles every large set-based statement afresh, each time: it took 6 s of the 9 s sync
    # summary at 20,000 learners (bench/RESULTS.md). Waypoint's statements are planned for, not compiled.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Waypoint serves its own (vendored) assets in every mode: it runs offline with no other web server.
# Finders make `collectstatic` optional; run it in production for compressed, cached files.
WHITENOISE_USE_FINDERS = True

# Progress of long work (a background sync's done/total) is written outside the work's transaction so that
# other processes can read it while it runs: a cache every process of the installation shares.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
}
# A sync run for more target learners than this is applied by the task worker, with progress (R-PLUS-3).
WAYPOINT_SYNC_BACKGROUND_FROM = int(os.environ.get("WAYPOINT_SYNC_BACKGROUND_FROM", "500"))
# The wizard's summary of more learner/component pairs than this is worked out by the task worker, so that the
# step answers at once and shows that the summary is being worked out.
WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM = int(os.environ.get("WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM", "20000"))

# The Learning Records Service (PLR attainments, R-PLR-1…8). Credentials come from the environment only.
WAYPOINT_LRS_URL = os.environ.get("WAYPOINT_LRS_URL", "")
WAYPOINT_LRS_WSDL = BASE_DIR / "waypoint" / "attainments" / "lrs" / "LearnerServiceR9.wsdl"
WAYPOINT_LRS_UKPRN = os.environ.get("WAYPOINT_LRS_UKPRN", "")
WAYPOINT_LRS_USERNAME = os.environ.get("WAYPOINT_LRS_USERNAME", "")
WAYPOINT_LRS_PASSWORD = os.environ.get("WAYPOINT_LRS_PASSWORD", "")
WAYPOINT_LRS_VENDOR_ID = int(os.environ.get("WAYPOINT_LRS_VENDOR_ID", "0") or 0)
WAYPOINT_LRS_USER_TYPE = os.environ.get("WAYPOINT_LRS_USER_TYPE", "ORG")
WAYPOINT_LRS_CERT_FILE = os.environ.get("WAYPOINT_LRS_CERT_FILE", "")
WAYPOINT_LRS_KEY_FILE = os.environ.get("WAYPOINT_LRS_KEY_FILE", "")
WAYPOINT_LRS_TIMEOUT = float(os.environ.get("WAYPOINT_LRS_TIMEOUT", "20"))
WAYPOINT_LRS_CONCURRENCY = int(os.environ.get("WAYPOINT_LRS_CONCURRENCY", "8"))
WAYPOINT_LRS_BATCH_SIZE = int(os.environ.get("WAYPOINT_LRS_BATCH_SIZE", "20"))
WAYPOINT_PLR_ATTAINMENT_TYPE = os.environ.get("WAYPOINT_PLR_ATTAINMENT_TYPE", "PLR")
# A PLR download (the admin's session of downloaded rows) is discarded this many hours after it was made.
WAYPOINT_PLR_DOWNLOAD_HOURS = float(os.environ.get("WAYPOINT_PLR_DOWNLOAD_HOURS", "24"))
# The LRS emulator (mounted with WAYPOINT_EMULATORS): added latency per call and the share of calls that fault.
WAYPOINT_LRS_EMULATOR_LATENCY_MS = int(os.environ.get("WAYPOINT_LRS_EMULATOR_LATENCY_MS", "0"))
WAYPOINT_LRS_EMULATOR_FAULT_RATE = float(os.environ.get("WAYPOINT_LRS_EMULATOR_FAULT_RATE", "0"))

# The EPA platform connector (R-EPA-12): delivery of the outbox's "epa" topic. See docs/epa-connector.md.
WAYPOINT_EPA_TOKEN = os.environ.get("WAYPOINT_EPA_TOKEN", "")
WAYPOINT_EPA_TIMEOUT = float(os.environ.get("WAYPOINT_EPA_TIMEOUT", "10"))
WAYPOINT_EPA_CONCURRENCY = int(os.environ.get("WAYPOINT_EPA_CONCURRENCY", "8"))
WAYPOINT_EPA_BATCH_SIZE = int(os.environ.get("WAYPOINT_EPA_BATCH_SIZE", "100"))
WAYPOINT_EPA_LEASE = float(os.environ.get("WAYPOINT_EPA_LEASE", "300"))
WAYPOINT_EPA_BACKOFF_BASE = float(os.environ.get("WAYPOINT_EPA_BACKOFF_BASE", "2"))
WAYPOINT_EPA_BACKOFF_CAP = float(os.environ.get("WAYPOINT_EPA_BACKOFF_CAP", "3600"))
WAYPOINT_EPA_MAX_ATTEMPTS = int(os.environ.get("WAYPOINT_EPA_MAX_ATTEMPTS", "15"))
WAYPOINT_EPA_POLL_INTERVAL = float(os.environ.get("WAYPOINT_EPA_POLL_INTERVAL", "0.5"))
# The EPA-platform emulator (mounted with WAYPOINT_EMULATORS): the token it accepts and the faults it injects.
WAYPOINT_EPA_EMULATOR_TOKEN = os.environ.get("WAYPOINT_EPA_EMULATOR_TOKEN", "")
WAYPOINT_EPA_EMULATOR_ERROR_RATE = float(os.environ.get("WAYPOINT_EPA_EMULATOR_ERROR_RATE", "0"))
WAYPOINT_EPA_EMULATOR_RATE_LIMIT_RATE = float(os.environ.get("WAYPOINT_EPA_EMULATOR_RATE_LIMIT_RATE", "0"))
WAYPOINT_EPA_EMULATOR_TIMEOUT_RATE = float(os.environ.get("WAYPOINT_EPA_EMULATOR_TIMEOUT_RATE", "0"))
WAYPOINT_EPA_EMULATOR_LATENCY_MS = int(os.environ.get("WAYPOINT_EPA_EMULATOR_LATENCY_MS", "0"))
WAYPOINT_EPA_EMULATOR_RETRY_AFTER = float(os.environ.get("WAYPOINT_EPA_EMULATOR_RETRY_AFTER", "1"))
WAYPOINT_EPA_EMULATOR_HANG_SECONDS = float(os.environ.get("WAYPOINT_EPA_EMULATOR_HANG_SECONDS", "30"))

# Email (Learning Plan notifications, R-CUR-10): written as files under var/mail/ unless WAYPOINT_EMAIL_HOST names
# an SMTP server (WAYPOINT_EMAIL_PORT 587, WAYPOINT_EMAIL_USER, WAYPOINT_EMAIL_PASSWORD, WAYPOINT_EMAIL_TLS "1",
# WAYPOINT_EMAIL_FROM the sender).
EMAIL_HOST = os.environ.get("WAYPOINT_EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("WAYPOINT_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("WAYPOINT_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("WAYPOINT_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = _flag("WAYPOINT_EMAIL_TLS", "1")
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("WAYPOINT_EMAIL_FROM", "Waypoint <waypoint@localhost>")

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WAYPOINT_LOG_LEVEL", "INFO")},
    # httpx logs every EPA platform call at INFO; the delivery attempts are recorded in the database instead.
    "loggers": {"django.db.backends": {"level": "INFO"}, "httpx": {"level": "WARNING"}},
}
