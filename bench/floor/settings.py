"""Settings of the floor app: as little as Django needs, databases set up as pingan's.

Environment:

- ``DATABASE_URL``: ``sqlite:///PATH`` (pingan's PRAGMAs: WAL, ``synchronous=NORMAL``, IMMEDIATE
  transactions) or ``postgres://.../pingan_floor``; default a SQLite file in /tmp.
- ``FLOOR_CONN_MAX_AGE``: persistent connections, seconds (default 600, as pingan's HTTP workers).
- ``FLOOR_MIDDLEWARE``: ``common`` (default: ``CommonMiddleware`` only), ``pingan`` (pingan's
  stack of 9, with the contrib apps it needs), ``none``, or a comma-separated list of dotted
  paths.
"""

import os

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-floor-secret-key-not-for-production-0123456789")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
LANGUAGE_CODE = "zh-hans"
USE_I18N = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"

PINGAN_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
_presets = {
    "common": ["django.middleware.common.CommonMiddleware"],
    "pingan": PINGAN_MIDDLEWARE,
    "none": [],
}
_middleware = os.environ.get("FLOOR_MIDDLEWARE", "common").strip()
MIDDLEWARE = _presets.get(_middleware) or [m.strip() for m in _middleware.split(",") if m.strip()]

INSTALLED_APPS = ["bench.floor"]
if any(m.startswith(("django.contrib.", "whitenoise.")) for m in MIDDLEWARE):
    INSTALLED_APPS = [
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
        "django.contrib.messages",
        *INSTALLED_APPS,
    ]
TEMPLATES = []

_url = os.environ.get("DATABASE_URL", "sqlite:////tmp/pingan-floor.sqlite3")
_db = dj_database_url.parse(_url, conn_max_age=int(os.environ.get("FLOOR_CONN_MAX_AGE", "600")))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # pingan/settings.py's SQLite options, word for word.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=20000;",
    }
DATABASES = {"default": _db}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
