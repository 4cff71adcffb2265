"""Survival fixtures: a second, disposable stack (action server + Rasa) for the fault tests.

The fuzz and security tests use the session `servers` of tests/conftest.py. The fault tests
stop that stack's parts, so they get their own: an action server whose shop store can be
made unavailable and a Rasa server that can be killed and started again on the same
tracker store. Rasa needs about a minute to load the model, so the stack is launched as
soon as the first survival test runs and is awaited only by the fault tests.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.conftest import (
    E2E_RASA_API_TOKEN,
    E2E_TOKEN_SECRET,
    free_port,
    stack,
)
from tests.postgres import PG_ADMIN_URL, postgres_available
from tests.survival.inputs import FUZZ_COUNTS

FAULT_TESTS = "test_survive_faults.py"


class ShopOutage:
    """Makes the fault stack's shop store unavailable and brings it back.

    PostgreSQL (when reachable): the database stops accepting connections and the open
    ones are terminated, as when the database server goes away. SQLite: the tables are
    renamed, so every query fails with the same OperationalError (an open SQLite
    connection keeps working on a renamed or deleted file, so that is no outage).
    """

    def __init__(self, tmp: Path) -> None:
        self.pg_name = None
        if postgres_available():
            self.pg_name = f"dxe_survival_{uuid.uuid4().hex[:10]}"
            with self._admin() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.pg_name}"')
            self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.pg_name}"
        else:
            self.sqlite_path = tmp / "shop.db"
            self.url = f"sqlite:///{self.sqlite_path}"

    @property
    def kind(self) -> str:
        return "PostgreSQL" if self.pg_name else "SQLite"

    @contextmanager
    def _admin(self):
        import psycopg2

        connection = psycopg2.connect(PG_ADMIN_URL.replace("+psycopg2", ""))
        connection.autocommit = True
        try:
            yield connection.cursor()
        finally:
            connection.close()

    def _sqlite_tables(self, connection, suffix: str) -> list[str]:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [r[0] for r in rows if r[0].endswith(suffix) and r[0] != "alembic_version"]

    def begin(self) -> None:
        """The store goes away."""
        if self.pg_name:
            with self._admin() as cursor:
                cursor.execute(f'ALTER DATABASE "{self.pg_name}" ALLOW_CONNECTIONS false')
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (self.pg_name,),
                )
            return
        with sqlite3.connect(self.sqlite_path) as connection:
            for table in self._sqlite_tables(connection, ""):
                connection.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_offline"')

    def end(self) -> None:
        """The store is back."""
        if self.pg_name:
            with self._admin() as cursor:
                cursor.execute(f'ALTER DATABASE "{self.pg_name}" ALLOW_CONNECTIONS true')
            return
        with sqlite3.connect(self.sqlite_path) as connection:
            for table in self._sqlite_tables(connection, "_offline"):
                connection.execute(f'ALTER TABLE "{table}" RENAME TO "{table[: -len("_offline")]}"')

    def drop(self) -> None:
        if self.pg_name:
            with self._admin() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


class FaultStack:
    """An action server and a Rasa server of their own, to stop, break and restart."""

    def __init__(self, model: Path, tmp: Path) -> None:
        self.tmp = tmp
        self.model = model
        self.rasa_port, self.actions_port = free_port(), free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"
        self.tracker_db = tmp / "tracker.db"
        self.outage = ShopOutage(tmp)
        # the shop store behind a proxy this fixture can cut (DATABASE_URL wins over SHOP_DB)
        self.env = stack.isolated_env(
            tmp,
            self.actions_port,
            DATABASE_URL=self.outage.url,
            SHOP_TOKEN_SECRET=E2E_TOKEN_SECRET,
            FOLLOWUP_DELAY_SECONDS="600",
        )
        stack.prepare_store(self.env)
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.start_actions(wait=False)
        self.start_rasa(wait=False)

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        return stack.spawn(command, self.env, self.tmp / f"{name}.log", mode="a")

    def start_actions(self, wait: bool = True) -> None:
        self.actions = self._spawn("actions", stack.actions_command(self.actions_port))
        if wait:
            self._wait(lambda: requests.get(f"{self.actions_url}/health", timeout=2).ok, 60)

    def start_rasa(self, wait: bool = True) -> None:
        self.rasa = self._spawn(
            "rasa", stack.rasa_command(self.model, self.rasa_port, E2E_RASA_API_TOKEN)
        )
        if wait:
            self.wait_ready()

    def _wait(self, check, seconds: float) -> None:
        stack.wait_until(check, seconds, (self.actions, self.rasa), self.tmp)

    def wait_ready(self) -> None:
        """Both servers answer."""
        self._wait(
            lambda: (
                requests.get(self.rasa_url, timeout=2).ok
                and requests.get(f"{self.actions_url}/health", timeout=2).ok
            ),
            300,
        )

    def stop_actions(self) -> None:
        """The action server goes down (SIGKILL: no goodbye)."""
        stack.stop([self.actions], signal.SIGKILL)

    def kill_rasa(self) -> None:
        """Rasa dies in the middle of whatever it was doing."""
        stack.stop([self.rasa], signal.SIGKILL)

    def close(self) -> None:
        stack.stop([self.rasa, self.actions])
        self.outage.drop()

    def send(self, sender: str, message: str, metadata=None) -> list[dict]:
        """POST to the REST webhook of this stack; the bot messages."""
        body = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        r = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=120)
        r.raise_for_status()
        return r.json()

    def user_texts(self, sender: str) -> list[str]:
        """The user messages of a conversation as the tracker store holds them."""
        with sqlite3.connect(self.tracker_db) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                (sender,),
            ).fetchall()
        return [json.loads(r[0]).get("text") for r in rows]


@pytest.fixture(scope="session")
def _fault_stack_launch(request, trained_model: Path, tmp_path_factory):
    """Start the fault stack without waiting (None when no fault test was collected)."""
    if not any(item.path.name == FAULT_TESTS for item in request.session.items):
        yield None
        return
    stack = FaultStack(trained_model, tmp_path_factory.mktemp("fault_stack"))
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture(autouse=True, scope="session")
def _launch_early(_fault_stack_launch):
    """Launch the fault stack with the first survival test, so it loads during the fuzz."""
    return _fault_stack_launch


@pytest.fixture(scope="session")
def fault_stack(_fault_stack_launch) -> FaultStack:
    """The fault stack, ready."""
    _fault_stack_launch.wait_ready()
    return _fault_stack_launch


def pytest_terminal_summary(terminalreporter) -> None:
    """Print what the fuzz tests sent, by kind."""
    if not FUZZ_COUNTS:
        return
    terminalreporter.section("survival fuzz counts")
    for kind, count in sorted(FUZZ_COUNTS.items()):
        terminalreporter.write_line(f"{kind:<28} {count:>6}")
    terminalreporter.write_line(f"{'total':<28} {sum(FUZZ_COUNTS.values()):>6}")
