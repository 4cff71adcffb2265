#!/usr/bin/env bash
# Build the chat widget (widget/src -> webapp/static/widget.js) with esbuild from npm.
# npm ci runs only when package-lock.json changed; the bundle only when a source changed.
set -euo pipefail
cd "$(dirname "$0")/../widget"
command -v npm >/dev/null || { echo "error: npm not found (apt-get install -y nodejs npm)" >&2; exit 1; }
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f node_modules/.lock-hash || "$(cat node_modules/.lock-hash)" != "$lock_hash" ]]; then
  echo "==> npm ci (widget)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.lock-hash
fi
out=../webapp/static/widget.js
src_hash=$(cat package-lock.json src/*.js | sha256sum | cut -d' ' -f1)
if [[ ! -f "$out" || ! -f node_modules/.src-hash || "$(cat node_modules/.src-hash)" != "$src_hash" ]]; then
  echo "==> building the widget"
  npm run --silent build
  echo "$src_hash" > node_modules/.src-hash
fi
