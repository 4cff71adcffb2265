"""ACD-style queue ordering and distribution (pure)."""

from datetime import datetime, timedelta

from dianxiaoer.shop.handoff import (
    AgentState,
    Waiting,
    choose_agent,
    estimated_wait_minutes,
    next_for_agent,
    position,
    priority_tier,
    queue_order,
    skill_group,
)

T0 = datetime(2026, 11, 25, 10, 0)
M = timedelta(minutes=1)


def test_skill_group_from_the_conversation():
    assert skill_group(["request_human", "urge_delivery"], "asked") == "aftersale"
    assert skill_group(["request_human", "report_payment_failure"], "asked") == "insale"
    assert skill_group(["greet"], "asked") == "presale"
    assert skill_group(["urge_delivery"], "anger") == "complaint"
    assert skill_group([], "asked", psychology="remedy") == "complaint"


def test_priority_tiers():
    assert priority_tier("threat", "revenge", False) == 0
    assert priority_tier("asked", None, True) == 1
    assert priority_tier("lockout", None, False) == 2
    assert priority_tier("asked", None, False) == 3


def test_queue_is_ordered_by_tier_then_waiting_time():
    plain_early = Waiting("a", "aftersale", 3, T0)
    vip_late = Waiting("b", "aftersale", 1, T0 + 5 * M)
    revenge_latest = Waiting("c", "complaint", 0, T0 + 9 * M)
    plain_late = Waiting("d", "aftersale", 3, T0 + 2 * M)
    ordered = queue_order([plain_late, plain_early, vip_late, revenge_latest])
    assert [w.conversation_id for w in ordered] == ["c", "b", "a", "d"]
    waiting = [plain_late, plain_early, vip_late, revenge_latest]
    # positions count within the skill group
    assert position(waiting, "b") == 1 and position(waiting, "d") == 3
    assert position(waiting, "c") == 1 and position(waiting, "zzz") is None


def test_distribution_to_the_longest_idle_agent_with_the_skill():
    entry = Waiting("a", "complaint", 0, T0)
    agents = [
        AgentState("li", ("presale",), True, 0, 3, T0 - 30 * M),
        AgentState("wang", ("complaint", "aftersale"), True, 0, 3, T0 - 5 * M),
        AgentState("zhao", ("complaint",), True, 1, 3, T0 - 20 * M),
        AgentState("sun", ("complaint",), False, 0, 3, T0 - 60 * M),  # away
        AgentState("qian", ("complaint",), True, 3, 3, T0 - 90 * M),  # full
    ]
    assert choose_agent(entry, agents) == "zhao"
    assert choose_agent(Waiting("b", "insale", 3, T0), agents) is None


def test_an_agent_takes_the_first_conversation_they_can_serve():
    waiting = [
        Waiting("a", "presale", 3, T0),
        Waiting("b", "aftersale", 2, T0 + M),
        Waiting("c", "complaint", 0, T0 + 2 * M),
    ]
    wang = AgentState("wang", ("aftersale", "presale"), True, 0, 3, T0)
    assert next_for_agent(wang, waiting).conversation_id == "b"
    full = AgentState("wang", ("aftersale",), True, 3, 3, T0)
    assert next_for_agent(full, waiting) is None


def test_estimated_wait():
    assert estimated_wait_minutes(1, 2, 6) == 3
    assert estimated_wait_minutes(5, 2, 6) == 15
    assert estimated_wait_minutes(1, 0, 6) == -1
