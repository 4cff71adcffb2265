import sqlite3
from datetime import datetime

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet

from actions import human
from actions.fallback import ActionSuggestIntents
from actions.human import ActionAnswerServiceHours, ActionRequestHuman
from actions.inform import ActionHandleInform
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.core.text import to_traditional
from tests.actions.test_orders import shop  # noqa: F401  (fixture)
from tests.actions.trackers import make_tracker, run_action, user_event

AMBIGUOUS = [
    {"name": "nlu_fallback", "confidence": 0.4},
    {"name": "ask_shipping_policy", "confidence": 0.3},
    {"name": "affirm", "confidence": 0.2},
    {"name": "ask_return_policy", "confidence": 0.2},
    {"name": "request_human", "confidence": 0.1},
    {"name": "ask_payment_methods", "confidence": 0.09},
]


def test_first_miss_offers_top_three_questions_plus_none_and_human(domain):
    tracker = make_tracker(
        [
            {"event": "action", "name": "action_listen"},
            user_event("那个东西怎么弄啊", "nlu_fallback", 0.4, AMBIGUOUS),
        ]
    )
    messages, events = run_action(ActionSuggestIntents(), tracker, domain)
    assert events == []
    (message,) = messages
    assert message["response"] == "utter_fallback_suggest"
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads == [
        "/ask_shipping_policy",
        "/ask_return_policy",
        "/request_human",
        "/nlu_fallback",
        "/request_human",
    ]
    assert message["buttons"][0]["title"].endswith("？")


def test_second_miss_apologizes_with_menu_and_contact_and_escalates(shop, domain):  # noqa: F811
    tracker = make_tracker(
        [
            user_event("那个东西怎么弄啊", "nlu_fallback", 0.4, AMBIGUOUS),
            {"event": "action", "name": "action_suggest_intents"},
            {"event": "bot", "text": "您是想问"},
            {"event": "action", "name": "action_listen"},
            user_event("都不是", "nlu_fallback", 1.0),
        ]
    )
    messages, events = run_action(ActionSuggestIntents(), tracker, domain)
    final, queued = messages
    assert final["response"] == "utter_fallback_final"
    assert final["hotline"] == get_policy()["service.hotline"]
    # the question stayed unresolved twice: a priority ticket and a place in the queue,
    # without pausing the bot
    assert queued["response"] in {"utter_handoff_queued_by_bot", "utter_human_off_duty"}
    assert SlotSet("handoff_requested", True) in events
    assert ConversationPaused() not in events
    ticket = next(e["value"] for e in events if e.get("name") == "last_ticket")
    with sqlite3.connect(shop) as db:
        row = db.execute(
            "SELECT kind, priority, conversation_id FROM tickets WHERE number=?", (ticket,)
        ).fetchone()
        reason = db.execute("SELECT reason FROM handoffs").fetchone()
    assert row == ("handoff", "high", "test-user") and reason == ("fallback",)


def test_suggestion_buttons_follow_a_traditional_customer(domain):
    tracker = make_tracker(
        [
            user_event(
                "那个東西怎麼弄",
                "nlu_fallback",
                0.4,
                AMBIGUOUS,
                original="那個東西怎麼弄",
                script="traditional",
            ),
        ]
    )
    messages, _ = run_action(ActionSuggestIntents(), tracker, domain)
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles[-1] == to_traditional("转人工")
    assert all(t == to_traditional(t) for t in titles)


@pytest.mark.parametrize(
    ("on_duty", "response", "status"),
    [(True, "utter_handoff_queued", "waiting"), (False, "utter_human_off_duty", "callback")],
)
def test_request_human_queues_or_records_a_callback(
    shop,  # noqa: F811
    domain,
    monkeypatch,
    on_duty,
    response,
    status,
):
    hour = 10 if on_duty else 3
    monkeypatch.setattr(
        human,
        "humans_on_duty",
        lambda wd, we: __import__("dianxiaoer.core.service_hours", fromlist=["x"]).humans_on_duty(
            wd, we, datetime(2026, 11, 24, hour, tzinfo=SHANGHAI)
        ),
    )
    tracker = make_tracker(
        [user_event("我的快递到哪了", "urge_delivery"), user_event("转人工", "request_human")],
        slots={"verified_customer": "C1001"},
    )
    messages, events = run_action(ActionRequestHuman(), tracker, domain)
    assert SlotSet("handoff_requested", True) in events
    assert (ConversationPaused() in events) is on_duty
    assert messages[0]["response"] == response
    assert messages[0]["hotline"] == get_policy()["service.hotline"]
    assert response in domain["responses"]
    with sqlite3.connect(shop) as db:
        row = db.execute("SELECT status, skill_group, tier, customer_id FROM handoffs").fetchone()
    # VIP 张伟 about a parcel: 售后, VIP tier
    assert row == (status, "aftersale", 1, "C1001")
    if on_duty:
        assert messages[0]["position"] == 1 and messages[0]["wait_minutes"] >= 1


def test_service_hours_response_exists_for_both_states(domain):
    tracker = make_tracker([user_event("客服几点上班", "ask_service_hours")])
    messages, _ = run_action(ActionAnswerServiceHours(), tracker, domain)
    assert messages[0]["response"] in {
        "utter_service_hours_on_duty",
        "utter_service_hours_off_duty",
    }
    assert messages[0]["hours_weekdays"] == get_policy()["service.hours.weekdays"]


@pytest.mark.parametrize(
    "entities, response, value",
    [
        (
            [
                {"entity": "order_id", "value": "202611010001"},
                {"entity": "courier", "value": "中通"},
            ],
            "utter_got_order_id",
            "202611010001",
        ),
        ([{"entity": "product", "value": "连衣裙"}], "utter_got_product", "连衣裙"),
        ([{"entity": "phone_tail", "value": "1234"}], "utter_got_phone_tail", "1234"),
        ([], "utter_got_info", None),
    ],
)
def test_inform_acknowledges_the_most_specific_value(domain, entities, response, value):
    tracker = make_tracker([user_event("x", "inform", entities=entities)])
    messages, _ = run_action(ActionHandleInform(), tracker, domain)
    assert messages[0]["response"] == response
    assert messages[0].get("value") == value
    assert response in domain["responses"]


def test_unsure_intent_but_a_clear_knowledge_answer_is_answered(domain):
    """Below the NLU threshold, a question the FAQ answers clearly is answered at once."""
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.55},
        {"name": "ask_shipping_policy", "confidence": 0.4},
        {"name": "ask_faq", "confidence": 0.35},
    ]
    tracker = make_tracker(
        [user_event("你们默认发什么快递 能换顺丰吗", "nlu_fallback", 0.55, ranking)]
    )
    messages, events = run_action(ActionSuggestIntents(), tracker, domain)
    assert events == []
    (message,) = messages
    assert message["response"] != "utter_fallback_suggest"
    assert "buttons" not in message or not message["buttons"]


@pytest.mark.parametrize(
    ("intent", "response"), [("greet", "utter_greet"), ("thank", "utter_you_are_welcome")]
)
def test_likely_small_talk_is_answered_not_asked_back(domain, intent, response):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.55},
        {"name": intent, "confidence": 0.45},
        {"name": "ask_faq", "confidence": 0.2},
    ]
    tracker = make_tracker([user_event("亲亲在不在呀", "nlu_fallback", 0.55, ranking)])
    messages, _ = run_action(ActionSuggestIntents(), tracker, domain)
    assert [m["response"] for m in messages] == [response]


def test_a_missed_problem_report_goes_to_the_order_journey(domain):
    """Below the NLU threshold, a reported problem opens the order journey (acknowledged
    there by action_ask_order_id) instead of "您是想问"."""
    from rasa_sdk.events import FollowupAction

    ranking = [
        {"name": "nlu_fallback", "confidence": 0.55},
        {"name": "file_complaint", "confidence": 0.3},
        {"name": "ask_faq", "confidence": 0.2},
    ]
    tracker = make_tracker([user_event("鞋子做工粗糙 线头到处都是", "nlu_fallback", 0.55, ranking)])
    messages, events = run_action(ActionSuggestIntents(), tracker, domain)
    assert messages == []
    assert events == [SlotSet("order_topic", "quality"), FollowupAction("verify_order_form")]
