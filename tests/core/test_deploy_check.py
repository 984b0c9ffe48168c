"""`manage.py check --deploy` is clean with production settings (HTTPS behind a proxy, the
default outside the demo), the embedded demo's plain-HTTP settings stay as they were, and the
explicit plain-HTTP opt-out (PINGAN_HTTPS=0) is still flagged by the check.

Settings are read once at import from the environment, so each case runs in a fresh interpreter
with its own environment (not this process's testing settings).
"""

import base64
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
    "CSRF_TRUSTED_ORIGINS",
    "SECRET_KEY",
    "DATA_KEYS",
    "DATA_INDEX_KEY",
    "AUDIT_HMAC_KEY",
    "REDIS_URL",
)


def _run(args, tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "pingan.settings",
            "PINGAN_DATA_DIR": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(50),
            # Production also needs the keys of the personal data at rest (pingan/core/crypto.py)
            # and of the audit chain.
            "DATA_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(16)).decode(),
            "DATA_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "AUDIT_HMAC_KEY": secrets.token_urlsafe(32),
            **env,
        }
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


def test_outside_the_demo_secure_is_the_default(tmp_path):
    done = _run(["-c", SHOW], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
    }


def test_deploy_check_is_clean_without_naming_https(tmp_path):
    done = _run(
        ["-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        ALLOWED_HOSTS="pingan.example.gov.cn",
        CSRF_TRUSTED_ORIGINS="https://pingan.example.gov.cn",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr


def test_the_plain_http_opt_out_is_flagged_by_the_check(tmp_path):
    done = _run(
        ["-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        PINGAN_HTTPS="0",
        ALLOWED_HOSTS="pingan.example.gov.cn",
    )
    assert done.returncode != 0
    said = done.stdout + done.stderr
    # No HSTS, no redirect to HTTPS, the session's and the CSRF cookie not Secure (Django names
    # the session cookie's warning W010 when its middleware is a subclass, as ours is).
    for warning in ("security.W004", "security.W008", "security.W016", "SESSION_COOKIE_SECURE"):
        assert warning in said, warning
