#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 does not support 3.11+).
# Order: $PYTHON, python3.10 on PATH, pyenv's 3.10.x, common system locations.
set -u
is310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=("python3.10")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for p in "$root"/versions/3.10*/bin/python; do [ -x "$p" ] && candidates+=("$p"); done
fi
for p in "$HOME"/.pyenv/versions/3.10*/bin/python /usr/local/bin/python3.10 /usr/bin/python3.10 python3 python; do
  candidates+=("$p")
done
for c in "${candidates[@]}"; do
  if is310 "$c"; then command -v "$c" 2>/dev/null || echo "$c"; exit 0; fi
done
cat >&2 <<'MSG'
error: Python 3.10 not found (Rasa 3.6 needs 3.10; 3.11+ is not supported).
Install it, then run make again, for example:
  pyenv install 3.10.13            # with pyenv, or
  apt-get install -y python3.10 python3.10-venv   # where your distribution has it
or point PYTHON at an interpreter: make run PYTHON=/path/to/python3.10
MSG
exit 1
