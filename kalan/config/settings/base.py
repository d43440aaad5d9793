"""Settings shared by every role of an instance.

Everything an operator may change comes from the environment (KALAN_*), so one
package serves a school hub, a laptop and a national server alike.
"""

import os
import secrets
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from kalan.core.paths import kalan_home

PACKAGE_DIR = Path(__file__).resolve().parent.parent.parent  # the kalan package
KALAN_HOME = kalan_home()


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """KALAN_SECRET_KEY, or a key generated once and kept in KALAN_HOME."""
    if key := os.environ.get("KALAN_SECRET_KEY"):
        return key
    path = KALAN_HOME / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        KALAN_HOME.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("KALAN_DEBUG")
# A school hub answers on whatever address the school Wi-Fi gives it.
ALLOWED_HOSTS = os.environ.get("KALAN_ALLOWED_HOSTS", "*").split(",")

INSTALLED_APPS = [
    "kalan.core",
    "kalan.ui",
    "kalan.sync",
    "kalan.accounts",
    "kalan.schools",
    "kalan.content",
    "kalan.lrs",
    "kalan.progress",
    "kalan.assessments",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "kalan.ui.apps.KalanStaticFilesConfig",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kalan.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kalan.core.middleware.DatabaseBusyMiddleware",
]

# django-ninja's API docs page and its Swagger files, served by the instance itself.
# Found without importing ninja (and pydantic): it is not an installed app, so a
# process that serves only pages never loads it (see kalan/config/urls.py).
NINJA_DIR = Path(str(find_spec("ninja").origin)).parent  # type: ignore[union-attr]
STATICFILES_DIRS = [NINJA_DIR / "static"]

ROOT_URLCONF = "kalan.config.urls"
WSGI_APPLICATION = "kalan.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kalan.ui.context_processors.languages",
            ],
        },
    },
]

# Widgets render through Django's own Jinja2 widget templates: the same markup as
# its Django-template ones at half the cost (a select renders one template per option).
FORM_RENDERER = "django.forms.renderers.Jinja2"

# ---------------------------------------------------------------- database
# SQLite on a hub: WAL, BEGIN IMMEDIATE for writes, a busy timeout; never
# ATOMIC_REQUESTS. PostgreSQL when KALAN_DATABASE_URL says so.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA temp_store=MEMORY;"
        "PRAGMA cache_size=-8000;"
        "PRAGMA journal_size_limit=67108864;"
    ),
}
if url := os.environ.get("KALAN_DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["ENGINE"] = "kalan.core.sqlite"  # one queue for writers
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "kalan.core.sqlite",  # Django's, with one queue for writers
            "NAME": str(KALAN_HOME / "kalan.sqlite3"),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }
if DATABASES["default"]["ENGINE"] == "kalan.core.sqlite":
    # Keep each thread's connection: opening one and running the pragmas cost a
    # third of a page's time on a hub.
    DATABASES["default"]["CONN_MAX_AGE"] = None
    # Tests run in memory, as Django's own SQLite engine would (said outright, since
    # test tools recognise that engine by its name only).
    DATABASES["default"].setdefault("TEST", {"NAME": ":memory:"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------- accounts
AUTH_USER_MODEL = "accounts.User"
# Usernames are unique per school; the sign-in backend takes the school into account.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = ["kalan.accounts.backends.SchoolUsernameBackend"]
PASSWORD_HASHERS = [
    "kalan.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:sign-in"
# Failed sign-ins: after this many in the window, the name is locked for the window.
KALAN_SIGNIN_MAX_FAILURES = int(os.environ.get("KALAN_SIGNIN_MAX_FAILURES", "5"))
KALAN_SIGNIN_WINDOW_SECONDS = int(os.environ.get("KALAN_SIGNIN_WINDOW_SECONDS", "900"))

SESSION_ENGINE = "kalan.accounts.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# ---------------------------------------------------------------- languages
LANG_INFO.setdefault(
    "bm", {"bidi": False, "code": "bm", "name": "Bambara", "name_local": "Bamanankan"}
)
LANGUAGE_CODE = os.environ.get("KALAN_LANGUAGE", "en")
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("ru", _("Russian")),
    ("tg", _("Tajik")),
    ("bm", _("Bambara")),
]
# Where a language lacks a translation, the interface speaks the one people
# there read best instead of English: French in Mali, Russian in Tajikistan.
KALAN_LANGUAGE_FALLBACKS = {"bm": "fr", "tg": "ru"}
if raw := os.environ.get("KALAN_LANGUAGE_FALLBACKS"):
    KALAN_LANGUAGE_FALLBACKS = dict(pair.split(":", 1) for pair in raw.split(",") if ":" in pair)
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
FORMAT_MODULE_PATH = ["kalan.core.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("KALAN_TIME_ZONE", "UTC")
LANGUAGE_COOKIE_NAME = "kalan_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365

# ---------------------------------------------------------------- static
STATIC_URL = "/static/"
STATIC_ROOT = KALAN_HOME / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(KALAN_HOME / "media")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 60 * 60 * 24 * 365
# Source maps are for developers' tools: stored, not compressed.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
# Pages only ever name fingerprinted files; compressing the originals too doubled the work.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

# ---------------------------------------------------------------- tasks
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KALAN_LOG_LEVEL", "WARNING")},
    # pypdf logs what it repairs in damaged files; Kalan reports refusals itself.
    "loggers": {"pypdf": {"level": "ERROR"}},
}

# ---------------------------------------------------------------- content
# The content store: signed channel manifests and every file once by SHA-256.
KALAN_CONTENT_DIR = Path(os.environ.get("KALAN_CONTENT_DIR") or KALAN_HOME / "content")
# Uploads stream to a file on the instance's own disk, not to a small /tmp.
FILE_UPLOAD_TEMP_DIR = KALAN_HOME / "uploads"
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
