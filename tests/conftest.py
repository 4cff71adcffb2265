"""Shared fixtures: the trained model (trained at most once per run) and live servers."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402  (scripts/stack.py: the server launcher shared with the benchmark)
from stack import free_port  # noqa: E402,F401  (tests import it from here)

BIN = stack.BIN
ACTIONS_BIN = stack.ABIN
MODEL = (
    ROOT
    / os.environ.get("MODEL_DIR", "models")
    / (os.environ.get("MODEL_NAME", "dianxiaoer") + ".tar.gz")
)


# The tests compare answers with the shipped FAQ and policy: a shop's own admin-page
# overrides and imported product names in this checkout must not reach them (servers
# started by the tests inherit this environment). Tests of the overrides set their own.
_NO_SHOP_FILES = Path(os.environ.get("TMPDIR", "/tmp")) / f"dianxiaoer-tests-{os.getpid()}-none"
for _name, _file in (
    ("SHOP_FAQ_OVERRIDES", "faq_shop.yml"),
    ("SHOP_POLICY_OVERRIDES", "policy_shop.yml"),
    ("SHOP_IMPORTED_VOCABULARY_FILE", "vocabulary_imported.yml"),
    ("ADMIN_AUDIT_LOG", "admin_audit.jsonl"),
):
    os.environ.setdefault(_name, str(_NO_SHOP_FILES / _file))

E2E_TOKEN_SECRET = "e2e-token-secret"
E2E_RASA_API_TOKEN = "e2e-rasa-api-token"
RESULTS = ROOT / "results"


def _sqlalchemy_major() -> int:
    try:
        import sqlalchemy
    except ImportError:
        return 0
    return int(sqlalchemy.__version__.split(".")[0])


# Two environments (see scripts/bootstrap.sh): the store and action tests need the action
# server's SQLAlchemy 2; the NLU, knowledge and end-to-end tests need Rasa.
collect_ignore = []
if _sqlalchemy_major() < 2:
    collect_ignore += ["store", "actions", "analytics"]
if importlib.util.find_spec("rasa") is None:
    collect_ignore += ["unit", "knowledge", "e2e", "browser"]


def production_secrets() -> dict[str, str]:
    """A value for every secret a production start needs (`dianxiaoer.core.startup_check`):
    long enough, and none of them a demo value."""
    from dianxiaoer.core.startup_check import needed

    return {s.env: f"{s.env.lower()}-test-production-secret-0123" for s in needed("all")}


SHOP_ORDER_NUMBERS = """\
orders:
  id_pattern: 'QH\\d{11}'
  id_format: QH加11位数字
  id_example: QH20261201001
"""


@pytest.fixture
def use_shop_order_numbers(tmp_path, monkeypatch):
    """Call to give the example shop's order numbers (QH + 11 digits) as policy overrides."""

    def use() -> Path:
        overrides = tmp_path / "policy_shop.yml"
        overrides.write_text(SHOP_ORDER_NUMBERS, encoding="utf-8")
        monkeypatch.setenv("SHOP_POLICY_OVERRIDES", str(overrides))
        return overrides

    return use


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model; scripts/train.sh is a no-op when data/config are unchanged."""
    env = {**os.environ, "VENV": str(BIN.parent), "PYTHONPATH": str(ROOT)}
    subprocess.run(["bash", "scripts/train.sh"], cwd=ROOT, env=env, check=True)
    assert MODEL.exists()
    return MODEL


class Servers:
    """Handles to the running Rasa and action servers."""

    def __init__(self, rasa_port: int, actions_port: int, web_port: int, tmp: Path) -> None:
        self.rasa_url = f"http://127.0.0.1:{rasa_port}"
        self.actions_url = f"http://127.0.0.1:{actions_port}"
        self.web_url = f"http://127.0.0.1:{web_port}"
        self.tracker_db = tmp / "tracker.db"
        self.shop_db = tmp / "shop.db"

    def send(self, sender: str, message, timeout: float = 30, metadata=None) -> list[dict]:
        """POST a message to the REST webhook; returns the bot messages."""
        body = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        r = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=timeout)
        r.raise_for_status()
        return r.json()


@pytest.fixture(scope="session")
def servers(trained_model: Path, tmp_path_factory) -> Servers:
    """Start the action server, the Rasa server (REST + socket.io + token-protected API)
    and the web app (shop page, widget, agent console) once per session."""
    tmp = tmp_path_factory.mktemp("servers")
    rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
    env = stack.isolated_env(
        tmp,
        actions_port,
        SHOP_TOKEN_SECRET=E2E_TOKEN_SECRET,
        # the 回访 reminder comes back after 3 s instead of the policy's minutes; the web
        # app's recovery of lost reminders stays out of these conversations (tests/scale)
        FOLLOWUP_DELAY_SECONDS="3",
        FOLLOWUP_RECOVERY_GRACE_SECONDS="3600",
        # agents are on duty around the clock in tests, so handoffs queue whatever the hour
        SHOP_POLICY_FILE=str(stack.round_the_clock_policy(tmp)),
        RASA_PORT=str(rasa_port),
        RASA_URL=f"http://127.0.0.1:{rasa_port}",
        RASA_API_TOKEN=E2E_RASA_API_TOKEN,
        WEB_PORT=str(web_port),
        WEB_HOST="127.0.0.1",
    )
    stack.prepare_store(env)
    procs = [
        stack.spawn(stack.actions_command(actions_port), env, tmp / "actions.log"),
        stack.spawn(
            stack.rasa_command(trained_model, rasa_port, E2E_RASA_API_TOKEN, cors=True),
            env,
            tmp / "rasa.log",
        ),
        stack.spawn(stack.web_command(), env, tmp / "web.log"),
    ]
    handle = Servers(rasa_port, actions_port, web_port, tmp)
    # the tests compare replies with the servers' policy (around-the-clock hours)
    previous_policy = os.environ.get("SHOP_POLICY_FILE")
    os.environ["SHOP_POLICY_FILE"] = env["SHOP_POLICY_FILE"]
    try:
        stack.wait_until(
            lambda: (
                requests.get(handle.rasa_url, timeout=2).ok
                and requests.get(f"{handle.actions_url}/health", timeout=2).ok
                and requests.get(f"{handle.web_url}/api/config", timeout=2).ok
            ),
            240,
            procs,
            tmp,
            interval=1,
        )
        yield handle
    finally:
        if previous_policy is None:
            os.environ.pop("SHOP_POLICY_FILE", None)
        else:
            os.environ["SHOP_POLICY_FILE"] = previous_policy
        stack.stop(procs)
