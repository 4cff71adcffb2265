"""The scaled stack for the scale-out tests: two Rasa replicas behind haproxy, the tracker
store and the shop store in fresh PostgreSQL databases, the lock store in a fresh Redis
database — started once per session by `scripts/launch.py run-scaled` (through
scripts/scaled_stack.py, as `make bench-scale` does) and torn down with its databases.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys

import pytest
import requests

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from bench_scale import send  # noqa: E402
from scaled_stack import ScaledStack, pg_params, services_missing  # noqa: E402

# The stack runs the Rasa environment's servers; the checks need its redis/psycopg2 clients.
collect_ignore_glob = [] if importlib.util.find_spec("rasa") else ["test_*.py"]


@pytest.fixture(scope="session")
def scaled(trained_model, tmp_path_factory) -> ScaledStack:
    """The running scaled stack (skips when PostgreSQL or Redis is not reachable)."""
    missing = services_missing()
    if missing:
        pytest.skip(missing)
    stack = ScaledStack(
        tmp_path_factory.mktemp("scaled"),
        extra_env={
            # the analytics page recomputes on every call, so a test sees the latest turns
            "ANALYTICS_CACHE_SECONDS": "0",
            # 回访 due 4 s after a complaint, recovered by the web app 3 s after that if the
            # replica holding the reminder died (test_scale_failover.py)
            "FOLLOWUP_DELAY_SECONDS": "4",
            "FOLLOWUP_RECOVERY_GRACE_SECONDS": "3",
            "FOLLOWUP_SWEEP_SECONDS": "1",
        },
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def texts(reply: list[dict]) -> list[str | None]:
    """The text of each bot message of a REST reply."""
    return [m.get("text") for m in reply]


def say(url: str, sender: str, message: str) -> list[dict]:
    """One REST turn against `url` (a replica or the load balancer)."""
    return send(url, sender, message, timeout=120)


def tracker_messages(stack: ScaledStack, prefix: str) -> dict[str, list[tuple[str, str | None]]]:
    """User and bot events, in store order, of every conversation whose id starts with
    `prefix`, read straight from the PostgreSQL tracker store (Rasa's `events` table);
    `session_started` events are kept so that a doubled session start shows."""
    import psycopg2

    conn = psycopg2.connect(**pg_params(stack.tracker_db))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT sender_id, type_name, data FROM events WHERE sender_id LIKE %s "
                "AND type_name IN ('user', 'bot', 'session_started') ORDER BY id",
                (prefix.replace("_", r"\_") + "%",),
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    out: dict[str, list[tuple[str, str | None]]] = {}
    for sender, kind, data in rows:
        out.setdefault(sender, []).append((kind, json.loads(data).get("text")))
    return out


def haproxy_sessions(stack: ScaledStack) -> dict[tuple[str, str], int]:
    """Requests each (backend, server) of haproxy has handled so far (stats CSV `stot`)."""
    body = requests.get(f"{stack.stats_url};csv", timeout=5).text.lstrip("# ")
    return {
        (row["pxname"], row["svname"]): int(row["stot"] or 0)
        for row in csv.DictReader(io.StringIO(body))
    }
