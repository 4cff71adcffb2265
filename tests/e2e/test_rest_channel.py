"""End-to-end: the real Rasa and action servers, over the REST webhook contract."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
import requests
import yaml

from dianxiaoer.policy import get_policy
from dianxiaoer.settings import PROJECT_ROOT
from dianxiaoer.text import to_traditional

pytestmark = pytest.mark.e2e

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def variants(name: str, traditional: bool = False, **values) -> set[str]:
    merged = {**get_policy().reply_values(), **values}
    texts = {v["text"].format(**merged) for v in RESPONSES[name]}
    return {to_traditional(t) for t in texts} if traditional else texts


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def test_greeting(servers):
    replies = servers.send(sender(), "你好")
    assert [r["text"] for r in replies] == [replies[0]["text"]]
    assert replies[0]["text"] in variants("utter_greet")


def test_traditional_customer_is_answered_in_traditional(servers):
    who = sender()
    first = servers.send(who, "請問可以用花唄付款嗎")
    assert first[0]["text"] in variants("utter_payment_methods", traditional=True)
    # a script-neutral follow-up keeps the customer's script
    follow = servers.send(who, "ok")
    assert follow[0]["text"] in variants("utter_anything_else", traditional=True)


def test_policy_figures_come_from_the_policy_file(servers):
    reply = servers.send(sender(), "七天无理由怎么算")[0]["text"]
    assert reply in variants("utter_return_policy")
    assert str(get_policy()["returns.no_reason_hours"]) in reply


@pytest.mark.parametrize("message", ["", "   ", "😀😀😀", "？？？", "👍👍"])
def test_empty_emoji_and_punctuation_get_a_polite_answer(servers, message):
    replies = servers.send(sender(), message)
    assert replies and replies[0]["text"] in variants("utter_gibberish")


def test_over_long_message_is_answered_with_a_notice(servers):
    text = "你好，我想问一下你们的退货政策，七天无理由怎么算，" * 40
    replies = servers.send(sender(), text)
    notice = RESPONSES["utter_notice_truncated"][0]["text"]
    assert replies[0]["text"].startswith(notice)
    assert len(replies[0]["text"]) > len(notice)


def test_other_language_gets_a_bilingual_reply(servers):
    replies = servers.send(sender(), "Hi, where is my parcel? I ordered it last week.")
    assert replies[0]["text"] in variants("utter_other_language")


def test_bot_admits_being_a_bot(servers):
    reply = servers.send(sender(), "你是机器人吗")[0]["text"]
    assert reply in variants("utter_iamabot") and "机器人" in reply or "自动" in reply


def test_menu_has_topic_buttons(servers):
    reply = servers.send(sender(), "你能做什么")[0]
    payloads = [b["payload"] for b in reply["buttons"]]
    assert "/ask_return_policy" in payloads and "/request_human" in payloads


def test_two_stage_fallback(servers):
    who = sender()
    first = servers.send(who, "/nlu_fallback")
    assert first[0]["text"] in variants("utter_fallback_suggest")
    assert [b["payload"] for b in first[0]["buttons"]][-2:] == ["/nlu_fallback", "/request_human"]
    second = servers.send(who, "/nlu_fallback")  # the "都不是" button
    assert second[0]["text"] in variants("utter_fallback_final")
    assert get_policy()["service.hotline"] in second[0]["text"]
    # a pick from the menu is answered
    third = servers.send(who, "/ask_shipping_policy")
    assert third[0]["text"] in variants("utter_shipping_policy")


def test_request_for_a_human_is_flagged_in_the_tracker_store(servers):
    who = sender()
    reply = servers.send(who, "转人工")[0]["text"]
    assert reply in variants("utter_human_on_duty") | variants("utter_human_off_duty")
    assert get_policy()["service.hotline"] in reply
    with sqlite3.connect(servers.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot'", (who,)
        ).fetchall()
    slots = [json.loads(r[0]) for r in rows]
    assert {"name": "handoff_requested", "value": True} in [
        {"name": s["name"], "value": s["value"]} for s in slots
    ]


def test_bare_order_number(servers):
    reply = servers.send(sender(), "202611010001")[0]["text"]
    assert reply in variants("utter_got_order_id", value="202611010001")


def test_conversations_are_kept_apart(servers):
    a, b = sender(), sender()
    servers.send(a, "你好嗎")
    reply_b = servers.send(b, "ok")[0]["text"]
    assert reply_b in variants("utter_anything_else")  # b never wrote traditional


@pytest.mark.parametrize(
    "body",
    ["not json", json.dumps({"sender": "x"}), json.dumps({"message": 42})],
)
def test_malformed_requests_do_not_crash_the_server(servers, body):
    r = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code < 500
    # and the server still answers
    assert servers.send(sender(), "你好")
