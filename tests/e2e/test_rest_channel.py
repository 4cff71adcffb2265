"""End-to-end: the real Rasa and action servers, over the REST webhook contract."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
import requests
import yaml

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import to_traditional

pytestmark = pytest.mark.e2e

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def variants(name: str, traditional: bool = False, **values) -> set[str]:
    merged = {**get_policy().reply_values(), **values}
    texts = {v["text"].format(**merged) for v in RESPONSES[name]}
    return {to_traditional(t) for t in texts} if traditional else texts


def knowledge_reply(entry_id: str, traditional: bool = False, english: bool = False) -> str:
    """The reply the knowledge action gives for an entry, rendered as the server would."""
    from dianxiaoer.knowledge.base import answer_response, get_knowledge_base

    entry = get_knowledge_base().by_id[entry_id]
    response, fields = answer_response(entry, get_policy().reply_values(), english=english)
    text = RESPONSES[response][0]["text"].format(**fields)
    return to_traditional(text) if traditional else text


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def test_greeting(servers):
    replies = servers.send(sender(), "你好")
    assert [r["text"] for r in replies] == [replies[0]["text"]]
    assert replies[0]["text"] in variants("utter_greet")


def test_traditional_customer_is_answered_in_traditional(servers):
    who = sender()
    first = servers.send(who, "請問可以用花唄付款嗎")
    assert first[0]["text"] in {
        knowledge_reply("faq.huabei_instalment", traditional=True),
        knowledge_reply("faq.payment_methods", traditional=True),
    }
    # a script-neutral follow-up keeps the customer's script
    follow = servers.send(who, "ok")
    assert follow[0]["text"] in variants("utter_anything_else", traditional=True)


def test_policy_figures_come_from_the_policy_file(servers):
    reply = servers.send(sender(), "七天无理由怎么算")[0]["text"]
    assert reply == knowledge_reply("faq.seven_day_return")
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
    assert third[0]["text"] == knowledge_reply("faq.ship_time")


def test_request_for_a_human_is_flagged_in_the_tracker_store(servers):
    who = sender()
    reply = servers.send(who, "转人工")[0]["text"]
    assert "排队" in reply or reply in variants("utter_human_off_duty")
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


@pytest.mark.parametrize(
    "question, entry_id, traditional, english",
    [
        ("什么是转换成本", "exam.66", False, False),
        ("客户忠诚有哪几种类型", "exam.65", False, False),
        ("Customer loyalty 是什么意思", "glossary.customer_loyalty", False, True),
        ("什麼是求實心理", "term.p2.qiushi", True, False),
        ("发泄心理是什么意思", "term.p5.faxie", False, False),
        ("ACD的两个功能模块是什么", "exam.92", False, False),
        ("退款多久能到账", "faq.refund_time", False, False),
        ("可以开发票吗", "faq.invoice", False, False),
        ("優惠券可以疊加使用嗎", "faq.coupon_use", True, False),
        ("买完降价了能补差价吗", "faq.price_protection", False, False),
        ("哪些商品不支持七天无理由", "faq.return_exclusions", False, False),
        ("付款后多久发货", "faq.ship_time", False, False),
    ],
)
def test_knowledge_questions_get_the_right_answer(
    servers, question, entry_id, traditional, english
):
    reply = servers.send(sender(), question)[0]["text"]
    assert reply == knowledge_reply(entry_id, traditional=traditional, english=english)


def test_list_answer_is_complete_and_numbered(servers):
    reply = servers.send(sender(), "客户忠诚有哪几种类型")[0]["text"]
    for i, item in enumerate(
        ["垄断忠诚", "惰性忠诚", "潜在忠诚", "方便忠诚", "价格忠诚", "激励忠诚", "超值忠诚"], 1
    ):
        assert f"{i}. {item}" in reply


def test_suggestion_button_answers_the_chosen_entry(servers):
    reply = servers.send(sender(), '/ask_term{"knowledge_id": "exam.68"}')[0]["text"]
    assert reply == knowledge_reply("exam.68")


def test_a_term_the_knowledge_base_lacks_gets_suggestions_and_no_apology(servers):
    # found by profiling: the suggestions used to be followed by the core fallback's apology
    suggested = 0
    for question in ("什么是DSR", "DSR是什么意思", "请问术语DSR指的是什么"):
        who = sender()
        texts = [r.get("text", "") for r in servers.send(who, question)]
        assert texts and not any("没能处理这个问题" in t for t in texts), texts
        suggested += any(t in variants("utter_fallback_suggest") for t in texts)
        # the conversation goes on normally
        assert servers.send(who, "你好")[0]["text"] in variants("utter_greet")
    assert suggested >= 1
