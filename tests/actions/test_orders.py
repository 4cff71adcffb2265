"""Order verification and answers, on real trackers and a real SQLite store."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions import orders
from actions.orders import ActionAnswerOrder, ValidateVerifyOrderForm
from dianxiaoer.core.auth import mint_token
from dianxiaoer.store import repository
from dianxiaoer.store.db import session_scope, upgrade
from dianxiaoer.store.demo import load_demo_data
from tests.actions.trackers import make_tracker, run_action, user_event
from tests.store.conftest import NOW


@pytest.fixture()
def shop(tmp_path, monkeypatch):
    """A demo store at NOW, used by the actions through SHOP_DB."""
    path = tmp_path / "shop.db"
    monkeypatch.setenv("SHOP_DB", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = f"sqlite:///{path}"
    upgrade(url)
    with session_scope(url) as session:
        load_demo_data(session, now=NOW)
    monkeypatch.setattr(orders, "_now", lambda: NOW)
    return path


def form_tracker(slots: dict, text: str, intent: str = "inform", entities=None, metadata=None):
    """A tracker inside verify_order_form right after action_extract_slots: the slot the
    user just answered (the requested one, else order_id) is set after the message."""
    event = user_event(text, intent, entities=entities or [])
    if metadata:
        event["parse_data"]["metadata"] = metadata
    answered = slots.get("requested_slot") or "order_id"
    extracted = [{"event": "slot", "name": answered, "value": slots.get(answered)}]
    tracker = make_tracker([event, *extracted], slots={"requested_slot": None, **slots})
    tracker.active_loop = {"name": "verify_order_form"}
    return tracker


def validate(tracker, domain):
    return run_action(ValidateVerifyOrderForm(), tracker, domain)


def slots_of(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def answer(domain, slots: dict):
    tracker = make_tracker([user_event("x", "inform")], slots=slots)
    messages, events = run_action(ActionAnswerOrder(), tracker, domain)
    return messages, events


def test_order_and_matching_phone_tail_verify_the_customer(shop, domain):
    _, events = validate(form_tracker({"order_id": "202611010001"}, "202611010001"), domain)
    assert slots_of(events)["order_id"] == "202611010001"
    tracker = form_tracker(
        {"order_id": "202611010001", "phone_tail": "1234", "requested_slot": "phone_tail"}, "1234"
    )
    _, events = validate(tracker, domain)
    got = slots_of(events)
    assert got["verified_customer"] == "C1001" and got["verified_order"] == "202611010001"


def test_wrong_tail_reveals_nothing_and_counts(shop, domain):
    tracker = form_tracker(
        {"order_id": "202611010003", "phone_tail": "1234", "requested_slot": "phone_tail"}, "1234"
    )
    messages, events = validate(tracker, domain)
    got = slots_of(events)
    assert got["order_id"] is None and got["phone_tail"] is None
    assert got["verification_failures"] == 1 and "verified_customer" not in got
    (message,) = messages
    assert message["response"] == "utter_verification_failed" and message["remaining"] == 2
    assert "李娜" not in str(messages) and "运动鞋" not in str(messages)


def test_unknown_order_gets_the_same_answer_as_a_wrong_tail(shop, domain):
    tracker = form_tracker(
        {"order_id": "209912319999", "phone_tail": "1234", "requested_slot": "phone_tail"}, "1234"
    )
    messages, events = validate(tracker, domain)
    assert messages[0]["response"] == "utter_verification_failed"
    assert slots_of(events)["verification_failures"] == 1


def test_third_failure_locks_and_offers_a_human(shop, domain):
    tracker = form_tracker(
        {
            "order_id": "202611010003",
            "phone_tail": "0000",
            "requested_slot": "phone_tail",
            "verification_failures": 2,
        },
        "0000",
    )
    messages, events = validate(tracker, domain)
    assert slots_of(events)["verification_failures"] == 3
    assert SlotSet("requested_slot", None) in events  # the form stops
    assert messages == []
    messages, _ = answer(domain, {"verification_failures": 3})
    assert messages[0]["response"] == "utter_verification_locked"


def test_invalid_order_number_gets_a_hint_then_a_human(shop, domain):
    messages, events = validate(
        form_tracker({"order_id": "订单号是2026110100", "requested_slot": "order_id"}, "x"), domain
    )
    assert messages[0]["response"] == "utter_invalid_order_id"
    assert slots_of(events)["invalid_attempts"] == 1
    tracker = form_tracker(
        {"order_id": "123", "requested_slot": "order_id", "invalid_attempts": 1}, "123"
    )
    messages, events = validate(tracker, domain)
    assert SlotSet("requested_slot", None) in events
    messages, _ = answer(domain, {"invalid_attempts": 2})
    assert messages[0]["response"] == "utter_too_many_invalid"


def test_signed_token_skips_the_phone_tail_but_not_ownership(shop, domain):
    token = mint_token("C1002", 600)
    tracker = form_tracker(
        {"order_id": "202611010003"}, "202611010003", metadata={"customer_token": token}
    )
    _, events = validate(tracker, domain)
    got = slots_of(events)
    assert got["verified_customer"] == "C1002" and got["verified_order"] == "202611010003"
    assert SlotSet("requested_slot", None) in events
    # someone else's order with a valid token: refused, nothing shown
    tracker = form_tracker(
        {"order_id": "202611010001"}, "202611010001", metadata={"customer_token": token}
    )
    messages, events = validate(tracker, domain)
    assert messages[0]["response"] == "utter_verification_failed"
    assert "verified_order" not in slots_of(events)


def test_forged_token_is_ignored(shop, domain):
    tracker = form_tracker(
        {"order_id": "202611010003"},
        "202611010003",
        metadata={"customer_token": "C1002.9999999999.forged"},
    )
    _, events = validate(tracker, domain)
    assert "verified_customer" not in slots_of(events)


def verified(order_id: str, customer: str, topic: str) -> dict:
    return {"verified_order": order_id, "verified_customer": customer, "order_topic": topic}


def test_status_in_transit(shop, domain):
    messages, events = answer(domain, verified("202611010001", "C1001", "status"))
    (m,) = messages
    assert m["response"] == "utter_order_in_transit"
    assert m["courier"] == "中通" and m["scan_location"] == "上海转运中心"
    assert m["scan_time"] == (NOW - timedelta(hours=6)).strftime("%Y-%m-%d %H:%M")
    assert SlotSet("order_id", None) in events


def test_delayed_parcel_is_detected(shop, domain):
    messages, _ = answer(domain, verified("202611010002", "C1001", "status"))
    assert [m["response"] for m in messages] == ["utter_order_in_transit", "utter_delay_no_scan"]
    assert messages[1]["hours"] == 96


def test_urge_creates_one_ticket_and_a_vip_coupon(shop, domain):
    messages, _ = answer(domain, verified("202611010002", "C1001", "urge"))
    responses = [m["response"] for m in messages]
    assert responses == [
        "utter_order_in_transit",
        "utter_urge_ticket",
        "utter_delay_compensation",
        "utter_ask_rating",
    ]
    ticket = messages[1]["ticket"]
    assert messages[2]["amount"] == 20  # 96 h: a long delay
    with sqlite3.connect(shop) as db:
        assert db.execute("SELECT kind, priority, order_id FROM tickets").fetchall() == [
            ("urge", "high", "202611010002")
        ]
        assert db.execute("SELECT customer_id FROM coupons").fetchall() == [("C1001",)]
    messages, _ = answer(domain, verified("202611010002", "C1001", "urge"))
    assert (
        messages[-1]["response"] == "utter_urge_ticket_exists" and messages[-1]["ticket"] == ticket
    )


def test_overdue_unshipped_order(shop, domain):
    messages, _ = answer(domain, verified("202611010008", "C1002", "status"))
    assert [m["response"] for m in messages] == [
        "utter_order_paid_unshipped",
        "utter_delay_unshipped",
    ]
    assert messages[1]["hours"] == 24


def test_parcel_on_time_is_not_urged(shop, domain):
    messages, _ = answer(domain, verified("202611010001", "C1001", "urge"))
    assert [m["response"] for m in messages] == ["utter_no_delay"]


@pytest.mark.parametrize(
    "order_id, customer, response",
    [
        ("202611010003", "C1002", "utter_return_eligible"),
        ("202611010004", "C1002", "utter_return_expired"),
        ("202611010005", "C1001", "utter_return_excluded_customized"),
        ("202611010006", "C1002", "utter_return_excluded_perishable"),
        ("202611010001", "C1001", "utter_return_not_signed"),
    ],
)
def test_return_eligibility(shop, domain, order_id, customer, response):
    messages, _ = answer(domain, verified(order_id, customer, "return"))
    assert messages[0]["response"] == response


def test_return_deadline_is_exact(shop, domain):
    messages, _ = answer(domain, verified("202611010003", "C1002", "return"))
    signed = NOW - timedelta(days=3)  # 2026-11-22 10:30 Shanghai
    assert messages[0]["signed_at"] == signed.strftime("%Y-%m-%d %H:%M")
    assert messages[0]["deadline"] == "2026-11-30 00:00"


def test_failed_payment_is_explained_from_the_recorded_reason(shop, domain):
    messages, _ = answer(domain, verified("202611010007", "C1001", "payment"))
    assert messages[0]["response"] == "utter_payment_failed_limit"
    assert messages[0]["method"] == "快捷支付"
    messages, _ = answer(domain, verified("202611010001", "C1001", "payment"))
    assert messages[0]["response"] == "utter_payment_already_paid"


def test_answer_refuses_an_order_of_another_customer(shop, domain):
    messages, _ = answer(domain, verified("202611010003", "C1001", "status"))
    assert messages[0]["response"] == "utter_verification_locked"
    assert "运动鞋" not in str(messages)


def test_every_uttered_response_exists(shop, domain):
    import re
    from pathlib import Path

    code = (
        Path(orders.__file__).read_text()
        + Path(__import__("dianxiaoer.shop.journeys", fromlist=["x"]).__file__).read_text()
    )
    # "utter_action" is Rasa's metadata key naming the response a bot message came from
    for name in set(re.findall(r'"(utter_[a-z_]+)"', code)) - {"utter_action"}:
        assert name in domain["responses"], name
    for reason in ("customized", "perishable", "digital", "periodical"):
        assert f"utter_return_excluded_{reason}" in domain["responses"]
    for reason in ("limit", "balance", "bank_maintenance", "network"):
        assert f"utter_payment_failed_{reason}" in domain["responses"]


def confirm(domain, slots: dict, intent: str = "affirm"):
    tracker = make_tracker([user_event("好的", intent)], slots=slots)
    return run_action(orders.ActionConfirmPending(), tracker, domain)


def test_eligible_return_is_offered_then_filed_with_an_rma(shop, domain):
    messages, events = answer(domain, verified("202611010003", "C1002", "return"))
    assert [m["response"] for m in messages] == ["utter_return_eligible", "utter_offer_return"]
    pending = slots_of(events)["pending_action"]
    assert pending.startswith("return:202611010003:")
    _, events = confirm(domain, {"pending_action": pending, "verified_customer": "C1002"})
    assert events == [FollowupAction("return_form")]
    tracker = make_tracker(
        [user_event("尺码不合适", "inform")],
        slots={
            "pending_action": pending,
            "verified_customer": "C1002",
            "return_reason": "尺码不合适",
        },
    )
    messages, events = run_action(orders.ActionSubmitReturn(), tracker, domain)
    assert messages[0]["response"] == "utter_return_created"
    assert messages[0]["rma"].startswith("RMA") and messages[0]["return_address"]
    with sqlite3.connect(shop) as db:
        assert db.execute("SELECT order_id, reason FROM returns").fetchall() == [
            ("202611010003", "尺码不合适")
        ]
    assert SlotSet("pending_action", None) in events
    # asked again: the filed return's progress (refund status), no second offer
    messages, _ = answer(domain, verified("202611010003", "C1002", "return"))
    assert [m["response"] for m in messages] == ["utter_return_status_requested"]
    assert messages[0]["rma"].startswith("RMA") and messages[0]["refund_amount"] == "359.00"


def test_cancel_unpaid_order_after_a_yes(shop, domain):
    messages, events = answer(domain, verified("202611010007", "C1001", "cancel"))
    assert messages[0]["response"] == "utter_confirm_cancel"
    pending = slots_of(events)["pending_action"]
    messages, _ = confirm(domain, {"pending_action": pending, "verified_customer": "C1001"})
    assert messages[0]["response"] == "utter_order_cancelled_now"
    with sqlite3.connect(shop) as db:
        assert db.execute("SELECT status FROM orders WHERE id='202611010007'").fetchone() == (
            "cancelled",
        )


def test_cancel_paid_unshipped_refunds_and_shipped_is_too_late(shop, domain):
    messages, events = answer(domain, verified("202611010008", "C1002", "cancel"))
    assert messages[0]["response"] == "utter_confirm_cancel_paid"
    messages, _ = confirm(
        domain, {"pending_action": slots_of(events)["pending_action"], "verified_customer": "C1002"}
    )
    assert messages[0]["response"] == "utter_order_cancelled_refund"
    messages, _ = answer(domain, verified("202611010001", "C1001", "cancel"))
    assert messages[0]["response"] == "utter_cancel_too_late"


def test_no_to_an_offer_changes_nothing(shop, domain):
    messages, events = confirm(
        domain, {"pending_action": "cancel:202611010007", "verified_customer": "C1001"}, "deny"
    )
    assert messages[0]["response"] == "utter_ok_deny"
    with sqlite3.connect(shop) as db:
        assert db.execute("SELECT status FROM orders WHERE id='202611010007'").fetchone() == (
            "unpaid",
        )


def test_pending_action_on_someone_elses_order_is_refused(shop, domain):
    messages, _ = confirm(
        domain, {"pending_action": "cancel:202611010008", "verified_customer": "C1001"}
    )
    assert messages[0]["response"] == "utter_ok_deny"
    with sqlite3.connect(shop) as db:
        assert db.execute("SELECT status FROM orders WHERE id='202611010008'").fetchone() == (
            "paid",
        )


def test_address_change_before_shipment_only(shop, domain):
    messages, events = answer(domain, verified("202611010008", "C1002", "address"))
    assert messages[0]["response"] == "utter_address_current"
    assert FollowupAction("address_form") in events
    pending = slots_of(events)["pending_action"]
    tracker = make_tracker(
        [user_event("x", "inform")],
        slots={
            "pending_action": pending,
            "verified_customer": "C1002",
            "new_address": "北京市海淀区中关村大街 1 号 李娜 13900005678",
        },
    )
    messages, _ = run_action(orders.ActionChangeAddress(), tracker, domain)
    assert messages[0]["response"] == "utter_address_changed"
    messages, _ = answer(domain, verified("202611010001", "C1001", "address"))
    assert messages[0]["response"] == "utter_address_too_late"


def test_address_validation(shop, domain):
    tracker = make_tracker(
        [user_event("x", "inform"), {"event": "slot", "name": "new_address", "value": "abc"}],
        slots={"requested_slot": "new_address", "new_address": "abc"},
    )
    tracker.active_loop = {"name": "address_form"}
    messages, events = run_action(orders.ValidateAddressForm(), tracker, domain)
    assert messages[0]["response"] == "utter_invalid_address"
    assert slots_of(events)["new_address"] is None


@pytest.mark.parametrize(
    "intent, response", [("affirm", "utter_anything_else"), ("deny", "utter_ok_deny")]
)
def test_yes_or_no_to_nothing_is_acknowledged(shop, domain, intent, response):
    messages, events = confirm(domain, {}, intent)
    assert [m["response"] for m in messages] == [response]


@pytest.mark.parametrize("status", ["requested", "approved", "received", "refunded", "rejected"])
def test_every_return_status_is_answered(shop, domain, status):
    item_id = repository.find_order("202611010003").items[0].id
    rma = repository.create_return("202611010003", item_id, "不喜欢", NOW)
    with sqlite3.connect(shop) as db:
        db.execute("UPDATE returns SET status=? WHERE rma=?", (status, rma))
    messages, _ = answer(domain, verified("202611010003", "C1002", "return"))
    assert messages[0]["response"] == f"utter_return_status_{status}"
    assert f"utter_return_status_{status}" in domain["responses"]


def test_status_of_a_returned_order_shows_the_refund_progress(shop, domain):
    item_id = repository.find_order("202611010003").items[0].id
    repository.create_return("202611010003", item_id, "不喜欢", NOW)
    messages, _ = answer(domain, verified("202611010003", "C1002", "status"))
    assert [m["response"] for m in messages] == [
        "utter_order_signed",
        "utter_return_status_requested",
    ]
