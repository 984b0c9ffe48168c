#!/usr/bin/env bash
# Regenerate requirements.lock (every dependency of pingan and its test extra, pinned, with
# hashes) from pyproject.toml. Run it after changing the dependencies, then run scripts/test.sh.
# `scripts/lock.sh --upgrade` moves every pin to the newest release the ranges allow.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pip-compile --quiet --extra test --generate-hashes --strip-extras --allow-unsafe \
  --no-emit-index-url --no-emit-find-links --output-file requirements.lock "$@" pyproject.toml
