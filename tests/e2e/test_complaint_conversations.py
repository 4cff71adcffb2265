"""End-to-end complaint handling over REST: escalation, status, rating, 回访, win-back."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

import pytest

from tests.e2e.test_order_journeys import texts

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"complaint-{uuid.uuid4().hex[:10]}"


def bot_texts_in_tracker_store(servers, who: str) -> list[str]:
    """Bot messages of a conversation as stored in the SQL tracker store."""
    with sqlite3.connect(servers.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id=? AND type_name='bot' ORDER BY id", (who,)
        ).fetchall()
    return [json.loads(data).get("text") or "" for (data,) in rows]


def test_customer_getting_angrier_over_three_turns_is_escalated(servers):
    who = sender()
    first = texts(servers.send(who, "发货也太慢了吧，有点失望"))
    assert "转接人工" not in first
    second = texts(servers.send(who, "都一个星期了还没到，什么破服务！！"))
    assert "转接人工" not in second
    third = texts(servers.send(who, "气死我了！！你们到底管不管！！"))
    assert "转接人工" in third and ("人工客服" in third or "热线" in third)
    with sqlite3.connect(servers.shop_db) as db:
        rows = db.execute(
            "SELECT priority, anger, details FROM tickets WHERE conversation_id=?"
            " AND kind='complaint' ORDER BY created_at",
            (who,),
        ).fetchall()
    priority, anger, details = rows[-1]
    assert priority in {"high", "urgent"} and anger >= 2
    assert json.loads(details)["escalated"] == "anger"


def test_threat_is_escalated_at_once_with_top_priority(servers):
    who = sender()
    answer = texts(servers.send(who, "再不给我处理，我就去12315投诉，还要发微博曝光你们"))
    assert "最高优先级" in answer or "最紧急" in answer
    with sqlite3.connect(servers.shop_db) as db:
        row = db.execute(
            "SELECT psychology, priority FROM tickets WHERE conversation_id=?", (who,)
        ).fetchone()
    assert row == ("revenge", "urgent")


def test_complaint_status_rating_and_followup_reminder(servers):
    who = sender()
    answer = texts(servers.send(who, "我做了十年电商，建议你们把包装流程改进一下"))
    assert "投诉单 TS" in answer and "评分" in answer
    status = texts(servers.send(who, "我的投诉处理得怎么样了"))
    assert "正在处理中" in status
    thanks = texts(servers.send(who, '/rate_service{"rating": "2"}'))
    assert "工单 PJ" in thanks and "意见或建议" in thanks
    done = texts(servers.send(who, "包装可以再结实一点"))
    assert "谢谢" in done or "感谢" in done
    with sqlite3.connect(servers.shop_db) as db:
        assert db.execute(
            "SELECT score, comment FROM ratings WHERE conversation_id=?", (who,)
        ).fetchone() == (2, "包装可以再结实一点")
    # the 回访 reminder (3 s in tests) comes back into the conversation
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any("【回访】" in t for t in bot_texts_in_tracker_store(servers, who)):
            break
        time.sleep(1)
    assert any("【回访】" in t for t in bot_texts_in_tracker_store(servers, who))


def test_churn_signal_gets_the_win_back_steps(servers):
    who = sender()
    ask = texts(servers.send(who, "再也不买了，会员也给我取消"))
    assert "原因" in ask or "哪里" in ask
    remedy = texts(servers.send(who, '/express_churn{"churn_cause": "price"}'))
    assert "价保" in remedy and "工单 WH" in remedy
    with sqlite3.connect(servers.shop_db) as db:
        causes = db.execute(
            "SELECT cause FROM churn_signals WHERE conversation_id=? ORDER BY id", (who,)
        ).fetchall()
    assert causes == [("",), ("price",)]
