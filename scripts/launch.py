"""Start the assistant in the foreground: `make run` and `make run-scaled`.

    python scripts/launch.py run          # action server, Rasa, web app (SQLite tracker)
    python scripts/launch.py run-scaled   # Rasa replicas behind haproxy, PostgreSQL, Redis

`run` starts the action server, the Rasa server (REST, socket.io and the token-protected
HTTP API) and the web app. `run-scaled` is the scaled-out assistant (docs/scaling.md): Rasa
replicas with the tracker store in PostgreSQL and the conversation locks in Redis, behind
haproxy on the public port, one action server and the web app on the PostgreSQL shop store
— configuration only: the same model, actions and code as `run`, with endpoints.scaled.yml.

Every port, host, path and name comes from the environment (defaults below, as the
Makefile documents them). Both print a "ready after N s" block with the URLs once every
server answers, stop every server's process group on Ctrl-C or SIGTERM, and exit with an
error and the log tails when a server dies. Runs with the Rasa environment's interpreter
(.venv/bin/python) but imports no Rasa: only the standard library, scripts/stack.py, and
for `run-scaled` psycopg2 and redis.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/stack.py
from stack import ABIN, ROOT, actions_command, rasa_command, spawn, stop  # noqa: E402

# Loopback only, never through a proxy: http_proxy in the environment must not see these.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived: stop everything and exit 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.code = 128 + signum


def _raise_stopped(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def setting(name: str, default: str) -> str:
    """The environment variable `name`, or `default` when it is unset or empty."""
    return os.environ.get(name) or default


def answers(url: str) -> bool:
    """True when GET `url` answers with a status below 400 (what `curl -sf` accepts)."""
    try:
        with _OPENER.open(url, timeout=10) as response:
            return response.status < 400
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return False


def log_tails(files: Iterable[Path], lines: int = 20) -> str:
    """The last `lines` lines of each file, headed as `tail` heads them."""
    return "\n".join(
        f"==> {f} <==\n" + "\n".join(f.read_text(errors="replace").splitlines()[-lines:])
        for f in sorted(files)
        if f.exists()
    )


def fail(message: str, tails: str = "") -> NoReturn:
    """Print `message` (and the log `tails` after it) to stderr and exit 1."""
    print(message, file=sys.stderr, flush=True)
    if tails:
        print(tails, file=sys.stderr, flush=True)
    raise SystemExit(1)


def startup_check(env: dict[str, str]) -> None:
    """`python -m dianxiaoer.core.startup_check all`; exit 2 when it refuses to start.

    DXE_MODE=demo (default) prints which public demo values are in use; production stops
    here when a secret is missing or a demo value (dianxiaoer/core/startup_check.py).
    """
    check = subprocess.run(
        [str(ABIN / "python"), "-m", "dianxiaoer.core.startup_check", "all"], cwd=ROOT, env=env
    )
    if check.returncode != 0:
        raise SystemExit(2)


def wait_ready(
    ready: Callable[[], bool], alive: Callable[[], bool], logs: Path, extra: Callable[[], None]
) -> None:
    """Poll `ready()` once a second; exit 1 with the log tails when `alive()` turns false.

    `extra()` is a further start-up check that raises SystemExit itself.
    """
    while not ready():
        if not alive():
            fail(
                f"error: a server exited during start-up; see {logs}/*.log",
                log_tails(logs.glob("*.log")),
            )
        extra()
        time.sleep(1)


def wait_any_exit(alive: Callable[[], bool], logs: Path) -> None:
    """Block until one of the servers exits, then exit 1 (the others are stopped after)."""
    while alive():
        time.sleep(0.5)
    fail(f"error: a server exited; see {logs}/*.log")


def random_token() -> str:
    """32 hex digits, as `head -c 16 /dev/urandom | od -An -tx1` gave them."""
    return secrets.token_hex(16)


class Supervisor:
    """A server that is started again when it dies (as Kubernetes would restart a pod).

    Runs `command` with its output appended to `log` and its pid in `pid_file`; when it
    exits and `restart` is on, says so on stdout and in the log and starts it again after a
    second. Without `restart` the supervisor ends with the server.
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log: Path,
        pid_file: Path,
        restart: bool,
    ) -> None:
        self.name, self.command, self.env = name, command, env
        self.log, self.pid_file, self.restart = log, pid_file, restart
        self.proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        # stopping and starting the next process exclude each other: no start after a stop
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Supervisor:
        """Start the server and the thread that watches it."""
        self._thread.start()
        return self

    def alive(self) -> bool:
        """False once the supervisor has given up (only without `restart`)."""
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                self.proc = spawn(self.command, self.env, self.log, mode="a")
                self.pid_file.write_text(f"{self.proc.pid}\n")
            returncode = self.proc.wait()
            if self._stopping.is_set() or not self.restart:
                return
            code = 128 - returncode if returncode < 0 else returncode  # as the shell shows it
            message = f"==> {self.name} exited ({code}); starting it again"
            print(message, flush=True)
            with open(self.log, "a") as out:
                out.write(message + "\n")
            if self._stopping.wait(1):
                return

    def halt(self) -> subprocess.Popen | None:
        """Start no more; the current process, for the caller to stop."""
        with self._lock:
            self._stopping.set()
            return self.proc

    def join(self) -> None:
        """Wait for the watching thread (after the process was stopped)."""
        if self._thread.is_alive():
            self._thread.join(timeout=60)


class Launcher:
    """The servers started so far, stopped together on the way out."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.supervisors: list[Supervisor] = []
        self.stop_hooks: list[Callable[[], None]] = []
        # set where the shell scripts set their trap: "stopping" is said from there on
        self.armed = False

    def alive(self) -> bool:
        """True while every server (or its supervisor) is still running."""
        return all(p.poll() is None for p in self.procs) and all(
            s.alive() for s in self.supervisors
        )

    def run(self, body: Callable[[Launcher], None]) -> int:
        """Run `body`; whatever way it ends, stop every server and return the exit code."""
        signal.signal(signal.SIGINT, _raise_stopped)
        signal.signal(signal.SIGTERM, _raise_stopped)
        code = 0
        try:
            body(self)
        except Stopped as stopped:
            code = stopped.code
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except subprocess.CalledProcessError as error:  # its own output says why
            code = error.returncode
        finally:
            # a second Ctrl-C must not cut the stopping short and orphan a server
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.stop_all()
        return code

    def stop_all(self) -> None:
        """TERM every server's process group (KILL after 20 s), then run the stop hooks."""
        if not self.armed:
            return
        print("\n==> stopping", flush=True)
        current = [s.halt() for s in self.supervisors]
        stop([*self.procs, *current])
        for s in self.supervisors:
            s.join()
        for hook in self.stop_hooks:
            hook()
        print("==> stopped", flush=True)


# --- make run -------------------------------------------------------------------------


def run(launcher: Launcher) -> None:
    """The action server, the Rasa server and the web app (`make run`)."""
    model = Path(setting("MODEL_DIR", "models")) / f"{setting('MODEL_NAME', 'dianxiaoer')}.tar.gz"
    rasa_port, actions_port = setting("RASA_PORT", "5005"), setting("ACTIONS_PORT", "5055")
    tracker_db, log_dir = (
        setting("TRACKER_DB", ".rasa/tracker.db"),
        setting("LOG_DIR", ".rasa/logs"),
    )
    # Loopback unless widened: RASA_HOST / WEB_HOST=0.0.0.0 to serve other machines (the
    # browser needs both: the shop page from the web app, socket.io from Rasa).
    rasa_host, web_host = setting("RASA_HOST", "127.0.0.1"), setting("WEB_HOST", "127.0.0.1")
    actions_host, web_port = setting("ACTIONS_HOST", "127.0.0.1"), setting("WEB_PORT", "8080")
    env = {
        **os.environ,
        "ACTIONS_URL": setting("ACTIONS_URL", f"http://127.0.0.1:{actions_port}/webhook"),
        "TRACKER_DIALECT": setting("TRACKER_DIALECT", "sqlite"),
        "TRACKER_DB": tracker_db,
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_PORT": rasa_port,
        "WEB_PORT": web_port,
        "WEB_HOST": web_host,
        "ACTIONS_HOST": actions_host,
        # Rasa's HTTP API is on for the web app (agent replies, hand-back), and the action
        # server answers only Rasa; both secrets stay on this machine: random unless set.
        "RASA_API_TOKEN": setting("RASA_API_TOKEN", random_token()),
        "ACTIONS_TOKEN": setting("ACTIONS_TOKEN", random_token()),
        "RASA_URL": setting("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
    }
    logs = Path(log_dir)
    Path(tracker_db).parent.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    startup_check(env)

    launcher.armed = True
    print(f"==> starting action server on :{actions_port} (log: {log_dir}/actions.log)")
    launcher.procs.append(
        spawn(actions_command(int(actions_port), actions_host), env, logs / "actions.log")
    )
    print(f"==> starting Rasa server on :{rasa_port} (REST + socket.io; log: {log_dir}/rasa.log)")
    rasa = rasa_command(model, int(rasa_port), env["RASA_API_TOKEN"], cors=True, host=rasa_host)
    launcher.procs.append(spawn(rasa, env, logs / "rasa.log"))
    print(
        f"==> starting web app on :{web_port} (shop page, widget, agent console; "
        f"log: {log_dir}/web.log)"
    )
    launcher.procs.append(spawn([str(ABIN / "python"), "-m", "webapp"], env, logs / "web.log"))

    start = time.monotonic()

    def ready() -> bool:
        # Rasa loads the model before it starts listening, so an answer on / means ready.
        return (
            answers(f"http://127.0.0.1:{rasa_port}/")
            and answers(f"http://127.0.0.1:{actions_port}/health")
            and answers(f"http://127.0.0.1:{web_port}/api/config")
        )

    wait_ready(ready, launcher.alive, logs, lambda: None)
    demo_note = (
        ""
        if os.environ.get("DXE_MODE", "demo") == "production"
        else "    DEMO MODE: public demo logins below; DXE_MODE=production for a real shop."
    )
    print(
        f"""==> ready after {time.monotonic() - start:.0f} s
    REST:      curl -s localhost:{rasa_port}/webhooks/rest/webhook -d '{{"sender":"a","message":"你好"}}'
    socket.io: http://localhost:{rasa_port}/socket.io
    actions:   http://localhost:{actions_port}/health
    shop page: http://localhost:{web_port}/   (widget: /widget.js)
    console:   http://localhost:{web_port}/console   (demo agent tokens: demo-wangfang, demo-liuyang, demo-chenjing)
    admin:     http://localhost:{web_port}/admin     (FAQ and policy; demo admin token: demo-zhaomin)
    Listening on {rasa_host} (Rasa), {web_host} (web app), {actions_host} (actions).
{demo_note}
    Ctrl-C stops all three."""  # noqa: E501 (the block as printed)
    )
    wait_any_exit(launcher.alive, logs)


# --- make run-scaled ------------------------------------------------------------------


def pg_url(user: str, password: str, host: str, port: str, db: str) -> str:
    """A SQLAlchemy URL for PostgreSQL (psycopg2) with the user and password URL-encoded."""
    auth = urllib.parse.quote(user, safe="")
    if password:
        auth += ":" + urllib.parse.quote(password, safe="")
    return f"postgresql+psycopg2://{auth}@{host}:{port}/{db}"


def find_haproxy() -> str:
    """Debian's haproxy, installed with apt-get when missing (as `make scale-deps`)."""
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if os.access(found, os.X_OK):
        return found
    print("==> apt-get install -y haproxy", flush=True)
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "haproxy"]
    quiet = {"env": apt_env, "stdout": subprocess.DEVNULL}
    if subprocess.run(install, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, **quiet, check=True)
    return shutil.which("haproxy") or "/usr/sbin/haproxy"


def create_databases(databases: list[tuple[dict, str]], admin_db: str) -> None:
    """CREATE DATABASE each (connection keywords, name) that does not exist yet."""
    import psycopg2
    from psycopg2 import sql

    for params, name in databases:
        conn = psycopg2.connect(**params, dbname=admin_db, connect_timeout=5)
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"    created database {name}", flush=True)
        conn.close()


def prepare_shop_store(env: dict[str, str]) -> None:
    """Migrate the shop store and load the demo shop when empty; its output indented."""
    prepare = subprocess.Popen(
        [str(ABIN / "python"), "-m", "dianxiaoer.store", "prepare"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert prepare.stdout is not None
    for line in prepare.stdout:
        print("    " + line, end="", flush=True)
    if prepare.wait() != 0:
        raise SystemExit(prepare.returncode)


def check_redis(host: str, port: str, db: str, password: str) -> None:
    """Exit 1 unless Redis answers a PING on the lock store's database."""
    import redis

    try:
        redis.StrictRedis(
            host=host, port=int(port), db=int(db), password=password or None, socket_timeout=5
        ).ping()
    except Exception as exc:  # any failure: the lock store would not work
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        fail(f"error: Redis at {host}:{port} (db {db}) does not answer")


# Every request of one conversation goes to the same replica (consistent hash of the
# conversation id: the REST body's `sender`, socket.io's `session_id` URL parameter, the
# HTTP API's /conversations/<id>/). Rasa Open Source's RedisLockStore issues tickets with
# a read-modify-write, which is atomic inside one process but not across replicas: two
# messages of one conversation processed at the same moment on two replicas can lose
# events (docs/scaling.md). With the hash they queue on one replica; the Redis lock store
# still orders them across a fail-over. A socket.io client that sends no session_id is
# kept on one replica by its address (long-polling).
HAPROXY_CFG = """\
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
    bind {lb_host}:{lb_port}
    # REST bodies are read before a replica is chosen (their sender is the key)
    option http-buffer-request
    http-request set-var(txn.conversation) req.body,json_query('$.sender') if {{ method POST }} {{ path /webhooks/rest/webhook }}
    http-request set-var(txn.conversation) src if {{ path_beg /socket.io }}
    http-request set-var(txn.conversation) url_param(session_id) if {{ path_beg /socket.io }} {{ url_param(session_id) -m found }}
    http-request set-var(txn.conversation) path,field(3,/),url_dec if {{ path_beg /conversations/ }}
    default_backend rasa

listen stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats

backend rasa
    balance hash var(txn.conversation)
    hash-type consistent sdbm avalanche
    option httpchk GET /
"""  # noqa: E501 (haproxy lines are not wrapped)


def haproxy_config(lb_host: str, lb_port: str, stats_port: str, host: str, ports: list[str]) -> str:
    """haproxy.cfg for the replicas on `host`:`ports`, public on `lb_host`:`lb_port`."""
    text = HAPROXY_CFG.format(lb_host=lb_host, lb_port=lb_port, stats_port=stats_port)
    # weight 100 puts each replica on the hash ring 100 times as often as weight 1 does, so
    # the conversations split about evenly (weight 1: 36/64 measured for two replicas)
    for i, port in enumerate(ports, 1):
        text += f"    server rasa{i} {host}:{port} id {i} weight 100 check\n"
    return text


def run_scaled(launcher: Launcher) -> None:
    """Rasa replicas behind haproxy, PostgreSQL stores, Redis locks (`make run-scaled`)."""
    model = Path(setting("MODEL_DIR", "models")) / f"{setting('MODEL_NAME', 'dianxiaoer')}.tar.gz"
    # public entry (haproxy): REST, socket.io and the token-protected HTTP API
    lb_host = setting("LB_HOST", "127.0.0.1")
    lb_port = setting("LB_PORT", setting("RASA_PORT", "5005"))
    stats_port = setting("LB_STATS_PORT", "8404")
    # the replicas listen on this machine only; one port per replica
    replica_ports = setting("RASA_REPLICA_PORTS", "5006 5007").split()
    replica_host = setting("REPLICA_HOST", "127.0.0.1")
    actions_port, web_port = setting("ACTIONS_PORT", "5055"), setting("WEB_PORT", "8080")
    # PostgreSQL: one server for both stores by default, two databases
    pg = {
        "host": setting("PG_HOST", "127.0.0.1"),
        "port": setting("PG_PORT", "5432"),
        "user": setting("PG_USER", "postgres"),
        "password": os.environ.get("PG_PASSWORD", ""),
    }
    admin_db = setting("PG_ADMIN_DB", "postgres")
    tracker = {
        "TRACKER_PG_HOST": setting("TRACKER_PG_HOST", pg["host"]),
        "TRACKER_PG_PORT": setting("TRACKER_PG_PORT", pg["port"]),
        "TRACKER_PG_USER": setting("TRACKER_PG_USER", pg["user"]),
        "TRACKER_PG_PASSWORD": setting("TRACKER_PG_PASSWORD", pg["password"]),
        "TRACKER_PG_DB": setting("TRACKER_PG_DB", "dianxiaoer_tracker"),
    }
    shop_db = setting("SHOP_PG_DB", "dianxiaoer_shop")
    # Redis: the lock store's database number and key prefix (alphanumeric)
    redis_env = {
        "REDIS_HOST": setting("REDIS_HOST", "127.0.0.1"),
        "REDIS_PORT": setting("REDIS_PORT", "6379"),
        "REDIS_LOCK_DB": setting("REDIS_LOCK_DB", "1"),
        "REDIS_PASSWORD": os.environ.get("REDIS_PASSWORD", ""),
        "REDIS_KEY_PREFIX": setting("REDIS_KEY_PREFIX", "dianxiaoer"),
    }
    run_dir = Path(setting("RUN_DIR", ".rasa/scaled"))
    log_dir = setting("LOG_DIR", f"{run_dir}/logs")
    logs = Path(log_dir)
    # a killed or crashed replica is started again (as Kubernetes would); 0 turns that off
    restart = setting("RESTART_REPLICAS", "1") == "1"
    actions_host = setting("ACTIONS_HOST", "127.0.0.1")
    run_dir.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    (run_dir / "ready").unlink(missing_ok=True)

    tracker_url = setting(
        "TRACKER_URL",
        pg_url(*(tracker[f"TRACKER_PG_{k}"] for k in ("USER", "PASSWORD", "HOST", "PORT", "DB"))),
    )
    # The web app and the analytics read the tracker store by URL; the shop store by
    # DATABASE_URL. A given DATABASE_URL names an existing database: it is not created.
    database_url = os.environ.get("DATABASE_URL", "")
    create_shop_db = not database_url
    if create_shop_db:
        database_url = pg_url(pg["user"], pg["password"], pg["host"], pg["port"], shop_db)
    pythonpath = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        **tracker,
        **redis_env,
        "TRACKER_URL": tracker_url,
        "DATABASE_URL": database_url,
        # Rasa's HTTP API (web app) and the action server (Rasa) answer only these secrets
        "RASA_API_TOKEN": setting("RASA_API_TOKEN", random_token()),
        "ACTIONS_TOKEN": setting("ACTIONS_TOKEN", random_token()),
        "WEB_HOST": setting("WEB_HOST", "127.0.0.1"),
        "RASA_TELEMETRY_ENABLED": "false",
        "ACTIONS_URL": setting("ACTIONS_URL", f"http://127.0.0.1:{actions_port}/webhook"),
        "PYTHONPATH": str(ROOT) + (f":{pythonpath}" if pythonpath else ""),
        # the web app talks to Rasa through the balancer and tells browsers the public port
        "RASA_URL": setting("RASA_URL", f"http://127.0.0.1:{lb_port}"),
        "RASA_PORT": lb_port,
        "WEB_PORT": web_port,
    }

    haproxy = find_haproxy()

    # --- databases: create the missing ones, migrate the shop store, check Redis
    tracker_db = tracker["TRACKER_PG_DB"]
    print(
        f"==> PostgreSQL {pg['host']}:{pg['port']}: databases {tracker_db} (tracker) "
        f"and {shop_db} (shop)",
        flush=True,
    )
    tracker_params = {
        "host": tracker["TRACKER_PG_HOST"],
        "port": tracker["TRACKER_PG_PORT"],
        "user": tracker["TRACKER_PG_USER"],
        "password": tracker["TRACKER_PG_PASSWORD"] or None,
    }
    wanted = [(tracker_params, tracker_db)]
    if create_shop_db:
        wanted.append(({**pg, "password": pg["password"] or None}, shop_db))
    create_databases(wanted, admin_db)
    prepare_shop_store(env)
    check_redis(
        *(redis_env[k] for k in ("REDIS_HOST", "REDIS_PORT", "REDIS_LOCK_DB")),
        redis_env["REDIS_PASSWORD"],
    )

    config = run_dir / "haproxy.cfg"
    config.write_text(haproxy_config(lb_host, lb_port, stats_port, replica_host, replica_ports))
    subprocess.run([haproxy, "-c", "-q", "-f", str(config)], check=True)

    def remove_pid_files() -> None:
        for pid_file in run_dir.glob("*.pid"):
            pid_file.unlink(missing_ok=True)

    launcher.stop_hooks.append(remove_pid_files)
    launcher.armed = True
    startup_check(env)

    def started(name: str, proc: subprocess.Popen) -> None:
        launcher.procs.append(proc)
        (run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")

    print(f"==> starting action server on :{actions_port} (log: {log_dir}/actions.log)", flush=True)
    started(
        "actions",
        spawn(actions_command(int(actions_port), actions_host), env, logs / "actions.log"),
    )
    for i, port in enumerate(replica_ports, 1):
        log = logs / f"rasa-{i}.log"
        print(
            f"==> starting Rasa replica {i} on {replica_host}:{port} (log: {log_dir}/rasa-{i}.log)",
            flush=True,
        )
        log.write_text("")
        command = rasa_command(
            model, int(port), env["RASA_API_TOKEN"], "endpoints.scaled.yml", True, replica_host
        )
        launcher.supervisors.append(
            Supervisor(f"rasa-{i}", command, env, log, run_dir / f"rasa-{i}.pid", restart).start()
        )
    print(
        f"==> starting haproxy on {lb_host}:{lb_port} (stats: 127.0.0.1:{stats_port}/stats)",
        flush=True,
    )
    started("haproxy", spawn([haproxy, "-db", "-f", str(config)], env, logs / "haproxy.log"))
    print(f"==> starting web app on :{web_port} (log: {log_dir}/web.log)", flush=True)
    started("web", spawn([str(ABIN / "python"), "-m", "webapp"], env, logs / "web.log"))

    start = time.monotonic()

    def ready() -> bool:
        return (
            all(answers(f"http://127.0.0.1:{port}/") for port in replica_ports)
            and answers(f"http://127.0.0.1:{lb_port}/")
            and answers(f"http://127.0.0.1:{actions_port}/health")
            and answers(f"http://127.0.0.1:{web_port}/api/config")
        )

    def no_replica_restarted() -> None:
        # a replica that fails during start-up would be restarted for ever: give up instead
        replica_logs = sorted(logs.glob("rasa-*.log"))
        if restart and any(
            "starting it again" in f.read_text(errors="replace") for f in replica_logs
        ):
            fail(
                f"error: a Rasa replica failed during start-up; see {log_dir}/rasa-*.log",
                log_tails(replica_logs),
            )

    wait_ready(ready, launcher.alive, logs, no_replica_restarted)
    (run_dir / "ready").touch()
    replicas = "".join(f"http://{replica_host}:{p} " for p in replica_ports)
    redis_url = (
        f"redis://{redis_env['REDIS_HOST']}:{redis_env['REDIS_PORT']}/{redis_env['REDIS_LOCK_DB']}"
    )
    print(
        f"""==> ready after {time.monotonic() - start:.0f} s: {len(replica_ports)} Rasa replicas behind haproxy
    REST:      curl -s localhost:{lb_port}/webhooks/rest/webhook -d '{{"sender":"a","message":"你好"}}'
    socket.io: http://localhost:{lb_port}/socket.io   (one replica per conversation: ?session_id=)
    replicas:  {replicas}
    haproxy:   http://127.0.0.1:{stats_port}/stats
    actions:   http://localhost:{actions_port}/health
    shop page: http://localhost:{web_port}/   console: http://localhost:{web_port}/console
    stores:    tracker {tracker_url.rsplit("@", 1)[-1]}, shop {database_url.rsplit("@", 1)[-1]}, locks {redis_url}
    Ctrl-C stops everything.""",  # noqa: E501 (the block as printed)
        flush=True,
    )
    wait_any_exit(launcher.alive, logs)


def main(argv: list[str] | None = None) -> int:
    """Parse the subcommand, start its servers in the project directory, and wait."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "run-scaled"])
    args = parser.parse_args(argv)
    # the "ready" block must reach a log file or a pipe at once, not when a buffer fills
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    os.chdir(ROOT)
    body = run if args.command == "run" else run_scaled
    return Launcher().run(body)


if __name__ == "__main__":
    sys.exit(main())
