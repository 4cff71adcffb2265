"""Answer first, then ask: a reported problem is acknowledged before the order number."""

from __future__ import annotations

from actions.orders import ActionAskOrderId
from tests.actions.trackers import make_tracker, run_action, user_event


def _ask(text: str, intent: str, topic: str, requested: str | None = None):
    tracker = make_tracker(
        [user_event(text, intent)], {"order_topic": topic, "requested_slot": requested}
    )
    messages, events = run_action(ActionAskOrderId(), tracker, {})
    assert events == []
    return [m["response"] for m in messages], messages


def test_a_problem_report_is_acknowledged_with_the_policy_then_the_question():
    responses, messages = _ask("卫衣洗了一次就缩水了", "report_quality_problem", "quality")
    assert responses == ["utter_problem_shrinking", "utter_ask_order_id"]
    # the policy figures go with the reply (the NLG fills the placeholders)
    assert messages[0]["quality_days"] == 15


def test_missing_parts_and_signed_not_received():
    assert _ask("盒子里少了一个充电头", "report_quality_problem", "quality")[0][0] == (
        "utter_problem_missing_part"
    )
    assert _ask("顯示簽收了但是我沒收到", "check_order_status", "status")[0][0] == (
        "utter_problem_signed_not_received"
    )


def test_a_plain_question_is_only_asked():
    assert _ask("我的快递到哪了", "check_order_status", "status")[0] == ["utter_ask_order_id"]


def test_asked_again_after_a_wrong_format_no_second_apology():
    responses, _ = _ask("洗了就缩水", "report_quality_problem", "quality", requested="order_id")
    assert responses == ["utter_ask_order_id"]


def test_cancel_or_address_topics_are_not_complaints():
    assert _ask("还没发货 我想取消", "cancel_order", "cancel")[0] == ["utter_ask_order_id"]
