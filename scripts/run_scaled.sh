#!/usr/bin/env bash
# The scaled-out assistant (docs/scaling.md): Rasa replicas with the tracker store in
# PostgreSQL and the conversation locks in Redis, behind haproxy on the public port, one
# action server and the web app on the PostgreSQL shop store. Configuration only: the same
# model, actions and code as `make run`, with endpoints.scaled.yml. Foreground; Ctrl-C (or
# SIGTERM) stops everything. Every port, host and name comes from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
ABIN=${ACTIONS_VENV:-.venv-actions}/bin
: "${MODEL_DIR:=models}" "${MODEL_NAME:=dianxiaoer}"
# public entry (haproxy): REST, socket.io and the token-protected HTTP API
: "${LB_HOST:=127.0.0.1}" "${LB_PORT:=${RASA_PORT:-5005}}" "${LB_STATS_PORT:=8404}"
# the replicas listen on this machine only; one port per replica
: "${RASA_REPLICA_PORTS:=5006 5007}" "${REPLICA_HOST:=127.0.0.1}"
: "${ACTIONS_PORT:=5055}" "${WEB_PORT:=8080}"
# PostgreSQL: one server for both stores by default, two databases
: "${PG_HOST:=127.0.0.1}" "${PG_PORT:=5432}" "${PG_USER:=postgres}" "${PG_PASSWORD:=}"
: "${PG_ADMIN_DB:=postgres}"
: "${TRACKER_PG_HOST:=$PG_HOST}" "${TRACKER_PG_PORT:=$PG_PORT}" "${TRACKER_PG_USER:=$PG_USER}"
: "${TRACKER_PG_PASSWORD:=$PG_PASSWORD}" "${TRACKER_PG_DB:=dianxiaoer_tracker}"
: "${SHOP_PG_DB:=dianxiaoer_shop}"
# Redis: the lock store's database number and key prefix (alphanumeric)
: "${REDIS_HOST:=127.0.0.1}" "${REDIS_PORT:=6379}" "${REDIS_LOCK_DB:=1}" "${REDIS_PASSWORD:=}"
: "${REDIS_KEY_PREFIX:=dianxiaoer}"
: "${RUN_DIR:=.rasa/scaled}" "${LOG_DIR:=$RUN_DIR/logs}"
# a killed or crashed replica is started again (as Kubernetes would); 0 turns that off
: "${RESTART_REPLICAS:=1}"
random_token() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Rasa's HTTP API (web app) and the action server (Rasa) answer only these secrets
: "${RASA_API_TOKEN:=$(random_token)}" "${ACTIONS_TOKEN:=$(random_token)}"
: "${WEB_HOST:=127.0.0.1}" "${ACTIONS_HOST:=127.0.0.1}"
read -r -a replica_ports <<<"$RASA_REPLICA_PORTS"
mkdir -p "$RUN_DIR" "$LOG_DIR"
rm -f "$RUN_DIR/ready"

urlenc() { "$ABIN/python" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
pg_url() {  # user password host port db -> SQLAlchemy URL
  local auth; auth=$(urlenc "$1")
  [ -n "$2" ] && auth="$auth:$(urlenc "$2")"
  echo "postgresql+psycopg2://$auth@$3:$4/$5"
}
# The web app and the analytics read the tracker store by URL; the shop store by DATABASE_URL.
: "${TRACKER_URL:=$(pg_url "$TRACKER_PG_USER" "$TRACKER_PG_PASSWORD" "$TRACKER_PG_HOST" "$TRACKER_PG_PORT" "$TRACKER_PG_DB")}"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(pg_url "$PG_USER" "$PG_PASSWORD" "$PG_HOST" "$PG_PORT" "$SHOP_PG_DB")
  create_shop_db=1
else
  create_shop_db=0  # a given DATABASE_URL names an existing database
fi
export TRACKER_PG_HOST TRACKER_PG_PORT TRACKER_PG_USER TRACKER_PG_PASSWORD TRACKER_PG_DB
export REDIS_HOST REDIS_PORT REDIS_LOCK_DB REDIS_PASSWORD REDIS_KEY_PREFIX
export TRACKER_URL DATABASE_URL RASA_API_TOKEN ACTIONS_TOKEN WEB_HOST RASA_TELEMETRY_ENABLED=false
export ACTIONS_URL="${ACTIONS_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# the web app talks to Rasa through the balancer and tells browsers the public port
export RASA_URL="${RASA_URL:-http://127.0.0.1:$LB_PORT}" RASA_PORT="$LB_PORT" WEB_PORT

# --- load balancer: Debian's haproxy, installed when missing
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
if [ ! -x "$HAPROXY" ]; then
  echo "==> apt-get install -y haproxy"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null; }
  HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
fi

# --- databases: create the missing ones, migrate the shop store, check Redis
echo "==> PostgreSQL $PG_HOST:$PG_PORT: databases $TRACKER_PG_DB (tracker) and $SHOP_PG_DB (shop)"
CREATE_SHOP_DB=$create_shop_db PG_HOST=$PG_HOST PG_PORT=$PG_PORT PG_USER=$PG_USER \
  PG_PASSWORD=$PG_PASSWORD PG_ADMIN_DB=$PG_ADMIN_DB SHOP_PG_DB=$SHOP_PG_DB "$ABIN/python" - <<'PY'
import os

import psycopg2
from psycopg2 import sql

e = os.environ
wanted = [("TRACKER_PG_", e["TRACKER_PG_DB"])]
if e["CREATE_SHOP_DB"] == "1":
    wanted.append(("PG_", e["SHOP_PG_DB"]))
for prefix, name in wanted:
    conn = psycopg2.connect(
        host=e[prefix + "HOST"], port=e[prefix + "PORT"], user=e[prefix + "USER"],
        password=e[prefix + "PASSWORD"] or None, dbname=e["PG_ADMIN_DB"], connect_timeout=5,
    )
    conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"    created database {name}")
    conn.close()
PY
"$ABIN/python" -m dianxiaoer.store prepare | sed 's/^/    /'
"$BIN/python" -c "import redis, sys; redis.StrictRedis(host=sys.argv[1], port=int(sys.argv[2]), \
db=int(sys.argv[3]), password=sys.argv[4] or None, socket_timeout=5).ping()" \
  "$REDIS_HOST" "$REDIS_PORT" "$REDIS_LOCK_DB" "$REDIS_PASSWORD" ||
  { echo "error: Redis at $REDIS_HOST:$REDIS_PORT (db $REDIS_LOCK_DB) does not answer" >&2; exit 1; }

# --- haproxy configuration: every request of one conversation goes to the same replica
# (consistent hash of the conversation id: the REST body's `sender`, socket.io's
# `session_id` URL parameter, the HTTP API's /conversations/<id>/). Rasa Open Source's
# RedisLockStore issues tickets with a read-modify-write, which is atomic inside one
# process but not across replicas: two messages of one conversation processed at the same
# moment on two replicas can lose events (docs/scaling.md). With the hash they queue on
# one replica; the Redis lock store still orders them across a fail-over. A socket.io
# client that sends no session_id is kept on one replica by its address (long-polling).
{
  cat <<CFG
global
    maxconn 4096
    log stdout format raw local0 warning

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    # a request that could not reach a replica (killed, restarting) goes to another one;
    # only connection failures are retried, so no message is processed twice
    retries 3
    option redispatch 1
    # a new connection per request: an idle kept-alive connection to a replica that was
    # just killed would fail after the request was sent (a 502, not retried); a refused
    # connect is retried on another replica
    http-reuse never
    # A busy replica answers its health check late (the model runs on the event loop), so
    # the check waits long and three misses mark it down; a killed replica refuses
    # connections at once, and those requests are redispatched anyway.
    timeout check 15s
    default-server inter 2s fastinter 1s fall 3 rise 2

frontend public
    bind $LB_HOST:$LB_PORT
    # REST bodies are read before a replica is chosen (their sender is the key)
    option http-buffer-request
    http-request set-var(txn.conversation) req.body,json_query('\$.sender') if { method POST } { path /webhooks/rest/webhook }
    http-request set-var(txn.conversation) src if { path_beg /socket.io }
    http-request set-var(txn.conversation) url_param(session_id) if { path_beg /socket.io } { url_param(session_id) -m found }
    http-request set-var(txn.conversation) path,field(3,/),url_dec if { path_beg /conversations/ }
    default_backend rasa

listen stats
    bind 127.0.0.1:$LB_STATS_PORT
    stats enable
    stats uri /stats

backend rasa
    balance hash var(txn.conversation)
    hash-type consistent sdbm avalanche
    option httpchk GET /
CFG
  # weight 100 puts each replica on the hash ring 100 times as often as weight 1 does, so
  # the conversations split about evenly (weight 1: 36/64 measured for two replicas)
  i=0; for p in "${replica_ports[@]}"; do i=$((i + 1)); echo "    server rasa$i $REPLICA_HOST:$p id $i weight 100 check"; done
} >"$RUN_DIR/haproxy.cfg"
"$HAPROXY" -c -q -f "$RUN_DIR/haproxy.cfg"

pids=()
stop() {
  local code=$?
  trap - INT TERM EXIT
  echo; echo "==> stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$RUN_DIR"/*.pid
  echo "==> stopped"
  exit "$code"
}
trap stop INT TERM EXIT

# supervise NAME CMD...: run CMD (its pid in $RUN_DIR/NAME.pid), start it again when it
# dies unless RESTART_REPLICAS=0; TERM stops the command and the loop.
supervise() {
  local name=$1 child=
  shift
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 0' TERM INT
  while :; do
    "$@" >>"$LOG_DIR/$name.log" 2>&1 &
    child=$!
    echo "$child" >"$RUN_DIR/$name.pid"
    wait "$child" && code=0 || code=$?
    [ "$RESTART_REPLICAS" = 1 ] || exit "$code"
    echo "==> $name exited ($code); starting it again" | tee -a "$LOG_DIR/$name.log"
    sleep 1
  done
}

"$ABIN/python" -m dianxiaoer.startup_check all || exit 2
echo "==> starting action server on :$ACTIONS_PORT (log: $LOG_DIR/actions.log)"
"$ABIN/python" -m dianxiaoer.action_server --host "$ACTIONS_HOST" --port "$ACTIONS_PORT" >"$LOG_DIR/actions.log" 2>&1 &
pids+=($!); echo "$!" >"$RUN_DIR/actions.pid"
i=0
for port in "${replica_ports[@]}"; do
  i=$((i + 1))
  echo "==> starting Rasa replica $i on $REPLICA_HOST:$port (log: $LOG_DIR/rasa-$i.log)"
  : >"$LOG_DIR/rasa-$i.log"
  supervise "rasa-$i" "$BIN/rasa" run --model "$MODEL_DIR/$MODEL_NAME.tar.gz" \
    --endpoints endpoints.scaled.yml --credentials credentials.yml --interface "$REPLICA_HOST" \
    --port "$port" --cors "*" --enable-api --auth-token "$RASA_API_TOKEN" &
  pids+=($!)
done
echo "==> starting haproxy on $LB_HOST:$LB_PORT (stats: 127.0.0.1:$LB_STATS_PORT/stats)"
"$HAPROXY" -db -f "$RUN_DIR/haproxy.cfg" >"$LOG_DIR/haproxy.log" 2>&1 &
pids+=($!); echo "$!" >"$RUN_DIR/haproxy.pid"
echo "==> starting web app on :$WEB_PORT (log: $LOG_DIR/web.log)"
"$ABIN/python" -m webapp >"$LOG_DIR/web.log" 2>&1 &
pids+=($!); echo "$!" >"$RUN_DIR/web.pid"

start=$(date +%s)
ready() {
  for port in "${replica_ports[@]}"; do curl -sf -o /dev/null "http://127.0.0.1:$port/" || return 1; done
  curl -sf -o /dev/null "http://127.0.0.1:$LB_PORT/" &&
    curl -sf -o /dev/null "http://127.0.0.1:$ACTIONS_PORT/health" &&
    curl -sf -o /dev/null "http://127.0.0.1:$WEB_PORT/api/config"
}
until ready; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: a server exited during start-up; see $LOG_DIR/*.log" >&2
      tail -20 "$LOG_DIR"/*.log >&2
      exit 1
    fi
  done
  if [ "$RESTART_REPLICAS" = 1 ] && grep -qs "starting it again" "$LOG_DIR"/rasa-*.log; then
    echo "error: a Rasa replica failed during start-up; see $LOG_DIR/rasa-*.log" >&2
    tail -20 "$LOG_DIR"/rasa-*.log >&2
    exit 1
  fi
  sleep 1
done
touch "$RUN_DIR/ready"
cat <<MSG
==> ready after $(( $(date +%s) - start )) s: ${#replica_ports[@]} Rasa replicas behind haproxy
    REST:      curl -s localhost:$LB_PORT/webhooks/rest/webhook -d '{"sender":"a","message":"你好"}'
    socket.io: http://localhost:$LB_PORT/socket.io   (one replica per conversation: ?session_id=)
    replicas:  $(for p in "${replica_ports[@]}"; do printf 'http://%s:%s ' "$REPLICA_HOST" "$p"; done)
    haproxy:   http://127.0.0.1:$LB_STATS_PORT/stats
    actions:   http://localhost:$ACTIONS_PORT/health
    shop page: http://localhost:$WEB_PORT/   console: http://localhost:$WEB_PORT/console
    stores:    tracker ${TRACKER_URL##*@}, shop ${DATABASE_URL##*@}, locks redis://$REDIS_HOST:$REDIS_PORT/$REDIS_LOCK_DB
    Ctrl-C stops everything.
MSG
wait -n "${pids[@]}"
echo "error: a server exited; see $LOG_DIR/*.log" >&2
exit 1
