#!/usr/bin/env bash
# Create the two Python 3.10 environments and install their locked dependencies, then the
# project itself (editable, without dependencies: `import dianxiaoer` works without
# PYTHONPATH), only when a lock or pyproject.toml changed since the last install (content
# hash stamp):
#   .venv          Rasa server, NLU, training, tests   (requirements.lock)
#   .venv-actions  action server and shop store         (requirements-actions.lock)
# Two environments because Rasa 3.6 pins SQLAlchemy 1.4 while the shop store is built on
# SQLAlchemy 2; the action server only needs rasa-sdk. The locks are generated from
# pyproject.toml's extras by `make lock`.
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_venv() {
  local venv=$1 lock=$2
  local stamp="$venv/.deps.sha256"
  local want
  want=$(cat "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
    echo "==> $venv is not Python 3.10; recreating it"
    rm -rf "$venv"
  fi
  if [ ! -x "$venv/bin/python" ]; then
    local py
    py=$(scripts/find_python.sh)
    echo "==> creating $venv with $py ($("$py" --version 2>&1))"
    "$py" -m venv "$venv"
  fi
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "==> installing pinned dependencies into $venv from $lock (first run: a few minutes)"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade "pip==24.0"
  "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar on -r "$lock"
  echo "==> installing the project (editable, --no-deps) into $venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps -e .
  echo "$want" > "$stamp"
  echo "==> $venv ready"
}

ensure_venv "${VENV:-.venv}" requirements.lock
ensure_venv "${ACTIONS_VENV:-.venv-actions}" requirements-actions.lock
