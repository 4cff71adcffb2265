"""Every metric on conversations with known outcomes (tests/analytics/conftest.py)."""

from __future__ import annotations

from datetime import date

import pytest

from dianxiaoer.analytics.conversations import conversations, sessions_of_sender
from dianxiaoer.analytics.metrics import compute_metrics, duration_stats
from dianxiaoer.analytics.sources import Filters, load_shop, stream_events

DAY1, DAY2, DAY3 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)
ZERO_STATS = {"count": 0, "mean_s": None, "median_s": None, "p90_s": None, "max_s": None}
REFUSED_NONE = {
    "excluded_customized": 0,
    "excluded_perishable": 0,
    "excluded_digital": 0,
    "excluded_periodical": 0,
    "window_expired": 0,
    "not_signed": 0,
}
PSYCHOLOGY_NONE = {p: 0 for p in ("venting", "respect", "remedy", "recognition", "showing")}


def metrics(stores, **filters) -> dict:
    result = compute_metrics(Filters(**filters), stores.tracker, stores.shop, low_score=2)
    assert result.pop("generated_at")
    return result


def by_sender(stores) -> dict:
    shop = load_shop(stores.shop)
    found: dict = {}
    for c in conversations(stream_events(stores.tracker), shop):
        found.setdefault(c.sender_id, []).append(c)
    return found


def test_every_metric_over_all_conversations(stores):
    assert metrics(stores) == {
        "filters": {"since": None, "until": None, "channel": None},
        "channels": ["rest", "socketio"],
        "totals": {
            "conversations": 10,
            "customer_messages": 23,
            "bot_messages": 33,
            "agent_messages": 2,
            "excluded_training": 1,
        },
        "per_day": [
            {
                "day": "2026-11-02",
                "conversations": 4,
                "customer_messages": 9,
                "bot_messages": 10,
                "agent_messages": 0,
            },
            {
                "day": "2026-11-03",
                "conversations": 5,
                "customer_messages": 12,
                "bot_messages": 21,
                "agent_messages": 2,
            },
            {
                "day": "2026-11-04",
                "conversations": 1,
                "customer_messages": 2,
                "bot_messages": 2,
                "agent_messages": 0,
            },
        ],
        # resolved: c-faq, c-delay, c-return and both sessions of c-sessions
        "resolution": {
            "resolved": 5,
            "unresolved": 5,
            "rate": 0.5,
            "causes": {"handoff": 3, "fallback_end": 1, "only_fallbacks": 1, "low_csat": 1},
        },
        "handoffs": {
            "conversations": 3,
            "rate": 0.3,
            "episodes": 3,
            "by_reason": {"asked": 1, "anger": 0, "revenge": 1, "fallback": 1, "lockout": 0},
            "by_status": {"handed_back": 1, "waiting": 2},
            "time_to_agent": {
                "count": 1,
                "mean_s": 120.0,
                "median_s": 120.0,
                "p90_s": 120.0,
                "max_s": 120.0,
            },
        },
        # no conversation asked off duty (tests/analytics/test_callback_metrics.py has some)
        "callbacks": {
            "requested": 0,
            "contacted": 0,
            "open": 0,
            "by_way": {"phone": 0, "message": 0},
            "time_to_contact": ZERO_STATS,
        },
        # 22 bot-answered turns (c-handback's message to the agent is not one)
        "fallbacks": {
            "bot_turns": 22,
            "fallback_turns": 3,
            "rate": 0.1364,
            "conversations": 2,
            "conversation_rate": 0.2,
            "per_intent": [
                {"intent": "ask_shipping_policy", "turns": 2, "fallbacks": 2, "rate": 1.0},
                {"intent": "ask_faq", "turns": 4, "fallbacks": 1, "rate": 0.25},
                {"intent": "rate_service", "turns": 4, "fallbacks": 0, "rate": 0.0},
                {"intent": "greet", "turns": 3, "fallbacks": 0, "rate": 0.0},
                {"intent": "file_complaint", "turns": 2, "fallbacks": 0, "rate": 0.0},
                {"intent": "request_return", "turns": 2, "fallbacks": 0, "rate": 0.0},
                {"intent": "ask_term", "turns": 1, "fallbacks": 0, "rate": 0.0},
                {"intent": "goodbye", "turns": 1, "fallbacks": 0, "rate": 0.0},
                {"intent": "request_human", "turns": 1, "fallbacks": 0, "rate": 0.0},
                {"intent": "thank", "turns": 1, "fallbacks": 0, "rate": 0.0},
                {"intent": "urge_delivery", "turns": 1, "fallbacks": 0, "rate": 0.0},
            ],
            "confused_pairs": [
                {"pair": ["ask_faq", "ask_shipping_policy"], "count": 2},
                {"pair": ["ask_faq", "out_of_scope"], "count": 1},
            ],
        },
        "intents": [
            {"intent": "rate_service", "count": 4},
            {"intent": "ask_faq", "count": 3},
            {"intent": "greet", "count": 3},
            {"intent": "nlu_fallback", "count": 3},
            {"intent": "file_complaint", "count": 2},
            {"intent": "request_return", "count": 2},
            {"intent": "ask_term", "count": 1},
            {"intent": "goodbye", "count": 1},
            {"intent": "inform", "count": 1},
            {"intent": "request_human", "count": 1},
            {"intent": "thank", "count": 1},
            {"intent": "urge_delivery", "count": 1},
        ],
        "knowledge": [
            {"kind": "faq", "title": "运费说明", "count": 3},
            {"kind": "term", "title": "DSR", "count": 1},
        ],
        "unanswered": {
            "messages": 3,
            "distinct": 3,
            "groups": [
                {
                    "text": "我的订单<订单号>能寄到国外吗",
                    "count": 2,
                    "distinct": 2,
                    "examples": ["我的订单<订单号>能寄到国外吗", "能寄到国外吗？？"],
                },
                {"text": "你们老板是谁", "count": 1, "distinct": 1, "examples": ["你们老板是谁"]},
            ],
        },
        # c-training's rating (1) is not counted
        "csat": {
            "ratings": 4,
            "average": 4.0,
            "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 2},
            "low_score": 2,
            "low": 1,
            "per_journey": [
                {"journey": "complaint", "count": 1, "average": 2.0},
                {"journey": "delay", "count": 1, "average": 4.0},
                {"journey": "human", "count": 1, "average": 5.0},
                {"journey": "return", "count": 1, "average": 5.0},
            ],
        },
        "complaints": {
            "tickets": 2,
            "by_psychology": {**PSYCHOLOGY_NONE, "venting": 1, "revenge": 1},
            "escalated": 1,
            "by_escalation": {"threat": 1},
            "by_priority": {"normal": 1, "urgent": 1},
            "average_anger": 2.0,
        },
        "delays": {
            "detected": {"no_scan": 1, "unshipped": 0},
            "urge_tickets": 1,
            "by_priority": {"high": 1},
            "compensated": 1,
        },
        "returns": {
            "requests": 1,
            "by_reason": {"尺码不合适": 1},
            "by_status": {"requested": 1},
            "refused": {**REFUSED_NONE, "excluded_customized": 1},
        },
        "agents": {
            "first_reply": {
                "count": 1,
                "mean_s": 30.0,
                "median_s": 30.0,
                "p90_s": 30.0,
                "max_s": 30.0,
            },
            "per_agent": [
                {"agent": "wangfang", "handoffs": 1, "count": 1, "mean_s": 30.0, "median_s": 30.0}
            ],
        },
    }


def test_empty_range_gives_zeros_not_errors(stores):
    m = metrics(stores, since=date(2026, 12, 1), until=date(2026, 12, 31))
    assert m["filters"] == {"since": "2026-12-01", "until": "2026-12-31", "channel": None}
    assert m["totals"] == {
        "conversations": 0,
        "customer_messages": 0,
        "bot_messages": 0,
        "agent_messages": 0,
        "excluded_training": 0,
    }
    assert m["per_day"] == [] and m["channels"] == []
    assert m["resolution"] == {
        "resolved": 0,
        "unresolved": 0,
        "rate": 0.0,
        "causes": {"handoff": 0, "fallback_end": 0, "only_fallbacks": 0, "low_csat": 0},
    }
    assert m["handoffs"]["rate"] == 0.0 and m["handoffs"]["episodes"] == 0
    assert m["handoffs"]["time_to_agent"] == ZERO_STATS
    assert m["fallbacks"] == {
        "bot_turns": 0,
        "fallback_turns": 0,
        "rate": 0.0,
        "conversations": 0,
        "conversation_rate": 0.0,
        "per_intent": [],
        "confused_pairs": [],
    }
    assert m["intents"] == [] and m["knowledge"] == []
    assert m["unanswered"] == {"messages": 0, "distinct": 0, "groups": []}
    assert m["csat"]["ratings"] == 0 and m["csat"]["average"] is None
    assert m["complaints"]["tickets"] == 0 and m["complaints"]["average_anger"] is None
    assert m["delays"]["urge_tickets"] == 0 and m["returns"]["requests"] == 0
    assert m["agents"] == {"first_reply": ZERO_STATS, "per_agent": []}


def test_date_range_counts_conversations_by_their_start_day(stores):
    m = metrics(stores, since=DAY2, until=DAY2)
    assert m["totals"] == {
        "conversations": 5,
        "customer_messages": 12,
        "bot_messages": 21,
        "agent_messages": 2,
        "excluded_training": 1,
    }
    assert m["resolution"]["resolved"] == 2  # c-delay, c-return
    assert m["handoffs"]["by_reason"] == {
        "asked": 1,
        "anger": 0,
        "revenge": 1,
        "fallback": 0,
        "lockout": 0,
    }
    assert m["fallbacks"]["fallback_turns"] == 0
    assert m["csat"]["ratings"] == 4 and m["complaints"]["tickets"] == 2
    # the sender with sessions on day 1 and day 3: only the day-3 session
    m = metrics(stores, since=DAY3)
    assert m["totals"]["conversations"] == 1 and m["per_day"][0]["day"] == "2026-11-04"
    assert m["knowledge"] == [{"kind": "faq", "title": "运费说明", "count": 1}]
    m = metrics(stores, until=DAY1)
    assert [d["day"] for d in m["per_day"]] == ["2026-11-02"]
    assert m["totals"]["conversations"] == 4


def test_channel_filter(stores):
    m = metrics(stores, channel="socketio")
    assert m["channels"] == ["rest", "socketio"]  # what the filter can choose from
    assert m["totals"]["conversations"] == 2  # c-only-fb, c-handback
    assert m["resolution"] == {
        "resolved": 0,
        "unresolved": 2,
        "rate": 0.0,
        "causes": {"handoff": 1, "fallback_end": 0, "only_fallbacks": 1, "low_csat": 0},
    }
    assert m["csat"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    assert metrics(stores, channel="nowhere")["totals"]["conversations"] == 0


def test_handed_off_and_handed_back_conversation(stores):
    [c] = by_sender(stores)["c-handback"]
    assert c.channel_name == "socketio" and c.day == DAY2
    assert [(t.intent, t.human) for t in c.turns] == [
        ("request_human", False),
        ("inform", True),  # said to the agent while the bot was paused
        ("rate_service", False),
        ("thank", False),
    ]
    assert c.agent_messages == 2 and c.resumes == 1
    [episode] = c.episodes()
    assert (episode.reason, episode.status, episode.agent_id, episode.handed_back) == (
        "asked",
        "closed",
        "wangfang",
        True,
    )
    assert episode.claimed_at - episode.queued_at == 120
    assert episode.first_reply_at - episode.claimed_at == 30
    # handed back and rated 5, but a human was needed: not contained
    assert [r.score for r in c.ratings] == [5]
    assert c.handed_off and not c.resolved(2)


def test_conversation_with_only_fallbacks(stores):
    [c] = by_sender(stores)["c-only-fb"]
    assert len(c.turns) == 1 and c.turns[0].fallback
    assert (c.turns[0].guessed, c.turns[0].confidence, c.turns[0].runner_up) == (
        "ask_faq",
        0.4,
        "out_of_scope",
    )
    assert c.only_fallbacks and not c.fallback_end and not c.handed_off
    assert not c.resolved(2)
    [two] = by_sender(stores)["c-two-fb"]
    assert two.fallback_end and not two.only_fallbacks and two.handed_off
    assert {t.number for t in two.tickets} == {stores.numbers["handoff_ticket"]}


def test_training_sessions_and_reminder_sessions_are_not_shop_conversations(stores):
    found = by_sender(stores)
    [training] = found["c-training"]
    assert training.training and len(training.turns) == 2
    assert "c-reminder" not in found  # only the 回访 reminder: no customer message
    assert [s.day for s in found["c-sessions"]] == [DAY1, DAY3]


def test_store_rows_join_their_conversation(stores):
    found = by_sender(stores)
    [delay] = found["c-delay"]
    assert [t.number for t in delay.tickets] == [stores.numbers["urge"]]  # by reply metadata
    [ret] = found["c-return"]
    assert [r.rma for r in ret.returns] == [stores.numbers["rma"]]
    [venting] = found["c-venting"]
    assert {t.kind for t in venting.tickets} == {"complaint", "feedback"}


def test_sessions_split_on_session_started():
    rows = [
        ("s", "action", 1.0, None, "action_session_start", None),
        ("s", "session_started", 1.1, None, None, None),
        ("s", "user", 2.0, "greet", None, '{"text": "hi", "parse_data": {}}'),
        ("s", "action", 3.0, None, "action_session_start", None),
        ("s", "session_started", 3.1, None, None, None),
        ("s", "user", 4.0, "greet", None, '{"text": "hi again", "parse_data": {}}'),
    ]
    first, second = sessions_of_sender("s", rows)
    assert (first.start, first.end, second.start) == (1.1, 3.1, 3.1)
    assert [t.text for t in first.turns] == ["hi"] and [t.text for t in second.turns] == [
        "hi again"
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ZERO_STATS),
        ([30], {"count": 1, "mean_s": 30.0, "median_s": 30.0, "p90_s": 30.0, "max_s": 30.0}),
        (
            [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
            {"count": 10, "mean_s": 55.0, "median_s": 55.0, "p90_s": 90.0, "max_s": 100.0},
        ),
    ],
)
def test_duration_stats(values, expected):
    assert duration_stats(values) == expected


def test_missing_tracker_store_is_empty(tmp_path, stores):
    m = compute_metrics(Filters(), f"sqlite:///{tmp_path / 'none.db'}", stores.shop, 2)
    assert m["totals"]["conversations"] == 0
    assert not (tmp_path / "none.db").exists()  # reading never creates it
