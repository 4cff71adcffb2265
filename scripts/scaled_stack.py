"""The scaled stack (`make run-scaled`) on free ports with fresh, uniquely named stores.

Used by `scripts/bench_scale.py` and `tests/scale/conftest.py`: it creates nothing itself
but names — `scripts/launch.py run-scaled` creates the PostgreSQL databases, migrates the
shop store and starts haproxy, the Rasa replicas, the action server and the web app — and
on `stop()` it drops both databases and deletes the lock store's keys. Needs only the
Python standard library plus psycopg2 and redis (both in .venv and psycopg2 in
.venv-actions).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path

from stack import BIN, free_port  # scripts/stack.py (scripts/ is on the path of every user)

ROOT = Path(__file__).resolve().parent.parent


def pg_params(dbname: str | None = None) -> dict:
    """psycopg2 connection keywords from PG_HOST/PG_PORT/PG_USER/PG_PASSWORD (local defaults)."""
    return {
        "host": os.environ.get("PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("PG_PORT", "5432")),
        "user": os.environ.get("PG_USER", "postgres"),
        "password": os.environ.get("PG_PASSWORD") or None,
        "dbname": dbname or os.environ.get("PG_ADMIN_DB", "postgres"),
        "connect_timeout": 5,
    }


def redis_params() -> dict:
    """redis-py connection keywords from REDIS_HOST/REDIS_PORT/REDIS_PASSWORD."""
    return {
        "host": os.environ.get("REDIS_HOST", "127.0.0.1"),
        "port": int(os.environ.get("REDIS_PORT", "6379")),
        "password": os.environ.get("REDIS_PASSWORD") or None,
        "socket_timeout": 5,
    }


def services_missing() -> str | None:
    """Why the stack cannot start here (PostgreSQL or Redis unreachable), or None."""
    try:
        import psycopg2

        psycopg2.connect(**pg_params()).close()
    except Exception as exc:  # any failure means: not usable here
        return f"PostgreSQL not reachable: {exc}"
    try:
        import redis

        redis.StrictRedis(**redis_params()).ping()
    except Exception as exc:
        return f"Redis not reachable: {exc}"
    return None


def pick_redis_db() -> int:
    """A Redis database number (2-15) holding no keys, so the lock store starts empty.

    0 and 1 are left to other users (1 is `make run-scaled`'s default); the key prefix is unique
    as well, so even a database someone starts using meanwhile is not disturbed.
    """
    import redis

    numbers = list(range(2, 16))
    random.shuffle(numbers)
    for number in numbers:
        if redis.StrictRedis(db=number, **redis_params()).dbsize() == 0:
            return number
    return numbers[0]


class ScaledStack:
    """`launch.py run-scaled` with its own ports, databases, Redis database, run and log dir."""

    def __init__(self, run_dir: Path, replicas: int = 2, extra_env: dict | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.tag = uuid.uuid4().hex[:10]
        self.tracker_db = f"dxe_scale_{self.tag}_tracker"
        self.shop_db = f"dxe_scale_{self.tag}_shop"
        self.redis_db = pick_redis_db()
        self.redis_prefix = f"dxescale{self.tag}"
        self.api_token = f"scale-{self.tag}"
        self.lb_port, self.stats_port = free_port(), free_port()
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.actions_port, self.web_port = free_port(), free_port()
        self.lb_url = f"http://127.0.0.1:{self.lb_port}"
        self.replica_urls = [f"http://127.0.0.1:{p}" for p in self.replica_ports]
        self.stats_url = f"http://127.0.0.1:{self.stats_port}/stats"
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self._output = None

    def env(self) -> dict:
        """The environment the launcher gets: this stack's names and ports."""
        env = {**os.environ}
        # stores named by the caller's environment (the Makefile exports some) are not ours
        for name in ("DATABASE_URL", "TRACKER_URL", "RASA_URL", "PUBLIC_RASA_URL", "RASA_PORT"):
            env.pop(name, None)
        env.update(
            {
                "VENV": str(ROOT / os.environ.get("VENV", ".venv")),
                "ACTIONS_VENV": str(ROOT / os.environ.get("ACTIONS_VENV", ".venv-actions")),
                "LB_HOST": "127.0.0.1",
                "LB_PORT": str(self.lb_port),
                "LB_STATS_PORT": str(self.stats_port),
                "RASA_REPLICA_PORTS": " ".join(map(str, self.replica_ports)),
                "ACTIONS_PORT": str(self.actions_port),
                "ACTIONS_URL": f"{self.actions_url}/webhook",
                "WEB_PORT": str(self.web_port),
                "WEB_HOST": "127.0.0.1",
                "TRACKER_PG_DB": self.tracker_db,
                "SHOP_PG_DB": self.shop_db,
                "REDIS_LOCK_DB": str(self.redis_db),
                "REDIS_KEY_PREFIX": self.redis_prefix,
                "RASA_API_TOKEN": self.api_token,
                "RUN_DIR": str(self.run_dir),
                "LOG_DIR": str(self.run_dir / "logs"),
                "UNANSWERED_LOG": str(self.run_dir / "unanswered.jsonl"),
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 420) -> ScaledStack:
        """Start the launcher and wait until it reports every server ready."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._output = open(self.run_dir / "launch.out", "w")
        self.process = subprocess.Popen(
            [str(BIN / "python"), str(ROOT / "scripts" / "launch.py"), "run-scaled"],
            cwd=ROOT,
            env=self.env(),
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not (self.run_dir / "ready").exists():
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError("the launcher exited during start-up:\n" + self.tails())
            if time.monotonic() > deadline:
                tails = self.tails()
                self.stop()
                raise RuntimeError(f"the scaled stack was not ready in {timeout:.0f} s:\n{tails}")
            time.sleep(1)
        return self

    def replica_pid(self, number: int) -> int:
        """The process id of Rasa replica `number` (1-based) as its supervisor recorded it."""
        return int((self.run_dir / f"rasa-{number}.pid").read_text().strip())

    def processes(self) -> dict[str, list[int]]:
        """Process ids by group.

        The Rasa replicas, the action server, haproxy, the web app and the PostgreSQL
        backends serving this stack's two databases.
        """
        import psycopg2

        def pids(pattern: str) -> list[int]:
            return [int(f.read_text()) for f in sorted(self.run_dir.glob(pattern))]

        admin = psycopg2.connect(**pg_params())
        try:
            with admin.cursor() as cur:
                cur.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname IN (%s, %s)",
                    (self.tracker_db, self.shop_db),
                )
                backends = [row[0] for row in cur.fetchall()]
        finally:
            admin.close()
        return {
            "rasa": pids("rasa-*.pid"),
            "actions": pids("actions.pid"),
            "postgres": backends,
            "haproxy": pids("haproxy.pid"),
            "web": pids("web.pid"),
        }

    def tails(self, lines: int = 25) -> str:
        """The last lines of the launcher's output and of every server log."""
        files = [self.run_dir / "launch.out", *sorted((self.run_dir / "logs").glob("*.log"))]
        return "\n".join(
            f"--- {f.name}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-lines:])
            for f in files
            if f.exists()
        )

    def stop(self) -> None:
        """Stop every server (TERM, then KILL), drop both databases and the lock keys."""
        # each server runs in a process group of its own, led by the pid in its pid file
        # (the launcher removes the files once it has stopped them)
        groups = [int(f.read_text()) for f in self.run_dir.glob("*.pid")]
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        if self.process is not None:
            # whatever is left: the launcher if it hung, a server it could not stop
            for group in [self.process.pid, *groups]:
                try:
                    os.killpg(group, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self.process.wait()
        if self._output is not None:
            self._output.close()
            self._output = None
        self.drop_stores()

    def drop_stores(self) -> None:
        """Drop this stack's databases and delete its keys from the lock store."""
        import psycopg2
        import redis

        admin = psycopg2.connect(**pg_params())
        admin.autocommit = True  # DROP DATABASE cannot run inside a transaction
        with admin.cursor() as cur:
            for name in (self.tracker_db, self.shop_db):
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        red = redis.StrictRedis(db=self.redis_db, **redis_params())
        for key in red.scan_iter(f"{self.redis_prefix}:*"):
            red.delete(key)

    def __enter__(self) -> ScaledStack:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
