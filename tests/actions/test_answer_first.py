"""Answer first, then ask: a reported problem is acknowledged before the order number."""

from __future__ import annotations

from actions.orders import ActionAskOrderId, ActionAskPhoneTail
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
    # 还没发货 describes the order here: the cancel introduction, not a delivery apology
    responses, messages = _ask("还没发货 我想取消", "cancel_order", "cancel")
    assert responses == ["utter_order_intro_cancel", "utter_ask_order_id"]
    assert messages[0]["refund_days"] == 3


def test_a_request_with_no_named_problem_gets_what_the_shop_does_first():
    for text, intent, topic in [
        ("我想退货 该怎么操作", "request_return", "return"),
        ("麻烦快点发货", "urge_delivery", "urge"),
        ("东西用着不对劲", "report_quality_problem", "quality"),
        ("付完款想把发票改成公司", "request_invoice", "invoice"),
    ]:
        responses, messages = _ask(text, intent, topic)
        assert responses == [f"utter_order_intro_{topic}", "utter_ask_order_id"], text
        assert "quality_days" in messages[0]


def _ask_tail(text: str, intent: str, topic: str, requested: str | None = None):
    tracker = make_tracker(
        [user_event(text, intent)], {"order_topic": topic, "requested_slot": requested}
    )
    messages, events = run_action(ActionAskPhoneTail(), tracker, {})
    return [m["response"] for m in messages], events


def test_an_order_number_sent_with_a_problem_gets_the_acknowledgement_before_the_tail():
    # the form starts at the phone tail: the problem is answered first, and a status
    # question that reports one becomes that problem's journey
    responses, events = _ask_tail(
        "202611010001 买的苹果是烂的 售后还不给处理", "check_order_status", "status"
    )
    assert responses == ["utter_problem_spoiled", "utter_ask_phone_tail"]
    assert events == [
        {"event": "slot", "timestamp": None, "name": "order_topic", "value": "quality"}
    ]
    # a journey already about the problem keeps its topic
    responses, events = _ask_tail("202611010001 少寄了一件", "report_quality_problem", "quality")
    assert responses == ["utter_problem_missing_part", "utter_ask_phone_tail"] and events == []


def test_the_tail_after_the_order_number_question_is_only_asked():
    # the problem was acknowledged with the order-number question already
    assert _ask_tail("202611010001", "inform", "quality", requested="order_id")[0] == [
        "utter_ask_phone_tail"
    ]
    assert _ask_tail("12", "inform", "quality", requested="phone_tail")[0] == [
        "utter_ask_phone_tail"
    ]
    # a plain status question with its number: only the question
    assert _ask_tail("202611010001 到哪了", "check_order_status", "status") == (
        ["utter_ask_phone_tail"],
        [],
    )


def _confirm(text: str, intent: str, last_bot: str | None = None):
    from actions.orders import ActionConfirmPending

    events = []
    if last_bot:
        events.append({"event": "bot", "text": "…", "metadata": {"utter_action": last_bot}})
    events.append(user_event(text, intent))
    messages, _ = run_action(ActionConfirmPending(), make_tracker(events, {}), {})
    return [m["response"] for m in messages]


def test_a_closing_no_says_goodbye_instead_of_asking_again():
    assert _confirm("没了 谢谢", "deny") == ["utter_goodbye"]
    assert _confirm("不用了 就这些", "deny") == ["utter_goodbye"]
    # a plain no right after "还有其他需要吗" closes too
    assert _confirm("没有", "deny", last_bot="utter_anything_else") == ["utter_goodbye"]


def test_a_plain_no_to_nothing_in_particular_still_asks():
    assert _confirm("不是", "deny") == ["utter_ok_deny"]
    assert _confirm("好的", "affirm") == ["utter_anything_else"]
