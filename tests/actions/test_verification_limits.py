"""The phone-tail check limited across conversations, on real trackers and a real store.

Demo shop: 李娜 (C1002, phone …5678) owns 202611010003/04/06/08; 张伟 (C1001, …1234)
owns 202611010001/02/05/07. Policy limits (config/policy.yml → verification): 5 wrong
tails per order and 10 per customer within 60 minutes lock for 60 minutes; 10 checks per
conversation id and 60 per client IP within 10 minutes; 3 failures lock one conversation.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions import orders
from actions.orders import ActionAnswerOrder, ValidateVerifyOrderForm
from dianxiaoer.core.auth import mint_token
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.store import verification as checks
from tests.actions.test_orders import shop  # noqa: F401
from tests.actions.trackers import run_action, user_event
from tests.store.conftest import NOW, store_url  # noqa: F401

LI_ORDER, LI_TAIL = "202611010003", "5678"
LI_SECRETS = ("运动鞋", "李娜", "北京市朝阳区", "13900005678", "SF")
WRONG_TAILS = [f"{n:04d}" for n in range(1000, 1012)]  # twelve, none is 5678


class Conversation:
    """One conversation of verify_order_form, as a guesser drives it.

    Slots persist between turns as Rasa keeps them; `restart()` is `/restart` (the
    conversation id stays); a new Conversation is a new conversation id.
    """

    def __init__(self, domain: dict, sender: str, metadata: dict | None = None) -> None:
        self.domain, self.sender, self.metadata = domain, sender, metadata
        self.slots: dict = {}

    def restart(self) -> None:
        self.slots = {}

    def _tracker(self, text: str, slots: dict, answered: str | None = None) -> Tracker:
        """After action_extract_slots: the slot just answered is set after the message."""
        event = user_event(text, "inform")
        if self.metadata:
            event["parse_data"]["metadata"] = self.metadata
        events = [event]
        if answered:
            events.append({"event": "slot", "name": answered, "value": slots[answered]})
        return Tracker(
            self.sender,
            slots,
            event["parse_data"],
            events,
            False,
            None,
            {"name": "verify_order_form"} if answered else {},
            "action_listen",
        )

    def _apply(self, events) -> None:
        for e in events:
            if e.get("event") == "slot":
                self.slots[e["name"]] = e["value"]

    def _validate(self, slot: str, value: str):
        slots = {**self.slots, slot: value, "requested_slot": slot}
        messages, events = run_action(
            ValidateVerifyOrderForm(), self._tracker(value, slots, slot), self.domain
        )
        self.slots.update({slot: value})
        self._apply(events)
        return messages, SlotSet("requested_slot", None) in events

    def answer(self, topic: str = "status") -> list[dict]:
        self.slots["order_topic"] = topic
        messages, events = run_action(
            ActionAnswerOrder(), self._tracker("x", dict(self.slots)), self.domain
        )
        self._apply(events)
        return messages

    def ask(self, order_id: str, tail: str) -> list[dict]:
        """Order number, then phone tail; the answer when the form ends."""
        messages, ended = self._validate("order_id", order_id)
        if not ended:
            more, ended = self._validate("phone_tail", tail)
            messages += more
        return messages + (self.answer() if ended else [])


def responses(messages: list[dict]) -> list[str]:
    return [m.get("response") for m in messages]


def lockout_handoffs(shop_path: Path) -> int:
    with sqlite3.connect(shop_path) as db:
        return db.execute("SELECT count(*) FROM handoffs WHERE reason = 'lockout'").fetchone()[0]


def reveals_nothing(messages: list[dict], conversation: Conversation) -> None:
    assert "verified_customer" not in conversation.slots or not conversation.slots.get(
        "verified_customer"
    )
    text = str(messages)
    assert not any(secret in text for secret in LI_SECRETS), text


@pytest.fixture()
def policy_with(tmp_path, monkeypatch):
    """Use a copy of config/policy.yml with some verification limits changed."""

    def change(**limits) -> None:
        data = yaml.safe_load((PROJECT_ROOT / "config" / "policy.yml").read_text("utf-8"))
        data["verification"].update(limits)
        path = tmp_path / "policy.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("SHOP_POLICY_FILE", str(path))

    return change


def test_twelve_wrong_tails_from_four_senders_then_the_right_one_reveals_nothing(shop, domain):  # noqa: F811
    outcomes = []
    for n in range(4):
        guesser = Conversation(domain, f"guesser-{n}")
        for tail in WRONG_TAILS[3 * n : 3 * n + 3]:
            outcomes.append(responses(guesser.ask(LI_ORDER, tail)))
            if "utter_verification_locked" in outcomes[-1]:
                guesser.restart()  # /restart: the conversation's own lock starts again
        guesser.restart()
    # 5 tails were compared; then the order's check is locked for every conversation
    assert checks.attempts(LI_ORDER) == {"failed": 5, "refused": 7}
    assert outcomes[:2] == [["utter_verification_failed"]] * 2
    assert outcomes[2] == ["utter_verification_locked", "utter_handoff_queued_by_bot"] or outcomes[
        2
    ] == ["utter_verification_locked", "utter_human_off_duty"]
    assert outcomes[3] == ["utter_verification_failed"]
    assert all(o == ["utter_verification_cooling"] for o in outcomes[4:]), outcomes
    # the right tail from a fresh conversation id: not compared, nothing shown
    fresh = Conversation(domain, "fresh-sender")
    messages = fresh.ask(LI_ORDER, LI_TAIL)
    assert responses(messages) == ["utter_verification_cooling"]
    assert messages[0]["minutes"] == 60
    reveals_nothing(messages, fresh)
    assert checks.attempts(LI_ORDER) == {"failed": 5, "refused": 8}  # not compared
    # the guessing queued the order for a human once, not once per conversation
    assert lockout_handoffs(shop) == 1


def test_a_locked_orders_number_is_taken_and_its_tail_refused_uncompared(shop, domain):  # noqa: F811
    for n in range(5):
        Conversation(domain, f"g{n}").ask(LI_ORDER, WRONG_TAILS[n])
    # the number shows nothing (not whether it exists, nor whether it is locked) ...
    late = Conversation(domain, "late")
    messages, ended = late._validate("order_id", LI_ORDER)
    assert not ended and messages == [] and late.slots["order_id"] == LI_ORDER
    # ... and the tail, even the right one, is not compared
    messages, ended = late._validate("phone_tail", LI_TAIL)
    assert ended and messages == [] and "verified_customer" not in late.slots
    assert responses(late.answer()) == ["utter_verification_cooling"]
    assert checks.attempts(LI_ORDER) == {"failed": 5, "refused": 1}
    # an order number that does not exist is treated the same way
    for n in range(6):
        Conversation(domain, f"n{n}").ask("209912319999", WRONG_TAILS[n])
    assert checks.attempts("209912319999") == {"failed": 5, "refused": 1}


def test_loopback_and_malformed_client_ips_count_as_unknown(shop, domain):  # noqa: F811
    def ip_of(value) -> str | None:
        tracker = Conversation(domain, "x", {"client_ip": value})._tracker("x", {})
        return orders.client_ip(tracker)

    assert ip_of("203.0.113.7") == "203.0.113.7"
    assert ip_of(" 2001:db8::1 ") == "2001:db8::1"
    assert ip_of("127.0.0.1") is None and ip_of("::1") is None
    assert ip_of("not an ip") is None and ip_of(12345) is None and ip_of(None) is None


def test_the_lock_ends_after_the_cooling_period(shop, domain, monkeypatch):  # noqa: F811
    for n in range(5):
        Conversation(domain, f"g{n}").ask(LI_ORDER, WRONG_TAILS[n])
    assert responses(Conversation(domain, "early").ask(LI_ORDER, LI_TAIL)) == [
        "utter_verification_cooling"
    ]
    monkeypatch.setattr(orders, "_now", lambda: NOW + timedelta(minutes=30))
    early = Conversation(domain, "half-way").ask(LI_ORDER, LI_TAIL)
    assert early[0]["minutes"] == 30
    monkeypatch.setattr(orders, "_now", lambda: NOW + timedelta(minutes=61))
    owner = Conversation(domain, "owner")
    messages = owner.ask(LI_ORDER, LI_TAIL)
    assert owner.slots["verified_customer"] == "C1002"
    assert "运动鞋" in str(messages)
    # the count started again at the lock's end: one wrong tail is no lock
    assert responses(Conversation(domain, "typo").ask(LI_ORDER, "0000")) == [
        "utter_verification_failed"
    ]


def test_the_right_tail_starts_the_orders_count_again(shop, domain):  # noqa: F811
    for n in range(4):
        Conversation(domain, f"typo{n}").ask(LI_ORDER, WRONG_TAILS[n])
    owner = Conversation(domain, "owner")
    owner.ask(LI_ORDER, LI_TAIL)
    assert owner.slots["verified_customer"] == "C1002"
    for n in range(4):
        assert responses(Conversation(domain, f"later{n}").ask(LI_ORDER, WRONG_TAILS[n])) == [
            "utter_verification_failed"
        ]


def test_wrong_tails_over_all_orders_of_one_customer_lock_them_all(shop, domain):  # noqa: F811
    li_orders = ["202611010003", "202611010004", "202611010006", "202611010008"]
    tails = iter(WRONG_TAILS)
    for n in range(10):  # at most 3 per order: no order reaches its own limit
        Conversation(domain, f"spray{n}").ask(li_orders[n % 4], next(tails))
    for order in li_orders:
        messages = Conversation(domain, f"owner-{order}").ask(order, LI_TAIL)
        assert responses(messages) == ["utter_verification_cooling"], order
    # another customer's orders are not affected
    zhang = Conversation(domain, "zhang")
    zhang.ask("202611010001", "1234")
    assert zhang.slots["verified_customer"] == "C1001"


def test_one_conversation_id_is_rate_limited_across_restarts(shop, domain):  # noqa: F811
    guesser = Conversation(domain, "one-sender")
    # unknown order numbers: no order or customer limit, only the sender's
    seen = []
    for n in range(12):
        seen.append(responses(guesser.ask(f"2099010100{n:02d}", "0000")))
        guesser.restart()
    assert seen[:10] == [["utter_verification_failed"]] * 10
    assert seen[10:] == [["utter_verification_cooling"]] * 2
    # the owner in another conversation is not held up by this one
    owner = Conversation(domain, "owner")
    owner.ask(LI_ORDER, LI_TAIL)
    assert owner.slots["verified_customer"] == "C1002"


def test_client_ip_from_the_metadata_is_rate_limited_across_conversation_ids(
    shop,  # noqa: F811
    domain,
    policy_with,
):
    policy_with(ip_attempts=4)
    ip = {"client_ip": "203.0.113.7"}
    seen = [
        responses(Conversation(domain, f"ip{n}", ip).ask(f"2099010100{n:02d}", "0000"))
        for n in range(6)
    ]
    assert seen == [["utter_verification_failed"]] * 4 + [["utter_verification_cooling"]] * 2
    # the owner from another address is not held up
    owner = Conversation(domain, "owner", {"client_ip": "198.51.100.1"})
    owner.ask(LI_ORDER, LI_TAIL)
    assert owner.slots["verified_customer"] == "C1002"


def test_limits_come_from_the_policy(shop, domain, policy_with):  # noqa: F811
    policy_with(order_failures=2, cooling_minutes=5)
    assert responses(Conversation(domain, "a").ask(LI_ORDER, "0000")) == [
        "utter_verification_failed"
    ]
    messages = Conversation(domain, "b").ask(LI_ORDER, "0001")
    assert responses(messages) == ["utter_verification_cooling"] and messages[0]["minutes"] == 5


def test_a_logged_in_customer_is_not_held_up_by_the_lock(shop, domain):  # noqa: F811
    for n in range(5):
        Conversation(domain, f"g{n}").ask(LI_ORDER, WRONG_TAILS[n])
    owner = Conversation(domain, "shop-page", {"customer_token": mint_token("C1002", 600)})
    messages, ended = owner._validate("order_id", LI_ORDER)
    assert ended and owner.slots["verified_order"] == LI_ORDER


def test_each_conversation_lock_queues_the_order_for_a_human_once(shop, domain, policy_with):  # noqa: F811
    policy_with(order_failures=50, customer_failures=50)
    for n in range(3):
        guesser = Conversation(domain, f"locked{n}")
        for tail in WRONG_TAILS[3 * n : 3 * n + 3]:
            messages = guesser.ask(LI_ORDER, tail)
        assert responses(messages)[0] == "utter_verification_locked"
    assert lockout_handoffs(shop) == 1


def test_checks_older_than_a_day_are_pruned(shop):  # noqa: F811
    from dianxiaoer.core.policy import get_policy
    from dianxiaoer.shop.verification import Limits

    limits, url = Limits.from_policy(get_policy()), f"sqlite:///{shop}"
    for n in range(checks.PRUNE_EVERY - 1):
        checks.begin(f"2099{n:08d}", f"old{n}", None, NOW - timedelta(days=3), limits, url)
    gate = checks.begin("209900000999", "new", None, NOW, limits, url)
    assert gate.allowed
    with sqlite3.connect(shop) as db:
        assert db.execute("SELECT sender FROM verification_attempts").fetchall() == [("new",)]


def test_concurrent_checks_compare_at_most_the_limit(store_url):  # noqa: F811
    """Twenty checks of one order at once, as from several replicas: five compared."""
    import threading

    from dianxiaoer.core.policy import get_policy
    from dianxiaoer.shop.verification import Limits

    limits, gates, errors = Limits.from_policy(get_policy()), [], []

    def check(n: int) -> None:
        try:
            gates.append(checks.begin(LI_ORDER, f"racer{n}", None, NOW, limits, store_url))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=check, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(g.allowed for g in gates) <= limits.order_failures
    assert checks.attempts(LI_ORDER, store_url)["refused"] >= 20 - limits.order_failures
