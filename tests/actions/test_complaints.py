"""Complaints, emotion per turn, escalation, ratings, 回访 and win-back on a real store."""

import sqlite3

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions import complaints as complaint_actions
from actions.complaints import (
    ActionComplaintStatus,
    ActionFollowUp,
    ActionHandleComplaint,
    ActionWinBack,
    ValidateSlotMappings,
)
from actions.orders import ActionConfirmPending
from actions.satisfaction import ActionRecordFeedback, ActionRecordRating
from tests.actions.test_orders import shop, slots_of  # noqa: F401
from tests.actions.trackers import make_tracker, run_action, user_event


def complain(domain, text, slots=None):
    tracker = make_tracker([user_event(text, "file_complaint")], slots=slots or {})
    return run_action(ActionHandleComplaint(), tracker, domain)


def ticket_row(db_path, number):
    with sqlite3.connect(db_path) as db:
        return db.execute(
            "SELECT kind, psychology, anger, priority, order_id, conversation_id"
            " FROM tickets WHERE number=?",
            (number,),
        ).fetchone()


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("什么破东西，气死我了，太让人失望了", "utter_complaint_venting"),
        ("我是你们的老客户了，叫你们主管出来", "utter_complaint_respect"),
        ("明明就是你们发错货了，你们承认不承认", "utter_complaint_recognition"),
        ("我做了十年电商，建议你们把包装流程改进一下", "utter_complaint_showing"),
    ],
)
def test_each_psychology_gets_its_strategy_a_ticket_and_a_followup(shop, domain, text, response):  # noqa: F811
    messages, events = complain(domain, text)
    names = [m["response"] for m in messages]
    assert names == [response, "utter_complaint_ticket", "utter_ask_rating"]
    ticket = slots_of(events)["last_ticket"]
    kind, psychology, _, _, _, conversation = ticket_row(shop, ticket)
    assert kind == "complaint" and response.endswith(psychology) and conversation == "test-user"
    (reminder,) = [e for e in events if e.get("event") == "reminder"]
    assert reminder["intent"] == "EXTERNAL_follow_up"
    assert reminder["entities"] == [{"entity": "ticket", "value": ticket}]


def test_vip_wanting_respect_is_acknowledged_as_vip(shop, domain):  # noqa: F811
    slots = {"verified_customer": "C1001", "verified_order": "202611010001"}
    messages, events = complain(domain, "我是老客户了，你们客服半天没人理我，太不尊重人", slots)
    assert messages[0]["response"] == "utter_complaint_respect_vip"
    _, _, _, priority, order_id, _ = ticket_row(shop, slots_of(events)["last_ticket"])
    assert priority == "high" and order_id == "202611010001"


def test_remedy_on_a_verified_order_offers_a_coupon_then_issues_it(shop, domain):  # noqa: F811
    slots = {"verified_customer": "C1002", "verified_order": "202611010004"}
    messages, events = complain(domain, "毛衣起球这么严重，必须给我补偿，运费也要赔", slots)
    assert [m["response"] for m in messages] == ["utter_complaint_remedy_offer"]
    assert messages[0]["amount"] == 10  # not a VIP
    pending = slots_of(events)["pending_action"]
    assert pending.startswith("compensate:202611010004:TS")
    tracker = make_tracker(
        [user_event("好的", "affirm")],
        slots={"pending_action": pending, "verified_customer": "C1002"},
    )
    messages, _ = run_action(ActionConfirmPending(), tracker, domain)
    assert [m["response"] for m in messages] == [
        "utter_complaint_coupon_issued",
        "utter_ask_rating",
    ]
    with sqlite3.connect(shop) as db:
        assert db.execute(
            "SELECT amount, customer_id FROM coupons WHERE code=?", (messages[0]["coupon"],)
        ).fetchone() == (10, "C1002")


def test_remedy_without_an_order_lists_the_options(shop, domain):  # noqa: F811
    messages, events = complain(domain, "东西坏了，必须给我退款，还要赔偿")
    assert messages[0]["response"] == "utter_complaint_remedy"
    assert "pending_action" not in slots_of(events)


def test_threat_escalates_with_top_priority(shop, domain):  # noqa: F811
    messages, events = complain(domain, "再不处理我就去12315投诉，还要发微博曝光你们")
    assert [m["response"] for m in messages][:2] == [
        "utter_complaint_revenge",
        "utter_complaint_escalated_threat",
    ]
    assert messages[2]["response"] in {"utter_handoff_queued", "utter_human_off_duty"}
    assert SlotSet("handoff_requested", True) in events
    _, psychology, anger, priority, _, _ = ticket_row(shop, slots_of(events)["last_ticket"])
    assert (psychology, priority) == ("revenge", "urgent") and anger >= 2


def test_second_angry_turn_in_a_row_escalates(shop, domain):  # noqa: F811
    messages, events = complain(domain, "气死我了！！什么垃圾服务", {"angry_turns": 2})
    assert messages[1]["response"] == "utter_complaint_escalated_anger"
    assert ticket_row(shop, slots_of(events)["last_ticket"])[3] == "high"


def test_anger_is_tracked_every_turn(domain):
    def turn(text, previous):
        tracker = make_tracker([user_event(text, "urge_delivery")], slots={"angry_turns": previous})
        _, events = run_action(ValidateSlotMappings(), tracker, domain)
        return slots_of(events)

    first = turn("气死我了！！怎么还没到", 0)
    assert first["anger"] >= 2 and first["angry_turns"] == 1
    assert turn("什么垃圾物流！！到底管不管", 1)["angry_turns"] == 2
    assert turn("好的谢谢", 2) == {"anger": 0.0, "angry_turns": 0.0}
    # button payloads do not reset the count
    assert turn('/rate_service{"rating": "1"}', 2) == {}


def test_complaint_status_by_conversation_and_verification_first(shop, domain):  # noqa: F811
    tracker = make_tracker([user_event("投诉怎么样了", "check_complaint_status")])
    _, events = run_action(ActionComplaintStatus(), tracker, domain)
    assert FollowupAction("verify_order_form") in events
    _, events = complain(domain, "我是你们的老客户了，叫你们主管出来")
    ticket = slots_of(events)["last_ticket"]
    messages, _ = run_action(ActionComplaintStatus(), tracker, domain)
    assert messages[0]["response"] == "utter_complaint_status_open"
    assert messages[0]["ticket"] == ticket


def test_low_rating_opens_a_ticket_and_the_comment_is_stored(shop, domain):  # noqa: F811
    tracker = make_tracker(
        [user_event('/rate_service{"rating": "1"}', "rate_service")],
        slots={"rating": "1", "last_journey": "return"},
    )
    messages, events = run_action(ActionRecordRating(), tracker, domain)
    assert messages[0]["response"] == "utter_rating_low"
    assert FollowupAction("feedback_form") in events
    rating_id = slots_of(events)["rating_id"]
    tracker = make_tracker(
        [user_event("客服回复太慢", "inform")],
        slots={"feedback_comment": "客服回复太慢", "rating_id": rating_id},
    )
    messages, _ = run_action(ActionRecordFeedback(), tracker, domain)
    assert messages[0]["response"] == "utter_feedback_thanks"
    with sqlite3.connect(shop) as db:
        row = db.execute("SELECT score, journey, comment, ticket_number FROM ratings").fetchone()
    assert row[:3] == (1, "return", "客服回复太慢") and row[3].startswith("PJ")


def test_rating_in_words_and_no_rating(shop, domain):  # noqa: F811
    tracker = make_tracker([user_event("非常满意", "rate_service")])
    messages, _ = run_action(ActionRecordRating(), tracker, domain)
    assert messages[0]["response"] == "utter_rating_thanks" and messages[0]["score"] == 5
    tracker = make_tracker([user_event("嗯", "rate_service")])
    messages, events = run_action(ActionRecordRating(), tracker, domain)
    assert messages[0]["response"] == "utter_ask_rating"
    assert not any(isinstance(e, dict) and e.get("name") == "feedback_form" for e in events)


def test_follow_up_reminder_reports_the_ticket(shop, domain):  # noqa: F811
    _, events = complain(domain, "我做了十年电商，建议你们把包装流程改进一下")
    ticket = slots_of(events)["last_ticket"]
    reminder = user_event("EXTERNAL_follow_up", "EXTERNAL_follow_up")
    reminder["parse_data"]["entities"] = [{"entity": "ticket", "value": ticket}]
    messages, _ = run_action(ActionFollowUp(), make_tracker([reminder]), domain)
    assert [m["response"] for m in messages] == ["utter_followup_open", "utter_ask_rating"]
    assert messages[0]["ticket"] == ticket
    # the same 回访 firing again (Rasa's reminder and the sweeper's recovery) stays quiet
    messages, events = run_action(ActionFollowUp(), make_tracker([reminder]), domain)
    assert messages == [] and events == []


def test_followup_delay_comes_from_the_environment(shop, domain, monkeypatch):  # noqa: F811
    from datetime import datetime, timezone

    _, events = complain(domain, "我做了十年电商，建议你们把包装流程改进一下")
    ticket = slots_of(events)["last_ticket"]
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    monkeypatch.setenv("FOLLOWUP_DELAY_SECONDS", "3")
    reminder = complaint_actions.followup_reminder(ticket, "chat-1", now)
    assert reminder["date_time"].startswith("2026-11-25T00:00:03")
    monkeypatch.delenv("FOLLOWUP_DELAY_SECONDS")
    assert complaint_actions.followup_reminder(ticket, "chat-1", now)["date_time"].startswith(
        "2026-11-25T00:30"
    )
    # recorded in the shop store too, due when the reminder is
    with sqlite3.connect(shop) as db:
        row = db.execute(
            "SELECT conversation_id, due_at, done_at FROM followups WHERE ticket = ?", (ticket,)
        ).fetchone()
    assert row[0] == "chat-1" and row[1].startswith("2026-11-25 00:30") and row[2] is None


def test_win_back_asks_the_cause_then_remedies_and_follows_up(shop, domain):  # noqa: F811
    tracker = make_tracker([user_event("再也不买了", "express_churn")])
    messages, events = run_action(ActionWinBack(), tracker, domain)
    assert messages[0]["response"] == "utter_winback_ask_cause" and events == []
    event = user_event('/express_churn{"churn_cause": "price"}', "express_churn")
    event["parse_data"]["entities"] = [{"entity": "churn_cause", "value": "price"}]
    messages, events = run_action(ActionWinBack(), make_tracker([event]), domain)
    assert messages[0]["response"] == "utter_winback_price"
    assert any(isinstance(e, dict) and e.get("event") == "reminder" for e in events)
    with sqlite3.connect(shop) as db:
        assert db.execute("SELECT count(*), max(cause) FROM churn_signals").fetchone() == (
            2,
            "price",
        )
        assert db.execute("SELECT kind FROM tickets WHERE kind='retention'").fetchone()
