#!/usr/bin/env bash
# Install pingan with its test tools into .venv and run the whole suite.
# The browser test drives Debian's Chromium (/usr/bin/chromium); see README.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
PINGAN_TESTING=1 .venv/bin/python manage.py check --fail-level WARNING
PINGAN_TESTING=1 .venv/bin/python manage.py makemigrations --check --dry-run
exec .venv/bin/pytest "$@"
