"""Start and stop the example order service as a separate process (tests, demos).

Standard library only, so either environment can use it: the service itself always runs
in the action environment (`.venv-actions`, SQLAlchemy 2), whichever Python calls this.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACTIONS_PYTHON = ROOT / os.environ.get("ACTIONS_VENV", ".venv-actions") / "bin" / "python"


@dataclass
class OrderService:
    """A running example order service."""

    process: subprocess.Popen
    port: int
    token: str
    db: Path
    log: Path

    @property
    def url(self) -> str:
        """Its base URL (ORDER_API_URL)."""
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict:
        """GET /health: {"status": "ok", "served": <API requests answered>}."""
        with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
            return json.loads(response.read())

    def served(self) -> int:
        """How many API requests it has answered (or refused on purpose)."""
        return int(self.health()["served"])

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start(
    port: int,
    token: str,
    db: Path,
    *options: str,
    log: Path | None = None,
    seconds: float = 30,
) -> OrderService:
    """Start `python -m examples.order_service` on `port` and wait until it answers.

    `db` keeps its data across a restart on the same file; `options` are extra switches
    (`--delay 1`, `--fail-first 2`).
    """
    log = log or db.with_suffix(".log")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORDER_SOURCE": "store"}
    command = [
        str(ACTIONS_PYTHON),
        "-m",
        "examples.order_service",
        "--port",
        str(port),
        "--token",
        token,
        "--db",
        str(db),
        *options,
    ]
    with open(log, "a") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    service = OrderService(process, port, token, db, log)
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"order service exited:\n{log.read_text(errors='replace')}")
        try:
            service.health()
            return service
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            service.stop()
            raise RuntimeError(f"order service not ready:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
