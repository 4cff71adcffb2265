#!/usr/bin/env bash
# Start the action server and the Rasa server together in the foreground.
# Ctrl-C (or SIGTERM) stops both. Ports and paths come from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
: "${RASA_PORT:=5005}" "${ACTIONS_PORT:=5055}" "${MODEL_DIR:=models}" "${MODEL_NAME:=dianxiaoer}"
: "${ACTIONS_URL:=http://127.0.0.1:$ACTIONS_PORT/webhook}" "${TRACKER_DIALECT:=sqlite}" "${TRACKER_DB:=.rasa/tracker.db}"
: "${RASA_HOST:=0.0.0.0}" "${LOG_DIR:=.rasa/logs}"
export ACTIONS_URL TRACKER_DIALECT TRACKER_DB RASA_TELEMETRY_ENABLED=false
mkdir -p "$(dirname "$TRACKER_DB")" "$LOG_DIR"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "==> stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "==> stopped"
}
trap stop INT TERM EXIT

echo "==> starting action server on :$ACTIONS_PORT (log: $LOG_DIR/actions.log)"
"${ACTIONS_VENV:-.venv-actions}/bin/python" -m rasa_sdk --actions actions --port "$ACTIONS_PORT" >"$LOG_DIR/actions.log" 2>&1 &
pids+=($!)
echo "==> starting Rasa server on :$RASA_PORT (REST + socket.io; log: $LOG_DIR/rasa.log)"
"$BIN/rasa" run --model "$MODEL_DIR/$MODEL_NAME.tar.gz" --endpoints endpoints.yml \
  --credentials credentials.yml --interface "$RASA_HOST" --port "$RASA_PORT" --cors "*" \
  >"$LOG_DIR/rasa.log" 2>&1 &
pids+=($!)

start=$(date +%s)
# Rasa loads the model before it starts listening, so an answer on / means ready.
until curl -sf -o /dev/null "http://127.0.0.1:$RASA_PORT/" && curl -sf -o /dev/null "http://127.0.0.1:$ACTIONS_PORT/health"; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: a server exited during start-up; see $LOG_DIR/*.log" >&2
      tail -20 "$LOG_DIR"/*.log >&2
      exit 1
    fi
  done
  sleep 1
done
cat <<MSG
==> ready after $(( $(date +%s) - start )) s
    REST:      curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"a","message":"你好"}'
    socket.io: http://localhost:$RASA_PORT/socket.io
    actions:   http://localhost:$ACTIONS_PORT/health
    Ctrl-C stops both servers.
MSG
wait -n "${pids[@]}"
echo "error: a server exited; see $LOG_DIR/*.log" >&2
exit 1
