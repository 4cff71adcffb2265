"""Shop changes made once: an action run again for the same offer or message repeats them.

What a retried turn looks like to the action server: the first run committed its change,
its answer and events were lost (the action server died, the turn failed), so the slots
still hold the offer and the customer says yes again. Real trackers, a real SQLite store.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from actions.complaints import ActionHandleComplaint
from actions.orders import ActionConfirmPending, ActionSubmitReturn
from dianxiaoer.store import repository
from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Coupon
from dianxiaoer.store.repository import EffectKey
from tests.actions.test_orders import answer, shop, slots_of, verified  # noqa: F401
from tests.actions.trackers import make_tracker, run_action, user_event
from tests.store.conftest import NOW, store_url  # noqa: F401


def rows(shop_path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(shop_path) as db:
        return db.execute(sql, args).fetchall()


def confirm(domain, pending: str, customer: str):
    tracker = make_tracker(
        [user_event("好的", "affirm")],
        slots={"pending_action": pending, "verified_customer": customer},
    )
    return run_action(ActionConfirmPending(), tracker, domain)


def test_compensation_coupon_said_yes_to_twice_is_issued_once(shop, domain):  # noqa: F811
    tracker = make_tracker(
        [user_event("毛衣起球这么严重，必须给我补偿，运费也要赔", "file_complaint")],
        slots={"verified_customer": "C1002", "verified_order": "202611010004"},
    )
    _, events = run_action(ActionHandleComplaint(), tracker, domain)
    pending = slots_of(events)["pending_action"]
    first, _ = confirm(domain, pending, "C1002")
    again, _ = confirm(domain, pending, "C1002")
    assert first[0]["response"] == again[0]["response"] == "utter_complaint_coupon_issued"
    assert first[0]["coupon"] == again[0]["coupon"]
    assert rows(shop, "SELECT code FROM coupons") == [(first[0]["coupon"],)]
    # another complaint's offer is another coupon
    other = pending.rsplit(":", 1)[0] + ":TS000000000000"
    third, _ = confirm(domain, other, "C1002")
    assert third[0]["coupon"] != first[0]["coupon"]
    assert len(rows(shop, "SELECT code FROM coupons")) == 2


def test_cancellation_said_yes_to_twice_gives_the_same_answer(shop, domain):  # noqa: F811
    _, events = answer(domain, verified("202611010008", "C1002", "cancel"))
    pending = slots_of(events)["pending_action"]
    first, _ = confirm(domain, pending, "C1002")
    again, _ = confirm(domain, pending, "C1002")
    # the paid order was refunded once; the retry still says so (not "cancelled now")
    assert first[0]["response"] == again[0]["response"] == "utter_order_cancelled_refund"
    assert rows(shop, "SELECT status FROM orders WHERE id='202611010008'") == [("cancelled",)]


def test_return_submitted_twice_is_one_rma(shop, domain):  # noqa: F811
    _, events = answer(domain, verified("202611010003", "C1002", "return"))
    pending = slots_of(events)["pending_action"]
    tracker = make_tracker(
        [user_event("尺码不合适", "inform")],
        slots={"pending_action": pending, "verified_customer": "C1002", "return_reason": "尺码"},
    )
    first, _ = run_action(ActionSubmitReturn(), tracker, domain)
    again, _ = run_action(ActionSubmitReturn(), tracker, domain)
    assert first[0]["rma"] == again[0]["rma"]
    assert rows(shop, "SELECT rma FROM returns") == [(first[0]["rma"],)]


def test_aftersale_ticket_said_yes_to_twice_is_one_ticket(shop, domain):  # noqa: F811
    order = repository.find_order("202611010003")
    pending = f"aftersale:202611010003:{order.items[0].id}:exchange"
    first, _ = confirm(domain, pending, "C1002")
    again, _ = confirm(domain, pending, "C1002")
    assert first[0]["response"] == again[0]["response"] == "utter_aftersale_ticket_exchange"
    assert first[0]["ticket"] == again[0]["ticket"]
    assert rows(shop, "SELECT count(*) FROM tickets WHERE kind='aftersale'") == [(1,)]
    # asked in another conversation: the open ticket is reported, none is added
    tracker = make_tracker(
        [user_event("好的", "affirm")],
        slots={"pending_action": pending, "verified_customer": "C1002"},
    )
    tracker.sender_id = "another-conversation"
    messages, _ = run_action(ActionConfirmPending(), tracker, domain)
    assert messages[0]["response"] == "utter_aftersale_exists"
    assert rows(shop, "SELECT count(*) FROM tickets WHERE kind='aftersale'") == [(1,)]


def test_complaint_sent_again_is_one_ticket_another_complaint_is_another(shop, domain):  # noqa: F811
    def complain(text: str) -> str:
        tracker = make_tracker([user_event(text, "file_complaint")])
        _, events = run_action(ActionHandleComplaint(), tracker, domain)
        return slots_of(events)["last_ticket"]

    first = complain("我做了十年电商，建议你们把包装流程改进一下")
    assert complain("我做了十年电商，建议你们把包装流程改进一下") == first
    assert complain("快递盒子都压扁了，包装太差") != first
    assert rows(shop, "SELECT count(*) FROM tickets WHERE kind='complaint'") == [(2,)]


def test_urge_ticket_and_coupon_are_one_transaction(shop, domain, monkeypatch):  # noqa: F811
    def coupon_fails(*args, **kwargs):
        raise RuntimeError("died between the ticket and the coupon")

    with monkeypatch.context() as patch:
        # the coupon step of urge_delivery, where the orders module calls it
        patch.setattr(repository.orders, "_add_coupon", coupon_fails)
        with pytest.raises(RuntimeError):
            answer(domain, verified("202611010002", "C1001", "urge"))
    assert rows(shop, "SELECT count(*) FROM tickets") == [(0,)]  # no ticket without coupon
    messages, _ = answer(domain, verified("202611010002", "C1001", "urge"))
    assert [m["response"] for m in messages][1:3] == [
        "utter_urge_ticket",
        "utter_delay_compensation",
    ]
    assert rows(shop, "SELECT count(*) FROM coupons") == [(1,)]


def test_the_key_is_taken_in_the_changes_transaction(shop):  # noqa: F811
    key = EffectKey("c1", "action_confirm_pending", "compensate:202611010004:TS1")
    url = f"sqlite:///{shop}"
    with pytest.raises(ValueError):  # the change fails: the key stays free
        repository.create_return("202611010004", 999999, "x", NOW, url=url, key=key)
    assert repository.side_effect(key, url) is None
    code = repository.issue_coupon("C1002", 10, 50, 30, "补偿", NOW, url=url, key=key)
    assert repository.side_effect(key, url) == code
    later = NOW + timedelta(days=1)
    assert repository.issue_coupon("C1002", 10, 50, 30, "补偿", later, url=url, key=key) == code


def test_concurrent_retries_issue_one_coupon(store_url):  # noqa: F811
    """Six runs of the same change at once (SQLite, and PostgreSQL when reachable)."""
    key = EffectKey("c2", "action_confirm_pending", "compensate:202611010004:TS2")
    codes, errors = [], []

    def issue() -> None:
        try:
            codes.append(repository.issue_coupon("C1002", 10, 50, 30, "补偿", NOW, store_url, key))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=issue) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(codes)) == 1 and len(codes) == 6
    with session_scope(store_url) as session:
        assert session.scalar(select(func.count()).select_from(Coupon)) == 1
