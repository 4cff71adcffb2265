"""Callback requests (asked outside service hours) in the shop store: listed oldest first
by skill group, marked done once with who, when and how, undone when delivery failed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dianxiaoer.store import handoffs
from tests.store.conftest import NOW

M = timedelta(minutes=1)


def _callback(conversation, group, at, customer=None, reason="asked", tier=3, url=None):
    return handoffs.enqueue(
        conversation, group, reason, tier, at, customer, {"psychology": None}, "callback", url
    )


def test_callbacks_listed_oldest_first_by_group_with_the_customer(store_url):
    late = _callback("cb-late", "aftersale", NOW, "C1002", url=store_url)
    early = _callback("cb-early", "complaint", NOW - 30 * M, "C1001", "revenge", 0, store_url)
    anonymous = _callback("cb-anon", "presale", NOW - 10 * M, url=store_url)
    handoffs.enqueue("live", "aftersale", "asked", 3, NOW - 60 * M, url=store_url)

    every = handoffs.callbacks(url=store_url)
    assert [c.entry.id for c in every] == [early.id, anonymous.id, late.id]
    first = every[0]
    assert (first.customer_name, first.customer_phone, first.customer_vip) == (
        "张伟",
        "13800001234",
        True,
    )
    assert first.entry.reason == "revenge" and first.entry.status == "callback"
    assert every[1].customer_name is None and every[1].customer_phone is None
    assert first.contact == {}

    mine = handoffs.callbacks(("aftersale", "presale"), url=store_url)
    assert [c.entry.conversation_id for c in mine] == ["cb-anon", "cb-late"]
    assert handoffs.callbacks((), url=store_url) == []
    # a callback is not a live queue entry
    assert handoffs.current("cb-late", store_url) is None
    assert [w.conversation_id for w in handoffs.waiting(store_url)] == ["live"]


def test_a_second_request_off_duty_keeps_one_callback(store_url):
    first = _callback("cb-twice", "aftersale", NOW - 5 * M, url=store_url)
    again = _callback("cb-twice", "complaint", NOW, reason="anger", tier=2, url=store_url)
    assert again.id == first.id
    listed = handoffs.callbacks(url=store_url)
    assert len(listed) == 1 and listed[0].entry.tier == 2 and listed[0].entry.reason == "anger"


def test_mark_done_once_with_agent_time_way_and_note(store_url):
    entry = _callback("cb-done", "aftersale", NOW - 9 * 60 * M, "C1001", url=store_url)
    contacted = NOW + 5 * M
    done = handoffs.mark_callback_done(
        entry.id, "wangfang", "message", " 已留言说明退货进度 ", contacted, "亲，您好", store_url
    )
    assert done is not None
    assert (done.status, done.agent_id, done.closed_at, done.summary) == (
        "callback_done",
        "wangfang",
        contacted,
        "已留言说明退货进度",
    )
    assert done.details["psychology"] is None  # what the bot recorded is kept
    assert done.details["contact"] == {
        "how": "message",
        "agent": "wangfang",
        "at": contacted.isoformat(),
        "note": "已留言说明退货进度",
        "message": "亲，您好",
    }
    assert done.closed_at - done.queued_at == timedelta(hours=9, minutes=5)

    # a second agent (or a double click) changes nothing
    assert handoffs.mark_callback_done(entry.id, "liuyang", "phone", "", NOW, url=store_url) is None
    assert handoffs.callback(entry.id, store_url).entry.agent_id == "wangfang"
    assert handoffs.callbacks(url=store_url) == []
    assert [c.entry.id for c in handoffs.callbacks(statuses=("callback_done",), url=store_url)] == [
        entry.id
    ]


def test_mark_done_rejects_other_entries_and_ways(store_url):
    live = handoffs.enqueue("cb-live", "aftersale", "asked", 3, NOW, url=store_url)
    assert handoffs.mark_callback_done(live.id, "wangfang", "phone", "", NOW, url=store_url) is None
    assert handoffs.callback(live.id, store_url) is None  # not a callback
    assert handoffs.callback(999999, store_url) is None
    entry = _callback("cb-way", "presale", NOW, url=store_url)
    with pytest.raises(ValueError):
        handoffs.mark_callback_done(entry.id, "liuyang", "email", "", NOW, url=store_url)
    assert handoffs.callback(entry.id, store_url).entry.status == "callback"


def test_reopen_after_a_failed_delivery(store_url):
    entry = _callback("cb-reopen", "presale", NOW, url=store_url)
    assert handoffs.mark_callback_done(entry.id, "liuyang", "message", "x", NOW, "hi", store_url)
    assert not handoffs.reopen_callback(entry.id, "wangfang", store_url)  # not theirs
    assert handoffs.reopen_callback(entry.id, "liuyang", store_url)
    again = handoffs.callback(entry.id, store_url)
    assert again.entry.status == "callback" and again.entry.agent_id is None
    assert again.entry.closed_at is None and again.contact == {}
    assert not handoffs.reopen_callback(entry.id, "liuyang", store_url)  # open already
