"""`manage.py check --deploy` is clean with production settings (PINGAN_HTTPS=1 behind a proxy),
and the embedded demo's plain-HTTP settings stay as they were without it.

Settings are read once at import from the environment, so each case runs in a fresh interpreter
with its own environment (not this process's testing settings).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Whatever this process runs with that would change the settings under test.
CLEARED = (
    "PINGAN_TESTING",
    "PINGAN_DEBUG",
    "PINGAN_DEMO",
    "PINGAN_HTTPS",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "ALLOWED_HOSTS",
    "REDIS_URL",
)


def _run(args, tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ.update(
        DJANGO_SETTINGS_MODULE="pingan.settings",
        PINGAN_DATA_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(50),
        **env,
    )
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    done = _run(
        ["-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        PINGAN_HTTPS="1",
        ALLOWED_HOSTS="pingan.example.gov.cn",
        CSRF_TRUSTED_ORIGINS="https://pingan.example.gov.cn",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr
    assert "WARNING" not in done.stderr + done.stdout


SHOW = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS")}))
"""


def test_plain_http_stays_the_default_for_the_demo(tmp_path):
    done = _run(["-c", SHOW], tmp_path, PINGAN_DEMO="1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
    }


def test_https_switches_on_the_secure_settings(tmp_path):
    done = _run(["-c", SHOW], tmp_path, PINGAN_HTTPS="1", SECURE_HSTS_SECONDS="3600")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 3600,
    }
