"""Callback figures: requests asked off duty, contacted (by phone or message) or still open,
and the time from request to contact, in the metrics, the report and the handoff episodes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from synthetic_analytics import Chat, TrackerWriter

from dianxiaoer.analytics.metrics import compute_metrics
from dianxiaoer.analytics.report import render_html
from dianxiaoer.analytics.sources import Filters
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.store import handoffs
from dianxiaoer.store.db import session_scope, upgrade
from dianxiaoer.store.demo import load_demo_data

NIGHT = datetime(2026, 11, 2, 22, 30, tzinfo=SHANGHAI)
H = timedelta(hours=1)


def _off_duty(w: TrackerWriter, shop: str, sender: str, at: datetime) -> int:
    c = Chat(w, sender, at).session()
    c.say("转人工", "request_human", 0.97)
    entry = handoffs.enqueue(sender, "aftersale", "asked", 3, c.time(), None, {}, "callback", shop)
    c.act(
        "action_request_human",
        ("utter_human_off_duty", "已为您登记，上班后人工客服会优先回复您"),
        slots={"handoff_requested": True},
    ).listen()
    return entry.id


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("callbacks")
    tracker, shop = f"sqlite:///{tmp / 'tracker.db'}", f"sqlite:///{tmp / 'shop.db'}"
    upgrade(shop)
    with session_scope(shop) as session:
        load_demo_data(session, now=NIGHT - 3 * 24 * H)
    w = TrackerWriter(tracker)
    by_phone = _off_duty(w, shop, "cb-phone", NIGHT)
    by_message = _off_duty(w, shop, "cb-message", NIGHT + H)
    _off_duty(w, shop, "cb-open", NIGHT + 2 * H)
    w.flush()
    first = handoffs.callback(by_phone, shop).entry.queued_at
    second = handoffs.callback(by_message, shop).entry.queued_at
    # the next morning: a call after 10 h, a message after 11 h 30 min
    assert handoffs.mark_callback_done(
        by_phone, "wangfang", "phone", "已电话联系", first + 10 * H, url=shop
    )
    assert handoffs.mark_callback_done(
        by_message, "liuyang", "message", "", second + 11.5 * H, "亲，您好", shop
    )
    return tracker, shop


def test_callbacks_requested_contacted_open_and_time_to_contact(stores):
    tracker, shop = stores
    m = compute_metrics(Filters(), tracker, shop, low_score=2)
    assert m["callbacks"] == {
        "requested": 3,
        "contacted": 2,
        "open": 1,
        "by_way": {"phone": 1, "message": 1},
        "time_to_contact": {
            "count": 2,
            "mean_s": 10.75 * 3600,
            "median_s": 10.75 * 3600,
            "p90_s": 11.5 * 3600,
            "max_s": 11.5 * 3600,
        },
    }
    # callbacks are handoffs (asked), never claimed live nor handed back to the bot
    h = m["handoffs"]
    assert h["episodes"] == 3 and h["by_reason"]["asked"] == 3
    assert h["by_status"] == {"callback": 1, "callback_done": 2}
    assert h["time_to_agent"]["count"] == 0

    html = render_html(m, {})
    assert "回电 Callbacks" in html and "time to contact" in html
    assert "10.8 h" in html and "11.5 h" in html  # median and p90, in hours


def test_callbacks_follow_the_date_filter(stores):
    tracker, shop = stores
    m = compute_metrics(Filters(since=NIGHT.date() + timedelta(days=1)), tracker, shop, 2)
    # the last request was asked after midnight: the next day's only callback
    assert (m["callbacks"]["requested"], m["callbacks"]["open"]) == (1, 1)
