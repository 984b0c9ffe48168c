#!/usr/bin/env bash
# Install pingan with its test tools into .venv (pinned: requirements.lock) and run the checks
# and the whole suite with a coverage report. The browser test drives Debian's Chromium
# (/usr/bin/chromium); see README.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps -e .
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Import contracts (.importlinter): quiet when kept, the whole report when one breaks.
out=$(.venv/bin/lint-imports --no-cache 2>&1) || { echo "$out"; exit 1; }
scripts/mypy.sh  # new type errors fail; old ones are in mypy-baseline.txt
PINGAN_TESTING=1 .venv/bin/python manage.py check --fail-level WARNING
PINGAN_TESTING=1 .venv/bin/python manage.py makemigrations --check --dry-run
# Coverage: a summary here, HTML and XML under build/coverage/ ([tool.coverage] in pyproject).
# One worker per core (PYTEST_WORKERS=0 runs in this process, e.g. to debug one test).
exec .venv/bin/pytest -n "${PYTEST_WORKERS:-auto}" \
  --cov --cov-report=term --cov-report=html --cov-report=xml "$@"
