#!/usr/bin/env bash
# mypy with the Django plugin, against the committed baseline (mypy-baseline.txt): errors listed
# there are tolerated, any other error fails. Configuration: [tool.mypy] and [tool.mypy_baseline]
# in pyproject.toml; the cache stays in .mypy_cache, so a second run takes about a second.
#   scripts/mypy.sh          check (CI, pre-commit)
#   scripts/mypy.sh --sync   rewrite the baseline after fixing errors (review the diff: it should
#                            only shrink)
set -euo pipefail
cd "$(dirname "$0")/.."
# The plugin imports pingan.settings, which otherwise wants SECRET_KEY.
export PINGAN_TESTING=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
.venv/bin/mypy >"$out" 2>&1 || rc=$?
if [ "$rc" -gt 1 ]; then  # 1: type errors, compared below; 2: mypy itself failed
  cat "$out" >&2
  exit "$rc"
fi
if [ "${1:-}" = "--sync" ]; then
  .venv/bin/mypy-baseline sync --no-colors <"$out"
else
  .venv/bin/mypy-baseline filter --no-colors <"$out"
fi
