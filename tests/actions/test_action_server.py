"""The action server answers only Rasa, and production servers refuse to start on demo secrets.

Real processes (scripts/stack.py launches them as `make run` does), real HTTP.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from dianxiaoer.core.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import stack  # noqa: E402

TOKEN = "t" * 32


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "SHOP_DB": str(tmp / "shop.db"),
        "DXE_MODE": "demo",
    }
    for name in ("DATABASE_URL", "ACTIONS_TOKEN"):
        env.pop(name, None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("action_server")
    port = stack.free_port()
    env = _env(tmp, ACTIONS_TOKEN=TOKEN)
    stack.prepare_store(env)
    proc = stack.spawn(stack.actions_command(port), env, tmp / "actions.log")
    url = f"http://127.0.0.1:{port}"
    try:
        stack.wait_until(lambda: requests.get(f"{url}/health", timeout=2).ok, 60, [proc], tmp)
        yield url
    finally:
        stack.stop([proc])


def _call(url: str, headers: dict | None = None, body: dict | None = None):
    body = body or {
        "next_action": "action_answer_order",
        "version": "3.6.21",
        "sender_id": "attacker",
        # a tracker claiming to be a verified customer: only Rasa may post trackers
        "tracker": {
            "sender_id": "attacker",
            "slots": {"verified_customer": "C1001", "verified_order": "202406150001"},
            "latest_message": {"text": "我的订单到哪了", "intent": {}, "entities": []},
            "events": [],
        },
        "domain": {},
    }
    return requests.post(f"{url}/webhook", json=body, headers=headers or {}, timeout=10)


def test_health_is_open_everything_else_needs_the_token(action_server):
    assert requests.get(f"{action_server}/health", timeout=5).json() == {"status": "ok"}
    for headers in ({}, {"X-Actions-Token": "wrong"}, {"X-Actions-Token": TOKEN[:-1]}):
        answer = _call(action_server, headers)
        assert answer.status_code == 401, headers
        assert "C1001" not in answer.text
    assert requests.get(f"{action_server}/actions", timeout=5).status_code == 401


def test_the_right_token_runs_the_action(action_server):
    answer = _call(action_server, {"X-Actions-Token": TOKEN})
    assert answer.status_code != 401
    listed = requests.get(f"{action_server}/actions", headers={"X-Actions-Token": TOKEN}, timeout=5)
    assert {"name": "action_answer_order"} in listed.json()


def test_a_failing_action_does_not_echo_the_tracker(action_server):
    broken = {"next_action": "action_answer_order", "tracker": "not a tracker", "secret": "x1y2"}
    answer = _call(action_server, {"X-Actions-Token": TOKEN}, broken)
    assert answer.status_code >= 400
    assert "x1y2" not in answer.text


def test_no_cors_for_browsers(action_server):
    answer = requests.options(
        f"{action_server}/webhook",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert "access-control-allow-origin" not in {k.lower() for k in answer.headers}


def _outward_address() -> str | None:
    """This machine's non-loopback IPv4 address (a UDP connect sends nothing)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") else address


def test_the_action_server_listens_on_loopback_only(action_server):
    import socket

    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    port = int(action_server.rsplit(":", 1)[1])
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((address, port)) != 0, f"{address}:{port} answers"


def test_no_token_no_action_server(tmp_path):
    env = _env(tmp_path)
    done = subprocess.run(
        stack.actions_command(stack.free_port()),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ACTIONS_TOKEN is not set" in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        [str(stack.ABIN / "python"), "-m", "dianxiaoer.core.startup_check", "all"],
        ["ACTIONS"],
        stack.web_command(),
    ],
    ids=["check", "action server", "web app"],
)
def test_production_without_secrets_refuses_to_start(tmp_path, command):
    if command == ["ACTIONS"]:
        command = stack.actions_command(stack.free_port())
    env = _env(tmp_path, DXE_MODE="production", WEB_PORT=str(stack.free_port()))
    for name in list(env):
        if name.startswith(("AGENT_TOKEN_", "TRAINEE_TOKEN_")) or name in (
            "SHOP_TOKEN_SECRET",
            "RASA_API_TOKEN",
        ):
            env.pop(name)
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "DXE_MODE=production" in done.stderr
    assert "SHOP_TOKEN_SECRET is not set" in done.stderr
    assert "Nothing was started" in done.stderr
