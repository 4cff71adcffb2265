"""Conversations with known outcomes in a temporary tracker store (Rasa's `events` schema,
events as Rasa serialises them) and a temporary shop store (migrated, demo data).

Day 1 = 2026-11-02, day 2 = 2026-11-03, day 3 = 2026-11-04 (Asia/Shanghai).

- c-faq (day 1, rest): greet, two knowledge answers, goodbye: resolved;
- c-only-fb (day 1, socketio): one message, a fallback: only fallbacks;
- c-two-fb (day 1, rest): greet, two fallbacks in a row -> handoff (fallback), never taken;
- c-handback (day 2, socketio): 转人工 (asked), claimed after 120 s, first reply 30 s
  later, a customer message to the agent, handed back, rating 5, thanks;
- c-revenge (day 2, rest): revenge complaint, escalated (threat) -> handoff (revenge);
- c-venting (day 2, rest): venting complaint, rating 2 (low);
- c-delay (day 2, rest): 催件: no-scan delay, urge ticket, coupon, rating 4;
- c-return (day 2, rest): an excluded item refused, a return filed, rating 5;
- c-training (day 2, rest): staff training (training_mode set), a fallback: excluded;
- c-sessions (days 1 and 3, rest): two sessions: a knowledge answer; a low-confidence one;
- c-reminder (day 3): a session with only a 回访 reminder: not a conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from synthetic_analytics import Chat, TrackerWriter, user_event

from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.store import handoffs, repository
from dianxiaoer.store.db import session_scope, upgrade
from dianxiaoer.store.demo import load_demo_data
from dianxiaoer.store.models import OrderItem

DAY1 = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)
DAY2 = datetime(2026, 11, 3, 15, 0, tzinfo=SHANGHAI)
DAY3 = datetime(2026, 11, 4, 9, 0, tzinfo=SHANGHAI)


@dataclass
class Stores:
    tracker: str
    shop: str
    log: object
    numbers: dict = field(default_factory=dict)


def _faq(chat: Chat, text: str, title: str, confidence: float = 0.92, intent="ask_faq"):
    return chat.say(text, intent, confidence).act(
        "action_answer_knowledge", ("utter_knowledge_faq", "……", {"title": title})
    )


def build(tmp_path, tracker: str | None = None, shop: str | None = None) -> Stores:
    """Write the conversations (default: SQLite files in `tmp_path`); the unanswered log."""
    tracker = tracker or f"sqlite:///{tmp_path / 'tracker.db'}"
    shop = shop or f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade(shop)
    with session_scope(shop) as session:
        load_demo_data(session, now=DAY1 - timedelta(days=3))
    with session_scope(shop) as session:
        item, order_id = session.execute(
            select(OrderItem.id, OrderItem.order_id).order_by(OrderItem.id)
        ).first()
    w = TrackerWriter(tracker)
    numbers: dict[str, str] = {}

    # c-faq: resolved, two knowledge entries
    c = Chat(w, "c-faq", DAY1).session()
    c.say("你好", "greet").act("utter_greet", ("utter_greet", "亲，您好！")).listen()
    _faq(c, "运费怎么算", "运费说明").listen()
    c.say("什么是DSR", "ask_term", 0.88).act(
        "action_answer_knowledge", ("utter_knowledge_term", "DSR是…", {"title": "DSR"})
    ).listen()
    c.say("再见", "goodbye").act("utter_goodbye", ("utter_goodbye", "再见")).listen()

    # c-only-fb: one message, which falls back
    c = Chat(w, "c-only-fb", DAY1 + timedelta(hours=1), channel="socketio").session()
    c.fallback("你们老板是谁", "ask_faq", 0.40, "out_of_scope").listen()

    # c-two-fb: two fallbacks in a row, the second queues for a human (not paused)
    c = Chat(w, "c-two-fb", DAY1 + timedelta(hours=2)).session()
    c.say("你好", "greet").act("utter_greet", ("utter_greet", "亲，您好！")).listen()
    c.fallback("我的订单202611010001能寄到国外吗", "ask_shipping_policy", 0.45, "ask_faq")
    c.listen()
    c.wait(5)
    ticket = repository.create_ticket(
        "handoff",
        c.time(),
        priority="high",
        url=shop,
        conversation_id="c-two-fb",
        details={"reason": "unresolved"},
    )
    handoffs.enqueue("c-two-fb", "presale", "fallback", 2, c.time(), url=shop)
    c.fallback(
        "能寄到国外吗？？", "ask_shipping_policy", 0.42, "ask_faq", second=True, ticket=ticket
    ).listen()
    numbers["handoff_ticket"] = ticket

    # c-handback: asked for a human, claimed, answered, handed back, rated
    c = Chat(w, "c-handback", DAY2 - timedelta(seconds=30), channel="socketio").session()
    c.at(DAY2).say("转人工", "request_human", 0.97, gap=0)
    handoffs.enqueue("c-handback", "aftersale", "asked", 3, DAY2, url=shop)
    c.act(
        "action_request_human",
        ("utter_handoff_queued", "排队第1位"),
        slots={"handoff_requested": True},
    ).pause().listen()
    c.at(DAY2 + timedelta(seconds=120))
    assert handoffs.claim("c-handback", "wangfang", c.time(), url=shop)
    c.pause().slot("agent_name", "王芳").bot("utter_agent_joined", "王芳为您服务")
    c.at(DAY2 + timedelta(seconds=150))
    c.agent("您好，我是王芳", gap=0)
    handoffs.record_reply("c-handback", "wangfang", c.time(), url=shop)
    c.say("好的我的手机13912345678", "inform", 0.5, gap=10)  # to the agent: a human turn
    c.agent("收到", gap=10)
    c.at(DAY2 + timedelta(seconds=300))
    assert handoffs.close("c-handback", "wangfang", "已处理", c.time(), url=shop)
    c.resume().slot("handoff_requested", False).slot("last_journey", "human")
    c.bot("utter_handback", "店小二继续为您服务").listen()
    c.say("5", "rate_service", 0.99)
    repository.record_rating("c-handback", 5, "human", c.time(), url=shop)
    c.act("action_record_rating", ("utter_rating_thanks", "谢谢")).listen()
    c.say("谢谢", "thank").act("utter_you_are_welcome", ("utter_you_are_welcome", "不客气"))
    c.listen()

    # c-revenge: escalated complaint (threat) -> handoff (revenge), waiting
    c = Chat(w, "c-revenge", DAY2 + timedelta(hours=1)).session()
    c.say("再不处理我就去12315投诉你们", "file_complaint", 0.9)
    number = repository.create_complaint(
        c.time(),
        "c-revenge",
        "revenge",
        3,
        "urgent",
        {"types": ["revenge"], "threat": True, "escalated": "threat"},
        url=shop,
    )
    handoffs.enqueue("c-revenge", "complaint", "revenge", 0, c.time(), url=shop)
    c.act(
        "action_handle_complaint",
        ("utter_complaint_revenge", "非常抱歉", {"ticket": number}),
        ("utter_complaint_escalated_threat", "已升级", {"ticket": number}),
        ("utter_handoff_queued", "排队中"),
        slots={"last_ticket": number, "last_journey": "complaint", "handoff_requested": True},
    ).pause().listen()
    numbers["revenge"] = number

    # c-venting: complaint, low rating
    c = Chat(w, "c-venting", DAY2 + timedelta(hours=2)).session()
    c.say("质量太差了气死我了", "file_complaint", 0.93)
    number = repository.create_complaint(
        c.time(),
        "c-venting",
        "venting",
        1,
        "normal",
        {"types": ["venting"], "threat": False, "escalated": ""},
        url=shop,
    )
    c.act(
        "action_handle_complaint",
        ("utter_complaint_venting", "抱歉", {"ticket": number}),
        ("utter_complaint_ticket", "工单", {"ticket": number}),
        ("utter_ask_rating", "请评价"),
        slots={"last_ticket": number, "last_journey": "complaint"},
    ).listen()
    c.say("2", "rate_service", 0.99)
    repository.record_rating("c-venting", 2, "complaint", c.time(), url=shop)
    feedback = repository.create_ticket(
        "feedback",
        c.time(),
        priority="high",
        url=shop,
        conversation_id="c-venting",
        details={"score": 2, "journey": "complaint"},
    )
    c.act("action_record_rating", ("utter_rating_low", "抱歉", {"ticket": feedback})).listen()
    numbers["venting"] = number

    # c-delay: delay found, urge ticket and coupon, rating 4
    c = Chat(w, "c-delay", DAY2 + timedelta(hours=3)).session()
    c.say("我的耳机怎么还没到", "urge_delivery", 0.9)
    urge = repository.create_ticket(
        "urge", c.time(), order_id, priority="high", details={"hours": 60}, url=shop
    )
    c.act(
        "action_answer_order",
        ("utter_delay_no_scan", "60小时没有物流记录"),
        ("utter_urge_ticket", "已催件", {"ticket": urge}),
        ("utter_delay_compensation", "优惠券", {"coupon": "QY1"}),
        ("utter_ask_rating", "请评价"),
        slots={"last_journey": "delay", "last_ticket": urge},
    ).listen()
    c.say("4", "rate_service", 0.99)
    repository.record_rating("c-delay", 4, "delay", c.time(), url=shop)
    c.act("action_record_rating", ("utter_rating_thanks", "谢谢")).listen()
    numbers["urge"] = urge

    # c-return: one item refused (customized), another returned, rating 5
    c = Chat(w, "c-return", DAY2 + timedelta(hours=4)).session()
    c.say("定制的T恤能退吗", "request_return", 0.9).act(
        "action_answer_order", ("utter_return_excluded_customized", "定制商品不支持")
    ).listen()
    c.say("那连衣裙呢", "request_return", 0.6)
    rma = repository.create_return(order_id, item, "尺码不合适", c.time(), url=shop)
    c.act(
        "action_submit_return",
        ("utter_return_created", "退货单", {"rma": rma, "order_id": order_id}),
        ("utter_ask_rating", "请评价"),
        slots={"last_journey": "return"},
    ).listen()
    c.say("5", "rate_service", 0.99)
    repository.record_rating("c-return", 5, "return", c.time(), url=shop)
    c.act("action_record_rating", ("utter_rating_thanks", "谢谢")).listen()
    numbers["rma"] = rma

    # c-training: staff practice, excluded everywhere
    c = Chat(w, "c-training", DAY2 + timedelta(hours=5)).session()
    c.say("/start_training", "start_training", 1.0).act(
        "action_start_training", ("utter_training_menu", "培训"), slots={"training_mode": "quiz"}
    ).listen()
    c.fallback("培训里的一个怪问题", "ask_faq", 0.3, "ask_term").listen()
    repository.record_rating("c-training", 1, "", c.time(), url=shop)

    # c-sessions: two sessions (day 1 and day 3)
    c = Chat(w, "c-sessions", DAY1 + timedelta(hours=3)).session()
    _faq(c, "运费多少钱", "运费说明", 0.95).listen()
    c.at(DAY3).session()
    c.say("你好", "greet").act("utter_greet", ("utter_greet", "您好")).listen()
    _faq(c, "这个东西怎么弄", "运费说明", 0.62).listen()

    # c-reminder: a session with only the 回访 reminder (no customer message)
    c = Chat(w, "c-reminder", DAY3 + timedelta(hours=1)).session()
    reminder = user_event(
        c.time().timestamp() + 1,
        "EXTERNAL: EXTERNAL_follow_up",
        "EXTERNAL_follow_up",
        1.0,
        channel=None,
        metadata={"is_external": True},
    )
    c.emit(reminder).act("action_follow_up", ("utter_followup_open", "回访")).listen()
    w.flush()

    log = tmp_path / "unanswered.jsonl"
    records = [
        # the same message as c-two-fb's first fallback: counted once
        ("c-two-fb", "我的订单202611010001能寄到国外吗", "ask_shipping_policy", DAY1),
        ("x-log", "店铺有线下门店吗", "ask_faq", DAY1),
        ("x-log2", "店铺有线下门店吗？", "ask_faq", DAY2),
        ("x-log3", "我叫李娜，手机尾号5678，能开专票吗", "ask_faq", DAY2),
        ("x-old", "很久以前的问题", "ask_faq", DAY1 - timedelta(days=30)),
    ]
    log.write_text(
        "".join(
            json.dumps(
                {"time": t.isoformat(), "sender_id": s, "text": x, "intent": i, "candidates": []},
                ensure_ascii=False,
            )
            + "\n"
            for s, x, i, t in records
        ),
        encoding="utf-8",
    )
    return Stores(tracker, shop, log, numbers)


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> Stores:
    return build(tmp_path_factory.mktemp("analytics"))
