#!/usr/bin/env bash
# Train the model only when what it is built from changed (content hash stamp):
# config, domain, training data, vocabulary and the custom NLU components.
# The shop's FAQ overrides (SHOP_FAQ_OVERRIDES, written by the admin page) reach the model
# through data/nlu/knowledge.yml (generated below), so the file itself is not hashed: an
# answer-only edit needs no training, a new paraphrase does. After training, the FAQ
# questions the model learnt are fingerprinted for the admin page's "需要重新训练" mark.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
MODEL_DIR=${MODEL_DIR:-models}
MODEL_NAME=${MODEL_NAME:-dianxiaoer}
model="$MODEL_DIR/$MODEL_NAME.tar.gz"
stamp="$MODEL_DIR/$MODEL_NAME.sha256"
fingerprints=${FAQ_TRAINED_FINGERPRINT:-$MODEL_DIR/$MODEL_NAME.faq.json}

"$PY" -m dianxiaoer.knowledge.vocabulary .build/jieba >/dev/null
"$PY" -m dianxiaoer.rasa_plugins.knowledge_nlu >/dev/null
want=$( { find config.yml domain.yml data knowledge dianxiaoer/nlu dianxiaoer/core/text.py \
            dianxiaoer/knowledge/vocabulary.py requirements.lock .build/jieba -type f \( -name '*.yml' -o -name '*.py' -o -name '*.txt' -o -name '*.lock' \) \
            ! -path knowledge/faq_shop.yml \
          | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -d' ' -f1)
# `scripts/train.sh --stamp`: print what the model must have been trained from (the
# benchmark's "is the model current?" check) and stop
if [ "${1:-}" = "--stamp" ]; then echo "$want"; exit 0; fi
if [ -f "$model" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "==> model $model is up to date"
  # up to date means trained on today's FAQ questions (they are in data/nlu)
  [ -f "$fingerprints" ] || "$PY" -m dianxiaoer.knowledge.editor fingerprint "$fingerprints" >/dev/null
  exit 0
fi
echo "==> training $model (data, config or domain changed; about 80 s on 2 idle cores)"
start=$(date +%s)
"${VENV:-.venv}/bin/rasa" train --fixed-model-name "$MODEL_NAME" --out "$MODEL_DIR" --quiet
echo "$want" > "$stamp"
"$PY" -m dianxiaoer.knowledge.editor fingerprint "$fingerprints" >/dev/null
echo "==> trained in $(( $(date +%s) - start )) s"
# make bench reports this figure (scripts/bench.py) instead of training again
printf '{"seconds": %s, "date": "%s", "load_after": "%s", "command": "scripts/train.sh"}\n' \
  "$(( $(date +%s) - start ))" "$(date +%Y-%m-%dT%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  > "$MODEL_DIR/$MODEL_NAME.train.json"
