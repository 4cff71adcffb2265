#!/usr/bin/env bash
# Start the action server, the Rasa server and the web app together in the foreground.
# Ctrl-C (or SIGTERM) stops both. Ports and paths come from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
: "${RASA_PORT:=5005}" "${ACTIONS_PORT:=5055}" "${MODEL_DIR:=models}" "${MODEL_NAME:=dianxiaoer}"
: "${ACTIONS_URL:=http://127.0.0.1:$ACTIONS_PORT/webhook}" "${TRACKER_DIALECT:=sqlite}" "${TRACKER_DB:=.rasa/tracker.db}"
: "${LOG_DIR:=.rasa/logs}" "${WEB_PORT:=8080}"
# Loopback unless widened: RASA_HOST / WEB_HOST=0.0.0.0 to serve other machines (the
# browser needs both: the shop page from the web app, socket.io from Rasa).
: "${RASA_HOST:=127.0.0.1}" "${WEB_HOST:=127.0.0.1}" "${ACTIONS_HOST:=127.0.0.1}"
# Rasa's HTTP API is on for the web app (agent replies, hand-back), and the action server
# answers only Rasa; both secrets stay on this machine: random per start unless set.
random_token() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
: "${RASA_API_TOKEN:=$(random_token)}" "${ACTIONS_TOKEN:=$(random_token)}"
export ACTIONS_URL TRACKER_DIALECT TRACKER_DB RASA_TELEMETRY_ENABLED=false
export RASA_PORT WEB_PORT WEB_HOST ACTIONS_HOST RASA_API_TOKEN ACTIONS_TOKEN RASA_URL="${RASA_URL:-http://127.0.0.1:$RASA_PORT}"
mkdir -p "$(dirname "$TRACKER_DB")" "$LOG_DIR"

# DXE_MODE=demo (default) prints which public demo values are in use; production stops
# here when a secret is missing or a demo value (dianxiaoer/startup_check.py).
"${ACTIONS_VENV:-.venv-actions}/bin/python" -m dianxiaoer.startup_check all || exit 2

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
"${ACTIONS_VENV:-.venv-actions}/bin/python" -m dianxiaoer.action_server --host "$ACTIONS_HOST" --port "$ACTIONS_PORT" >"$LOG_DIR/actions.log" 2>&1 &
pids+=($!)
echo "==> starting Rasa server on :$RASA_PORT (REST + socket.io; log: $LOG_DIR/rasa.log)"
"$BIN/rasa" run --model "$MODEL_DIR/$MODEL_NAME.tar.gz" --endpoints endpoints.yml \
  --credentials credentials.yml --interface "$RASA_HOST" --port "$RASA_PORT" --cors "*" \
  --enable-api --auth-token "$RASA_API_TOKEN" >"$LOG_DIR/rasa.log" 2>&1 &
pids+=($!)
echo "==> starting web app on :$WEB_PORT (shop page, widget, agent console; log: $LOG_DIR/web.log)"
"${ACTIONS_VENV:-.venv-actions}/bin/python" -m webapp >"$LOG_DIR/web.log" 2>&1 &
pids+=($!)

start=$(date +%s)
# Rasa loads the model before it starts listening, so an answer on / means ready.
until curl -sf -o /dev/null "http://127.0.0.1:$RASA_PORT/" && curl -sf -o /dev/null "http://127.0.0.1:$ACTIONS_PORT/health" \
  && curl -sf -o /dev/null "http://127.0.0.1:$WEB_PORT/api/config"; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: a server exited during start-up; see $LOG_DIR/*.log" >&2
      tail -20 "$LOG_DIR"/*.log >&2
      exit 1
    fi
  done
  sleep 1
done
[ "${DXE_MODE:-demo}" = production ] || demo_note="    DEMO MODE: public demo logins below; DXE_MODE=production for a real shop."
cat <<MSG
==> ready after $(( $(date +%s) - start )) s
    REST:      curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"a","message":"你好"}'
    socket.io: http://localhost:$RASA_PORT/socket.io
    actions:   http://localhost:$ACTIONS_PORT/health
    shop page: http://localhost:$WEB_PORT/   (widget: /widget.js)
    console:   http://localhost:$WEB_PORT/console   (demo agent tokens: demo-wangfang, demo-liuyang, demo-chenjing)
    Listening on $RASA_HOST (Rasa), $WEB_HOST (web app), $ACTIONS_HOST (actions).
${demo_note:-}
    Ctrl-C stops all three.
MSG
wait -n "${pids[@]}"
echo "error: a server exited; see $LOG_DIR/*.log" >&2
exit 1
