"""Faults: the action server down, the shop store unavailable, Rasa killed in a form.

Each runs on the fault stack (tests/survival/conftest.py), never on the session servers.
"""

from __future__ import annotations

import uuid

import pytest

from dianxiaoer.core.resilience import holding_reply, store_apology

pytestmark = pytest.mark.e2e

ORDER_SECRETS = ("运动鞋", "SF1234567890123", "北京市朝阳区", "13900005678")


def sender() -> str:
    return f"fault-{uuid.uuid4().hex[:10]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def test_action_server_down_gets_a_holding_reply_and_the_conversation_goes_on(fault_stack):
    who = sender()
    assert fault_stack.send(who, "你好")
    fault_stack.stop_actions()
    try:
        down = fault_stack.send(who, "七天无理由怎么算")
        assert texts(down) == holding_reply()
        # the message is kept: the tracker store has it, with the holding reply after it
        assert fault_stack.user_texts(who)[-1] == "七天无理由怎么算"
    finally:
        fault_stack.start_actions()
    # back: the same conversation goes on, a return through order verification
    assert "订单号" in texts(fault_stack.send(who, "我想退货"))
    answer = texts(fault_stack.send(who, "202611010003"))
    assert asks_phone_tail(answer), answer
    answer = texts(fault_stack.send(who, "5678"))
    assert "七天无理由" in answer and "运动鞋" in answer, answer


def asks_phone_tail(text: str) -> bool:
    """Whether a reply is one of utter_ask_phone_tail's variations."""
    return "后四位" in text or "最后4位" in text


def socket_turn(url: str, session: str, text: str, wait: float = 60) -> list[str]:
    """One widget turn over socket.io: the bot messages received within a few seconds."""
    import queue

    import socketio

    received: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("session_confirm", lambda data: received.put(("confirm", data)))
    client.on("bot_uttered", lambda data: received.put(("bot", data.get("text"))))
    client.connect(f"{url}?session_id={session}", transports=["polling"])
    try:
        client.emit("session_request", {"session_id": session})
        assert received.get(timeout=30) == ("confirm", session)
        client.emit("user_uttered", {"message": text, "session_id": session})
        texts = [received.get(timeout=wait)[1]]
        while True:  # the rest of the turn's messages, if any
            try:
                texts.append(received.get(timeout=3)[1])
            except queue.Empty:
                return texts
    finally:
        client.disconnect()


def test_widget_gets_the_holding_reply_too_when_the_action_server_is_down(fault_stack):
    session = sender()
    assert socket_turn(fault_stack.rasa_url, session, "你好")
    fault_stack.stop_actions()
    try:
        assert socket_turn(fault_stack.rasa_url, session, "七天无理由怎么算") == [holding_reply()]
        assert fault_stack.user_texts(session)[-1] == "七天无理由怎么算"
    finally:
        fault_stack.start_actions()
    assert any("订单号" in t for t in socket_turn(fault_stack.rasa_url, session, "我想退货"))


def test_shop_store_unavailable_gets_an_apology_and_nothing_is_lost(fault_stack):
    who = sender()
    fault_stack.send(who, "帮我查一下订单")
    assert asks_phone_tail(texts(fault_stack.send(who, "202611010003")))
    fault_stack.outage.begin()
    try:
        during = texts(fault_stack.send(who, "5678"))
        assert store_apology() in during, (fault_stack.outage.kind, during)
        assert not any(secret in during for secret in ORDER_SECRETS), during
        assert fault_stack.user_texts(who)[-1] == "5678"
    finally:
        fault_stack.outage.end()
    # the form asked for the phone tail again; now it is answered
    answer = texts(fault_stack.send(who, "5678"))
    assert "运动鞋" in answer and "签收" in answer, answer


def test_rasa_killed_in_the_middle_of_a_form_resumes_from_the_tracker_store(fault_stack):
    who = sender()
    assert "订单号" in texts(fault_stack.send(who, "这个我想退货"))
    assert asks_phone_tail(texts(fault_stack.send(who, "202611010003")))
    fault_stack.kill_rasa()
    fault_stack.start_rasa()
    # a new Rasa process: the form, its filled order number and the question come back
    answer = texts(fault_stack.send(who, "5678"))
    assert "七天无理由" in answer and "运动鞋" in answer, answer
