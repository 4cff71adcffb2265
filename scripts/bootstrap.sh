#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the locked dependencies, only when the
# lock or pyproject.toml changed since the last install (content hash stamp).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
stamp="$VENV/.deps.sha256"
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)

if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  echo "==> $VENV is not Python 3.10; recreating it"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  py=$(scripts/find_python.sh)
  echo "==> creating $VENV with $py ($("$py" --version 2>&1))"
  "$py" -m venv "$VENV"
fi
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "==> installing pinned dependencies into $VENV (first run: a few minutes)"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade "pip==24.0"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -r requirements.lock
echo "$want" > "$stamp"
echo "==> dependencies installed"
