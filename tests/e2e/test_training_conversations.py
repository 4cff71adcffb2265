"""End-to-end staff training over REST: a full quiz round and a full role-play."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from dianxiaoer.coaching import quiz, roleplay
from tests.e2e.test_order_journeys import texts
from tests.quiz_answers import right_answer, wrong_answer

pytestmark = pytest.mark.e2e


def trainee() -> str:
    return f"trainee-{uuid.uuid4().hex[:10]}"


def latest_slot(servers, who: str, slot: str):
    """The latest value of a slot as stored in the SQL tracker store."""
    with sqlite3.connect(servers.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id=? AND type_name='slot' ORDER BY id DESC",
            (who,),
        ).fetchall()
    for (data,) in rows:
        event = json.loads(data)
        if event.get("name") == slot:
            return event.get("value")
    return None


def test_full_quiz_round_and_leaving_training(servers):
    who = trainee()
    menu = servers.send(who, "我是新来的客服，想练习一下")
    assert "练习" in texts(menu)
    assert {"术语测验", "模拟投诉顾客", "退出练习"} <= {b["title"] for b in menu[-1]["buttons"]}

    first = texts(servers.send(who, "开始术语测验"))
    assert "术语测验" in first and "第1/5题" in first
    answered_right, missed = 0, []
    for n in range(5):
        state = latest_slot(servers, who, "quiz_state")
        assert state["i"] == n
        q = quiz.question(state["ids"][n])
        assert q.kind in {"term_to_meaning", "meaning_to_term", "explain"}  # the focus asked
        good = n % 2 == 0
        reply = texts(servers.send(who, right_answer(q) if good else wrong_answer(q)))
        answered_right += good
        missed += [] if good else [q.id]
        assert ("✔" in reply) == good and ("✘" in reply) == (not good), reply
        assert q.reference.split("】")[0] in reply  # the reference is shown every time
        if n < 4:
            assert f"第{n + 2}/5题" in reply
    assert answered_right == 3
    assert "3/5" in reply and ("需要加强" in reply or "薄弱环节" in reply)
    assert latest_slot(servers, who, "training_mode") == "menu"

    # the misses are stored and come back first in the next round
    again = texts(servers.send(who, "再来一轮"))
    state = latest_slot(servers, who, "quiz_state")
    assert "第1/5题" in again and state["i"] == 0
    assert set(state["ids"][:2]) == set(missed)

    bye = texts(servers.send(who, "退出练习"))
    assert "练习" in bye and "记录已保存" in bye
    assert latest_slot(servers, who, "training_mode") is None
    # back to normal service: an order question starts verification again
    normal = texts(servers.send(who, "我的快递到哪了"))
    assert "订单号" in normal


def test_quiz_answers_never_reach_shopper_rules(servers):
    who = trainee()
    servers.send(who, "来几道判断题")
    # answers that look like shopper intents are still answers
    for message in ("转人工", "我要投诉你们", "我的快递到哪了"):
        reply = texts(servers.send(who, message))
        assert "✘" in reply or "✔" in reply, reply
        assert "排队" not in reply and "订单号" not in reply
    assert latest_slot(servers, who, "anger") in (None, 0, 0.0)


def test_full_role_play_good_trainee_resolves_with_a_high_score(servers):
    who = trainee()
    opening = texts(servers.send(who, "模拟一个快递延迟的买家"))
    assert "【角色扮演】" in opening and "【顾客·" in opening
    state = latest_slot(servers, who, "roleplay_state")
    assert state["scenario"].startswith("delay:")
    # the reply a good agent gives, built from the scenario's own facts and strategy
    end = texts(servers.send(who, roleplay.model_reply(state)))
    assert "【评分卡】" in end
    total = int(end.split("总分")[1].split("（")[0])
    assert total >= 80, end
    assert latest_slot(servers, who, "training_mode") == "menu"


def test_full_role_play_rude_trainee_escalates_and_gets_model_replies(servers):
    who = trainee()
    servers.send(who, "模拟一个快递延迟的买家")
    rude = "这是快递公司的问题，不关我们的事，是你自己选的快递。"
    for _ in range(6):
        reply = texts(servers.send(who, rude))
        if "【评分卡】" in reply:
            break
    assert "【评分卡】" in reply and "参考话术" in reply
    assert int(reply.split("总分")[1].split("（")[0]) < 50
    # the play is stored for the trainee's progress
    with sqlite3.connect(servers.shop_db) as db:
        (outcome,) = db.execute(
            "SELECT outcome FROM roleplay_attempts WHERE trainee_id=?", (f"chat-{who}",)
        ).fetchone()
    # the scenario depends on the sender: an escalating customer threatens, others just leave
    assert outcome in {"escalated", "left"}
    if outcome == "escalated":
        assert "投诉" in reply or "差评" in reply or "领导" in reply
