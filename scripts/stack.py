"""Start the project's servers for tests and benchmarks: action server, Rasa, web app.

One place for the command lines and the process handling that the end-to-end tests
(tests/conftest.py), the fault tests (tests/survival/conftest.py) and the benchmark
(scripts/bench.py) share: each server runs in its own process group on a free port with
its output in a log file, and is stopped with SIGTERM, then SIGKILL after 20 s. No Rasa
imports, only the standard library (and requests to wait for a server): the benchmark,
the scaled stack, both test environments and the launcher of `make run` / `make run-scaled`
(scripts/launch.py) use it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / os.environ.get("VENV", ".venv") / "bin"
ABIN = ROOT / os.environ.get("ACTIONS_VENV", ".venv-actions") / "bin"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def round_the_clock_policy(directory: Path) -> Path:
    """A copy of config/policy.yml with agents on duty all day, so handoffs queue at any hour.

    Tests and benchmarks then get the same replies whenever they run.
    """
    import yaml

    policy = yaml.safe_load((ROOT / "config" / "policy.yml").read_text(encoding="utf-8"))
    policy["service"]["hours"] = {"weekdays": "00:00-23:59", "weekends": "00:00-23:59"}
    path = directory / "policy.yml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def isolated_env(tmp: Path, actions_port: int, **overrides: str) -> dict[str, str]:
    """The current environment, adapted for servers of their own, then `overrides`.

    Rasa calls the action server on `actions_port`; the tracker store, shop store and
    unanswered log are files in `tmp` (never the developer's DATABASE_URL).
    """
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "ACTIONS_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "TRACKER_DIALECT": "sqlite",
        "TRACKER_DB": str(tmp / "tracker.db"),
        "SHOP_DB": str(tmp / "shop.db"),
        "UNANSWERED_LOG": str(tmp / "unanswered.jsonl"),
    }
    env.pop("DATABASE_URL", None)
    env.update(overrides)
    return env


def prepare_store(env: dict[str, str]) -> None:
    """Migrate the shop store named in `env` and load the demo data (`make store`)."""
    subprocess.run(
        [str(ABIN / "python"), "-m", "dianxiaoer.store", "prepare"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def actions_command(port: int, host: str | None = None) -> list[str]:
    """The action server (rasa_sdk behind the shared secret, dianxiaoer.action_server).

    Without `host` it listens where ACTIONS_HOST says (loopback by default).
    """
    command = [str(ABIN / "python"), "-m", "dianxiaoer.action_server", "--port", str(port)]
    return command + (["--host", host] if host else [])


_ACTIONS_TOKEN: list[str] = []


def actions_token() -> str:
    """The shared secret between Rasa and the action server for servers started here.

    `ACTIONS_TOKEN` when set, else a random one for this process (every server it starts
    gets the same, so its Rasa servers can call its action servers).
    """
    if not _ACTIONS_TOKEN:
        import secrets

        _ACTIONS_TOKEN.append(os.environ.get("ACTIONS_TOKEN") or secrets.token_hex(16))
    return _ACTIONS_TOKEN[0]


def rasa_command(
    model: Path,
    port: int,
    token: str,
    endpoints: str | Path = "endpoints.yml",
    cors: bool = False,
    host: str = "127.0.0.1",
) -> list[str]:
    """Rasa with the project's channels and its HTTP API behind `token`, on `host`."""
    command = [
        str(BIN / "rasa"),
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        "credentials.yml",
        "--port",
        str(port),
        "--interface",
        host,
        "--enable-api",
        "--auth-token",
        token,
    ]
    return command + (["--cors", "*"] if cors else [])


def web_command() -> list[str]:
    """The web app (shop page, widget, agent console, trainee and analytics pages)."""
    return [str(ABIN / "python"), "-m", "webapp"]


@contextmanager
def web_app(env: dict[str, str], logs: Path, seconds: float = 60) -> Iterator[str]:
    """The web app alone on a free loopback port with `env`, stopped afterwards.

    Yields its URL once /api/config answers; its output goes to `logs`/web.log.
    """
    import requests

    port = free_port()
    proc = spawn(
        web_command(), {**env, "WEB_PORT": str(port), "WEB_HOST": "127.0.0.1"}, logs / "web.log"
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: requests.get(f"{url}/api/config", timeout=2).ok, seconds, [proc], logs, 0.3
        )
        yield url
    finally:
        stop([proc])


def spawn(command: list[str], env: dict[str, str], log: Path, mode: str = "w") -> subprocess.Popen:
    """Start `command` in the project directory, in its own process group, output to `log`.

    The environment gets `ACTIONS_TOKEN` unless it has one (`actions_token()`).
    """
    env = {**env, "ACTIONS_TOKEN": env.get("ACTIONS_TOKEN") or actions_token()}
    with open(log, mode) as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(procs: Iterable[subprocess.Popen | None], sig: int = signal.SIGTERM) -> None:
    """Signal every running process group, wait, and SIGKILL what is left after 20 s."""
    procs = [p for p in procs if p is not None and p.poll() is None]
    for p in procs:
        os.killpg(p.pid, sig)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=20)


def tails(directory: Path, lines: int = 30) -> str:
    """The last lines of every log in `directory`, for error messages."""
    return "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        for log in sorted(directory.glob("*.log"))
    )


def wait_until(
    check: Callable[[], bool],
    seconds: float,
    procs: Iterable[subprocess.Popen | None] = (),
    logs: Path | None = None,
    interval: float = 0.5,
) -> None:
    """Poll `check()` until true; fail early when one of `procs` exits, or after `seconds`."""
    import requests

    procs = list(procs)
    deadline = time.monotonic() + seconds
    while True:
        if any(p is not None and p.poll() is not None for p in procs):
            raise RuntimeError("a server exited:\n" + (tails(logs) if logs else ""))
        try:
            if check():
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready in {seconds:.0f} s:\n" + (tails(logs) if logs else ""))
        time.sleep(interval)
