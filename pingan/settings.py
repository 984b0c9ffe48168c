"""The one settings module: everything that varies between deployments comes from the environment.

Embedded default: SQLite file under PINGAN_DATA_DIR, in-memory channel layer, database-backed
task queue. Set DATABASE_URL for PostgreSQL and REDIS_URL for Redis (channels, cache, tasks).
"""

import secrets
import sys
import tempfile
import warnings
from pathlib import Path

import dj_database_url

from pingan.core.crypto import load_keys as load_data_keys
from pingan.core.env import EnvError, env_bool, env_int, env_list, env_str
from pingan.core.secretkey import weakness

BASE_DIR = Path(__file__).resolve().parent
DEMO_MODE = env_bool("PINGAN_DEMO", False)
# Under pytest: fast hashing, tasks recorded instead of run, data and uploads in a temp folder.
TESTING = env_bool("PINGAN_TESTING", False) or "pytest" in sys.modules
_default_data = tempfile.mkdtemp(prefix="pingan-test-") if TESTING else str(Path.cwd() / "data")
DATA_DIR = Path(env_str("PINGAN_DATA_DIR", _default_data)).resolve()
DEBUG = env_bool("PINGAN_DEBUG", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    # Outside the demo (and the tests) the server does not start with a missing or weak key:
    # absent, shorter than 50 characters, fewer than 5 distinct ones, or "django-insecure…"
    # (pingan/core/secretkey.py). Generate one: python -c "import secrets;
    # print(secrets.token_urlsafe(50))"
    if not (DEMO_MODE or TESTING) and (problem := weakness(key)):
        raise EnvError(f"{problem} (or run the demo: `pingan demo`)")
    if key:
        return key
    # The demo generates a key once and keeps it in the data folder so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks, comma-separated,
# e.g. "127.0.0.1,10.0.0.0/8"). None by default: the audit log and the anonymous report quota
# then use the connection's own address (pingan/core/clientip.py, docs/deployment.md).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "pingan.core",
    "pingan.accounts",
    "pingan.orgs",
    "pingan.incidents",
    "pingan.audit",
    "pingan.notify",
    "pingan.disputes",
    "pingan.volunteers",
    "pingan.points",
    "pingan.live",
    "pingan.demo",
    # Only for its bundled Swagger UI (templates and static files): /api/docs works offline.
    "ninja",
]

MIDDLEWARE = [
    "pingan.core.clientip.ClientAddressMiddleware",  # X-Forwarded-For from TRUSTED_PROXIES only
    "pingan.core.headers.SecurityHeadersMiddleware",  # CSP and Permissions-Policy, every response
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "pingan.core.middleware.SessionMiddleware",  # Django's, without session writes on /api/
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pingan.accounts.sessions.SessionPolicyMiddleware",  # 12 h staff limit, password changes
    "pingan.core.bodylimit.RequestBodyLimitMiddleware",  # 413 by Content-Length, before any read
    "pingan.core.ratelimit.ApiRateLimitMiddleware",  # /api/ only: per account and per address
    "pingan.audit.middleware.AuditMiddleware",  # superuser use, the admin's bulk edits
    "pingan.core.idempotency.IdempotencyMiddleware",  # /api/ writes with an Idempotency-Key
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pingan.core.pages.ServiceErrorPages",  # a ServiceError escaping a page → its error page
]

# The API's requests (pingan/wsgi.py) go through only what they use: security headers, the
# session and the user (pages' own API calls authenticate with the session; ninja checks their
# CSRF token itself). Locale, messages, CSRF cookies, frame options and static files are the
# pages' business, and cost every report ~0.2 ms.
API_MIDDLEWARE = [
    "pingan.core.clientip.ClientAddressMiddleware",
    "pingan.core.headers.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "pingan.core.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pingan.accounts.sessions.SessionPolicyMiddleware",
    "pingan.core.bodylimit.RequestBodyLimitMiddleware",
    "pingan.core.ratelimit.ApiRateLimitMiddleware",
    "pingan.audit.middleware.AuditMiddleware",
    "pingan.core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "pingan.urls"
ASGI_APPLICATION = "pingan.asgi.application"
WSGI_APPLICATION = "pingan.wsgi.application"

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
                "django.template.context_processors.i18n",
                "pingan.core.context.site",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
_default_sqlite = f"sqlite:///{DATA_DIR / 'pingan.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _default_sqlite)
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # The stock backend plus a single writer: write transactions queue on an OS lock beside the
    # database file instead of polling SQLite's busy handler (pingan/core/db/sqlite3/base.py).
    # connection.vendor stays "sqlite".
    _db["ENGINE"] = "pingan.core.db.sqlite3"
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers run while one writer commits; IMMEDIATE transactions take SQLite's write
    # lock at BEGIN (right after ours), so a transaction never fails half-way with "database is
    # locked". busy_timeout remains the last resort against writers that do not know our lock
    # (the sqlite3 shell, another program).
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=20000;",
    }
    # ":memory:" spelled out: pytest-django recognises an in-memory test database by the stock
    # ENGINE name only, and would otherwise derive a file name per xdist worker from NAME.
    _db["TEST"] = {"NAME": env_str("PINGAN_TEST_SQLITE", None) or ":memory:"}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # A database outage (docs/deployment.md, pingan/core/dbfaults.py): a connection attempt
    # gives up after DB_CONNECT_TIMEOUT seconds (an unreachable host would otherwise hold a
    # request for minutes), and a connection is checked before a request uses it (Django's
    # health check; with the pool, psycopg_pool's check_connection), so after a restart the
    # next request reconnects instead of failing on a dead socket.
    _db.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 3)
    _db["CONN_HEALTH_CHECKS"] = env_bool("DB_HEALTH_CHECKS", True)
    if env_bool("DB_POOL", True):
        # Under ASGI each request runs on a fresh thread, so persistent connections never get
        # reused; a pool saves PostgreSQL a new backend (~6 ms of its CPU) per request.
        # While the database is down, a request waits DB_POOL_TIMEOUT seconds for a connection
        # and is answered 503; the pool's reconnection attempts back off (1, 2, 4 s …) for at
        # most DB_POOL_RECONNECT_SECONDS before starting over, so it finds a database that came
        # back within a few seconds, however long the outage was.
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"]["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2),
            "max_size": env_int("DB_POOL_MAX", 20),
            "timeout": float(env_str("DB_POOL_TIMEOUT", "3")),
            "reconnect_timeout": float(env_str("DB_POOL_RECONNECT_SECONDS", "5")),
        }
DATABASES = {"default": _db}
# Requests computing inside Django at once per server process; the rest queue in the event loop,
# in arrival order (pingan/core/admission.py). One per core keeps each one fast; never more
# than the pool has connections. 0 = no gate.
HTTP_ADMISSION_LIMIT = env_int(
    "HTTP_ADMISSION_LIMIT", min(2, _db.get("OPTIONS", {}).get("pool", {}).get("max_size", 2))
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: channels, cache, tasks ------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Messages a socket may have queued before the layer drops more for it (channels' default, 100,
# is two seconds of a county board's pushes in a rush of reports).
LIVE_CHANNEL_CAPACITY = env_int("LIVE_CHANNEL_CAPACITY", 2000)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": LIVE_CHANNEL_CAPACITY},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": LIVE_CHANNEL_CAPACITY},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
if env_bool("PINGAN_TASKS_IMMEDIATE", False):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
if REDIS_URL:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

# --- live push -------------------------------------------------------------------------------
# Requests announce what they committed to the fan-out (pingan/live/fanout.py), which runs in the
# socket server: "wake" sends one datagram per transaction to LIVE_WAKE_SOCKET; "inline"
# delivers in the committing thread (tests); "off" leaves it to the fan-out's table scans.
LIVE_FANOUT = env_str("LIVE_FANOUT", "wake")
LIVE_WAKE_SOCKET = Path(env_str("LIVE_WAKE_SOCKET", str(DATA_DIR / "live-wake.sock")))
# How often the fan-out reads the timelines for rows nobody announced, and how long it gathers
# announcements into one batch: its queries cost the same for one report or fifty, so under a
# rush a longer window is cheaper per report (0.1 s is far inside the board's 1 s target).
LIVE_SCAN_SECONDS = float(env_str("LIVE_SCAN_SECONDS", "0.5") or "0.5")
LIVE_BATCH_SECONDS = float(env_str("LIVE_BATCH_SECONDS", "0.1"))
# Whether this process runs the fan-out when it serves sockets (one per deployment).
LIVE_RUN_FANOUT = env_bool("LIVE_RUN_FANOUT", True)
# Pages open their socket on this port of the host they came from (the embedded server's socket
# port); 0: the same origin, /ws/ routed to the socket server by the reverse proxy.
LIVE_SOCKET_PORT = env_int("LIVE_SOCKET_PORT", 0)

# --- accounts and security --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # The administrators' rights come from their role (三员分立), not from stored grants.
    "pingan.accounts.permissions.RolePermissionBackend",
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
# 等保2.0 level 3 (pingan/accounts/passwords.py): at least PASSWORD_MIN_LENGTH (≥ 8) characters of
# three of the four classes, not a common password, not like or containing the user name, not
# one of the last PASSWORD_HISTORY; staff passwords last PASSWORD_MAX_AGE_DAYS.
PASSWORD_MIN_LENGTH = max(8, env_int("PASSWORD_MIN_LENGTH", 10))
PASSWORD_HISTORY = env_int("PASSWORD_HISTORY", 5)
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "pingan.accounts.passwords.CharacterClassesValidator"},
    {"NAME": "pingan.accounts.passwords.UsernameInPasswordValidator"},
    {"NAME": "pingan.accounts.passwords.ChineseCommonPasswordValidator"},
    {
        "NAME": "pingan.accounts.passwords.PasswordHistoryValidator",
        "OPTIONS": {"keep": PASSWORD_HISTORY},
    },
]
# Lock-out (pingan/accounts/lockout.py): LOGIN_MAX_FAILURES failures lock the account name, and
# LOGIN_ADDRESS_MAX_FAILURES failures from one client address lock the address, for
# LOGIN_LOCK_MINUTES. Behind NAT many people share one address: raise the second, not the first.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_ADDRESS_MAX_FAILURES = env_int("LOGIN_ADDRESS_MAX_FAILURES", 5)
LOGIN_LOCK_MINUTES = env_int("LOGIN_LOCK_MINUTES", 30)
# Sessions (pingan/accounts/sessions.py): staff pages end after SESSION_IDLE_SECONDS idle and
# STAFF_SESSION_MAX_HOURS in all; residents (phones, the elderly) stay signed in longer.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
STAFF_SESSION_MAX_HOURS = env_int("STAFF_SESSION_MAX_HOURS", 12)
RESIDENT_SESSION_IDLE_SECONDS = env_int("RESIDENT_SESSION_IDLE_SECONDS", 14 * 24 * 3600)
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = True
# Bearer tokens: residents' last API_TOKEN_TTL_HOURS; staff tokens API_STAFF_TOKEN_TTL_HOURS and
# end after SESSION_IDLE_SECONDS unused. A password change revokes them all.
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 24 * 7)
# How long an Idempotency-Key's answer is kept (core/idempotency.py): a phone's offline queue
# may wait days in the hills before it can send.
IDEMPOTENCY_KEEP_HOURS = env_int("IDEMPOTENCY_KEEP_HOURS", 7 * 24)
API_STAFF_TOKEN_TTL_HOURS = env_int("API_STAFF_TOKEN_TTL_HOURS", 12)
SESSION_COOKIE_HTTPONLY = True
# PINGAN_HTTPS: browsers reach pingan only over HTTPS, through a reverse proxy that terminates
# TLS and sets X-Forwarded-Proto (docs/deployment.md): HSTS, Secure cookies, redirect to HTTPS.
# On by default outside the demo (which speaks plain HTTP on 127.0.0.1) and the tests.
# PINGAN_HTTPS=0 is the explicit opt-out for a plain-HTTP intranet; `check --deploy` still flags
# it (W004, W008, W012, W016). `manage.py check --deploy` is clean with it on.
HTTPS = env_bool("PINGAN_HTTPS", not (DEMO_MODE or TESTING))
if HTTPS:
    # Trust the proxy's word for the scheme; the proxy must overwrite the header it is sent.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HSTS: a year by default over HTTPS (try SECURE_HSTS_SECONDS=3600 first on a new host name).
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# The preload directive asks browsers' built-in HSTS lists to take the whole domain; that is the
# domain owner's decision, so it is off unless asked for, and so is Django's reminder about it.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
X_FRAME_OPTIONS = "DENY"
# Sent by SecurityMiddleware on every response (Django's default, spelled out: 等保 reviewers look
# for it). Content-Security-Policy and Permissions-Policy: pingan/core/headers.py.
SECURE_REFERRER_POLICY = "same-origin"
# The API's general rate limit, per minute (pingan/core/ratelimit.py): per account (token or
# session) and per client address for requests without credentials; 0 switches one off. Counted
# in each HTTP worker's memory, or in Redis with REDIS_URL. Off under the tests unless a test
# sets it.
API_RATE_LIMIT_PER_ACCOUNT = env_int("API_RATE_LIMIT_PER_ACCOUNT", 0 if TESTING else 600)
API_RATE_LIMIT_PER_ADDRESS = env_int("API_RATE_LIMIT_PER_ADDRESS", 0 if TESTING else 300)
# A lost CSRF cookie keeps what the user typed (pingan/core/pages.py).
CSRF_FAILURE_VIEW = "pingan.core.pages.csrf_failure"
# Personal data at rest (pingan/core/crypto.py, docs/deployment.md): DATA_KEYS "kid:base64,…"
# (SM4 keys; the first encrypts, all decrypt), DATA_INDEX_KEY (the blind indexes' HMAC-SM3 key).
# Required outside demo mode; the demo and the tests keep generated ones in DATA_DIR/data_keys.
DATA_KEYS, DATA_INDEX_KEY = load_data_keys(DATA_DIR, generate=DEMO_MODE or DEBUG or TESTING)

# --- audit log (pingan/audit) ------------------------------------------------------------------
# Entries are chained with HMAC-SM3 under AUDIT_HMAC_KEY: in production a random value of its own
# (32+ characters), kept apart from the database. Unset, it is derived from SECRET_KEY. After a
# rotation, list the previous keys in AUDIT_HMAC_OLD_KEYS so older entries still verify.
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", "")
if AUDIT_HMAC_KEY and len(AUDIT_HMAC_KEY) < 32:
    raise EnvError("AUDIT_HMAC_KEY must be at least 32 characters")
AUDIT_HMAC_OLD_KEYS = env_list("AUDIT_HMAC_OLD_KEYS", [])
# 等保 level 3 keeps audit records at least 180 days; older ones go to compressed archives
# (`manage.py audit_archive`, daily) under AUDIT_ARCHIVE_DIR.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 180)
if AUDIT_RETENTION_DAYS < 180:
    raise EnvError(f"AUDIT_RETENTION_DAYS must be at least 180, got {AUDIT_RETENTION_DAYS}")
AUDIT_ARCHIVE_DIR = Path(env_str("AUDIT_ARCHIVE_DIR", "") or DATA_DIR / "audit-archive")

# --- i18n -------------------------------------------------------------------------------------
# Pages are Chinese only (docs/decisions.md): no English switch. Django's own texts (form errors,
# the admin) follow LANGUAGE_CODE whatever the browser asks for.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and uploads -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
# `collectstatic` (run by `pingan demo`; a deployment runs `pingan manage collectstatic`) writes
# hashed, gzip/brotli-compressed copies that WhiteNoise serves with a one-year cache. Until it
# has run, pages link the plain names and WhiteNoise serves them from the source folders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "pingan.core.staticfiles.StaticStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 5 * 1024 * 1024)
PHOTO_MAX_COUNT = env_int("PHOTO_MAX_COUNT", 6)
# Pixels, judged from the header before decoding (pingan/core/uploads.py): a 12 KB PNG can hold
# 100 megapixels (400 MB decoded, here and in every staff browser that shows it).
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 40_000_000)
GEOJSON_MAX_BYTES = env_int("GEOJSON_MAX_BYTES", 50 * 1024 * 1024)
# Request bodies (pingan/core/bodylimit.py): over the route's maximum by Content-Length → 413
# before anything reads them. REQUEST_MAX_BYTES for every route; routes taking photos add
# PHOTO_MAX_COUNT × PHOTO_MAX_BYTES, the grid import (commanders) GEOJSON_MAX_BYTES. Django holds
# at most that much of a parsed non-file body, and streams uploaded files above
# FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)

# --- domain settings --------------------------------------------------------------------------
DISPATCH_OFFER_TIMEOUT_SECONDS = env_int("DISPATCH_OFFER_TIMEOUT_SECONDS", 45)
# An offer not accepted within this many seconds is also sent to the unit's phone as a text
# (the page may be closed, the phone in a pocket); 0 turns it off.
DISPATCH_SMS_AFTER_SECONDS = env_int("DISPATCH_SMS_AFTER_SECONDS", 20)
# Reference-data caches (pingan/core/refcache.py) poll their version counters at most this often
# per process: another process's change shows up within this many seconds. Tests check every time.
REFCACHE_CHECK_SECONDS = 0.0 if TESTING else float(env_str("REFCACHE_CHECK_SECONDS", "1.0") or 1)

# --- disputes and messages --------------------------------------------------------------------
# Return visits after a dispute is resolved, in days.
DISPUTE_RETURN_VISIT_DAYS = tuple(
    int(d) for d in env_str("DISPUTE_RETURN_VISIT_DAYS", "7,30").split(",") if d.strip()
)
# An overdue tracked order climbs one org level, then again after this many hours.
DISPUTE_ORDER_ESCALATION_HOURS = env_int("DISPUTE_ORDER_ESCALATION_HOURS", 72)
DISPUTE_RELAPSE_ORDER_DAYS = env_int("DISPUTE_RELAPSE_ORDER_DAYS", 7)
DISPUTE_MAX_PENDING_REQUESTS = env_int("DISPUTE_MAX_PENDING_REQUESTS", 3)

# --- volunteers and points ----------------------------------------------------------------------
# The public address printed in QR codes made outside a request (e.g. "https://pingan.example");
# empty leaves them relative. Pages use the address the request came in on.
SITE_URL = env_str("SITE_URL", "").rstrip("/")
# Check-in opens this long before a task starts and closes when it ends.
VOLUNTEER_CHECKIN_EARLY_MINUTES = env_int("VOLUNTEER_CHECKIN_EARLY_MINUTES", 60)
# Check-out stays open this long after a task ends. Only time inside the task's own window
# (starts_at to ends_at) is credited: neither tolerance adds hours, and work with no time in the
# window cannot be confirmed.
VOLUNTEER_CHECKOUT_GRACE_MINUTES = env_int("VOLUNTEER_CHECKOUT_GRACE_MINUTES", 120)
# Default radius around the meeting point for a check-in by position.
VOLUNTEER_CHECKIN_RADIUS_M = env_int("VOLUNTEER_CHECKIN_RADIUS_M", 300)
# A redemption order not verified within this many days expires and its points come back.
POINTS_ORDER_VALID_DAYS = env_int("POINTS_ORDER_VALID_DAYS", 30)
# Yearly expiry: points earned in year Y and still unspent lapse at the end of year Y + N
# (Asia/Shanghai). 0 keeps points for ever.
POINTS_EXPIRE_AFTER_YEARS = env_int("POINTS_EXPIRE_AFTER_YEARS", 0)
# SMS / message gateway: a dotted path to a pingan.notify.backends.MessageBackend.
MESSAGE_BACKEND = env_str("MESSAGE_BACKEND", "pingan.notify.backends.ConsoleBackend")
# `manage.py prune` deletes messages sent (or given up) more than this many days ago.
PRUNE_MESSAGES_AFTER_DAYS = env_int("PRUNE_MESSAGES_AFTER_DAYS", 90)
DUPLICATE_RADIUS_M = env_int("DUPLICATE_RADIUS_M", 100)
DUPLICATE_WINDOW_MINUTES = env_int("DUPLICATE_WINDOW_MINUTES", 30)
ANON_REPORTS_PER_HOUR = env_int("ANON_REPORTS_PER_HOUR", 10)
# Logged-in residents' reports (pingan/incidents/throttle.py): at most this many in the last hour
# and in the last 24 hours (0: no limit); staff (patrol reports, 110 transfers) are not limited.
# Off under the tests unless a test sets them (fixtures report many times as one citizen).
RESIDENT_REPORTS_PER_HOUR = env_int("RESIDENT_REPORTS_PER_HOUR", 0 if TESTING else 10)
RESIDENT_REPORTS_PER_DAY = env_int("RESIDENT_REPORTS_PER_DAY", 0 if TESTING else 30)
# A report farther than this from every grid is refused (a forged or mistyped position is not
# this deployment's to dispatch); 0 accepts any distance.
REPORT_MAX_DISTANCE_KM = float(env_str("REPORT_MAX_DISTANCE_KM") or 20)
UNIT_SPEED_KMH = env_int("UNIT_SPEED_KMH", 30)
POSITION_STALE_MINUTES = env_int("POSITION_STALE_MINUTES", 30)
# Base map: empty means vector layers only (offline); e.g. a Tianditu or intranet tile URL.
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")
# The datum of the tiles, so a click on the map is read correctly (AMap tiles are GCJ-02).
MAP_TILE_CRS = env_str("MAP_TILE_CRS", "wgs84")

# WhiteNoise reads files synchronously; under ASGI Django warns once per static response.
# Static files are small and cached by browsers, so the thread hop is acceptable.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused request (4xx: 403, 404, CSRF failure, a ServiceError's page) is one line, not a
    # traceback (pingan/core/pages.py).
    "filters": {"one_line_refusals": {"()": "pingan.core.pages.OneLineRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"filters": ["one_line_refusals"]},
        "django.security.csrf": {"filters": ["one_line_refusals"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    MESSAGE_BACKEND = "pingan.notify.backends.MemoryBackend"
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    LIVE_FANOUT = env_str("LIVE_FANOUT", "inline")
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
