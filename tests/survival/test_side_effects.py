"""A turn killed after it changed the shop: the message is kept, nothing is made twice.

Runs on a stack of its own (an action server and a Rasa server, as the fault stack of
tests/survival/conftest.py) whose action server can be started with a hook that hangs
right after a shop change committed (tests/survival/hang_after_commit/sitecustomize.py).
The change is the compensation coupon of a 补救 complaint on 李娜's order 202611010004,
which the customer accepts with "好的":

- the action server is SIGKILLed after the coupon committed, before Rasa got the events;
- Rasa is SIGKILLed in the same place (the whole turn dies, nothing saved at its end).

Each time the customer's message must be in the tracker store, and after the restart the
same "好的" must give the same coupon, not a second one.

The same stack also takes the brute-force attempt over REST: 12 wrong phone tails for
李娜's order 202611010003 from 4 conversation ids with /restart between them, then the
right tail from a fresh one (the limits of config/policy.yml → verification).
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from dianxiaoer.core.resilience import holding_reply
from tests.conftest import E2E_TOKEN_SECRET, stack
from tests.survival.conftest import FaultStack

pytestmark = pytest.mark.e2e

HOOK_DIR = Path(__file__).resolve().parent / "hang_after_commit"
ORDER = "202611010004"  # 李娜 (C1002): 羊毛衫, signed
COMPLAINT = "毛衣起球这么严重，必须给我补偿，运费也要赔"


class SideEffectStack(FaultStack):
    """The fault stack, with an action server that can hang after a committed change."""

    hang_after: str | None = None

    @property
    def marker(self) -> Path:
        return self.tmp / "committed.json"

    def _spawn(self, name: str, command: list[str]):
        # agents on duty around the clock: the same replies at any hour
        env = {**self.env, "SHOP_POLICY_FILE": str(stack.round_the_clock_policy(self.tmp))}
        if name == "actions" and self.hang_after:
            env["PYTHONPATH"] = os.pathsep.join([str(HOOK_DIR), env.get("PYTHONPATH", "")])
            env["DXE_TEST_HANG_AFTER"] = self.hang_after
            env["DXE_TEST_HANG_MARKER"] = str(self.marker)
        return stack.spawn(command, env, self.tmp / f"{name}.log", mode="a")

    def restart_actions(self, hang_after: str | None, wait: bool = True) -> None:
        """A new action server process, hanging after `hang_after` (None: a normal one)."""
        self.stop_actions()
        self.hang_after = hang_after
        self.marker.unlink(missing_ok=True)
        self.start_actions(wait=wait)

    def wait_committed(self, seconds: float = 120) -> dict:
        """The hooked change committed: its result."""
        deadline = time.monotonic() + seconds
        while not self.marker.exists() or not self.marker.read_text():
            assert time.monotonic() < deadline, "the change never committed"
            time.sleep(0.2)
        return json.loads(self.marker.read_text(encoding="utf-8"))

    def coupons(self, customer: str) -> list[tuple[str, str]]:
        """Coupons of a customer in the shop store: (code, reason)."""
        return self.store_rows(
            "SELECT code, reason FROM coupons WHERE customer_id = :c", c=customer
        )

    def store_rows(self, sql: str, **params) -> list[tuple]:
        """Rows of a query on the shop store."""
        engine = sa.create_engine(self.outage.url)
        try:
            with engine.connect() as db:
                return [tuple(r) for r in db.execute(sa.text(sql), params)]
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def side_stack(trained_model: Path, tmp_path_factory) -> SideEffectStack:
    launched = SideEffectStack(trained_model, tmp_path_factory.mktemp("side_effects"))
    try:
        launched.wait_ready()
        yield launched
    finally:
        launched.close()


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def li_token(monkeypatch) -> str:
    monkeypatch.setenv("SHOP_TOKEN_SECRET", E2E_TOKEN_SECRET)
    from dianxiaoer.core.auth import mint_token

    return mint_token("C1002", 3600)


SETUP_MESSAGES = ["我的订单到哪了", ORDER, COMPLAINT]


def offered_compensation(side_stack: SideEffectStack, who: str, metadata: dict) -> str:
    """A logged-in 李娜 complains about order 202611010004 and is offered a coupon."""
    side_stack.send(who, SETUP_MESSAGES[0], metadata)
    assert "羊毛衫" in texts(side_stack.send(who, SETUP_MESSAGES[1], metadata))
    offer = texts(side_stack.send(who, SETUP_MESSAGES[2], metadata))
    assert "补偿券" in offer and "投诉单 TS" in offer, offer
    return offer.split("投诉单 ")[1][:16]


def accept_in_background(side_stack: SideEffectStack, who: str, metadata: dict) -> dict:
    """Send "好的" without waiting; the result (replies or error) fills in later."""
    outcome: dict = {}

    def send() -> None:
        try:
            outcome["replies"] = side_stack.send(who, "好的", metadata)
        except requests.RequestException as error:
            outcome["error"] = error

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def compensation_coupons(side_stack: SideEffectStack, ticket: str) -> list[str]:
    return [code for code, reason in side_stack.coupons("C1002") if ticket in reason]


def test_action_server_killed_after_the_coupon_committed(side_stack, monkeypatch):
    who = f"kill-actions-{uuid.uuid4().hex[:8]}"
    metadata = {"customer_token": li_token(monkeypatch)}
    ticket = offered_compensation(side_stack, who, metadata)
    side_stack.restart_actions(hang_after="issue_coupon")
    try:
        pending = accept_in_background(side_stack, who, metadata)
        committed = side_stack.wait_committed()
        side_stack.stop_actions()  # SIGKILL: the coupon is in the store, Rasa has no events
        pending["thread"].join(120)
        # the customer got the holding reply, and their message is in the tracker store
        assert texts(pending["replies"]) == holding_reply()
        assert side_stack.user_texts(who)[-1] == "好的"
        assert compensation_coupons(side_stack, ticket) == [committed["result"]]
    finally:
        side_stack.restart_actions(hang_after=None)
    # retried: the same coupon is told, no second one is issued
    again = texts(side_stack.send(who, "好的", metadata))
    assert committed["result"] in again, again
    assert compensation_coupons(side_stack, ticket) == [committed["result"]]
    # every message stored once, in order
    assert side_stack.user_texts(who) == [*SETUP_MESSAGES, "好的", "好的"]


def test_rasa_killed_after_the_coupon_committed_keeps_the_message(side_stack, monkeypatch):
    who = f"kill-rasa-{uuid.uuid4().hex[:8]}"
    metadata = {"customer_token": li_token(monkeypatch)}
    ticket = offered_compensation(side_stack, who, metadata)
    side_stack.restart_actions(hang_after="issue_coupon")
    try:
        pending = accept_in_background(side_stack, who, metadata)
        committed = side_stack.wait_committed()
        side_stack.kill_rasa()  # the turn dies: Rasa never saves at its end
        pending["thread"].join(120)
        assert "error" in pending  # the customer's request died with Rasa
        # saved as soon as it was logged, before the action ran
        assert side_stack.user_texts(who)[-1] == "好的"
        assert compensation_coupons(side_stack, ticket) == [committed["result"]]
    finally:
        # (waiting for one server fails while the other is down: start both, then wait)
        side_stack.restart_actions(hang_after=None, wait=False)
        side_stack.start_rasa()
    again = texts(side_stack.send(who, "好的", metadata))
    assert committed["result"] in again, again
    assert compensation_coupons(side_stack, ticket) == [committed["result"]]
    # every message stored once, in order
    assert side_stack.user_texts(who) == [*SETUP_MESSAGES, "好的", "好的"]


LI_ORDER, LI_TAIL = "202611010003", "5678"
LI_SECRETS = ("运动鞋", "李娜", "北京市朝阳区", "13900005678", "SF1234567890123")


def guess(side_stack: SideEffectStack, who: str, tail: str, in_form: bool) -> tuple[str, bool]:
    """One phone tail for LI_ORDER, as a guesser types it: (the reply, still in the form)."""
    if not in_form:
        assert "订单号" in texts(side_stack.send(who, "帮我查一下订单"))
    asked = texts(side_stack.send(who, LI_ORDER))
    assert "后四位" in asked or "最后4位" in asked, asked
    reply = texts(side_stack.send(who, tail))
    # after a plain mismatch the form asks for the order number again
    return reply, "订单号" in reply


def test_twelve_wrong_tails_from_four_senders_then_the_right_tail_reveals_nothing(side_stack):
    prefix = f"brute-{uuid.uuid4().hex[:6]}"
    replies, started = [], time.monotonic()
    for n in range(4):
        who, in_form = f"{prefix}-{n}", False
        for tail in (f"{1000 + 3 * n + k:04d}" for k in range(3)):
            reply, in_form = guess(side_stack, who, tail, in_form)
            replies.append(reply)
        side_stack.send(who, "/restart")
    seconds = time.monotonic() - started
    kinds = [
        # (the lockout's handoff reply may say a wait in 分钟 too)
        "locked" if "多次核对未通过" in r else "cooling" if "分钟" in r else "failed"
        for r in replies
    ]
    # 5 wrong tails compared (the 3rd locks its conversation), then every one refused
    assert kinds == ["failed", "failed", "locked", "failed"] + ["cooling"] * 8, replies
    assert all("核对不上" in r or "多次核对未通过" in r for r in replies)
    right = guess(side_stack, f"{prefix}-fresh", LI_TAIL, False)[0]
    assert "分钟" in right and "登录" in right, right
    everything = "\n".join([*replies, right])
    assert not [s for s in LI_SECRETS if s in everything], everything
    outcomes = dict(
        side_stack.store_rows(
            "SELECT outcome, count(*) FROM verification_attempts WHERE order_id = :o"
            " GROUP BY outcome",
            o=LI_ORDER,
        )
    )
    assert outcomes == {"failed": 5, "refused": 8}
    # one conversation reached its own lock: the order was queued for a human once
    handoffs = side_stack.store_rows(
        "SELECT count(*) FROM handoffs WHERE reason = 'lockout' AND conversation_id LIKE :p",
        p=f"{prefix}%",
    )
    assert handoffs == [(1,)]
    print(f"\n12 wrong tails over REST in {seconds:.1f} s; checks of the order: {outcomes}")
