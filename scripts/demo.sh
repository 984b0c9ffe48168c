#!/usr/bin/env bash
# Install pingan into .venv and start the demo county on http://127.0.0.1:8000 (--port N moves it).
# The first start takes several minutes (install, then the county is generated once); pip's
# output goes to data/install.log instead of the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
mkdir -p data
LOG=data/install.log
: >"$LOG"
STEPS=6  # 2 here, 4 in `pingan demo`

# run_step N TITLE EXPECTED CMD...: one numbered line, a ticking elapsed time on a terminal,
# and on failure the tail of the log.
run_step() {
  local n=$1 title=$2 expected=$3
  shift 3
  local started=$SECONDS
  echo "[$n/$STEPS] $title${expected:+（$expected）}"
  "$@" >>"$LOG" 2>&1 &
  local pid=$!
  if [ -t 1 ]; then
    local spin='|/-\' i=0
    while kill -0 "$pid" 2>/dev/null; do
      local el=$((SECONDS - started))
      printf '\r\033[K  %s 已用 %d:%02d' "${spin:i++%4:1}" $((el / 60)) $((el % 60))
      sleep 1
    done
    printf '\r\033[K'
  fi
  if ! wait "$pid"; then
    echo "  失败 / failed — 最后的日志 / last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
  local el=$((SECONDS - started))
  printf '  完成，用时 %d:%02d\n' $((el / 60)) $((el % 60))
}

if [ -x .venv/bin/python ]; then
  echo "[1/$STEPS] 虚拟环境 .venv 已存在 / virtualenv exists"
else
  run_step 1 "创建虚拟环境 / create .venv" "" "$PY" -m venv .venv
fi
# Installed (editable) from this very pyproject.toml and requirements.lock: skip pip, so a
# restart takes seconds.
STAMP=.venv/.pingan-installed
WANT=$(cksum pyproject.toml requirements.lock)
if [ -x .venv/bin/pingan ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; then
  echo "[2/$STEPS] pingan 已安装 / already installed"
else
  run_step 2 "安装 pingan 及依赖 / install" "首次通常需要 2–4 分钟，日志见 $LOG" \
    sh -c '.venv/bin/python -m pip install --require-hashes -r requirements.lock &&
      .venv/bin/python -m pip install --no-deps -e .'
  echo "$WANT" >"$STAMP"
fi
export PINGAN_DEMO_STEPS_DONE=2
exec .venv/bin/pingan demo "$@"
