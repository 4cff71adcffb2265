"""Human handoff as a call centre's ACD does it (seed 003): queue, priority, distribution.

Pure decisions over plain values with an explicit `now`; the store keeps the queue
(`store.repository` handoff functions) and the web app and actions apply them.

- Skill group (技能组): 售前 presale, 售中 insale, 售后 aftersale, 投诉 complaint — from
  what the conversation was about when the human was asked for.
- Priority: revenge-type complaints first, then VIP customers, then other escalations
  (anger, lockout, repeated fallback), then plain requests; within a tier the longest
  waiting first.
- Distribution: a waiting conversation goes to the longest-idle available agent of its
  skill group; an agent asking for the next conversation gets the highest-priority one
  among their skill groups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

SKILL_NAMES = {"presale": "售前", "insale": "售中", "aftersale": "售后", "complaint": "投诉"}

#: Intent or order topic -> skill group; anything else is pre-sale.
_GROUP_OF = {
    "file_complaint": "complaint",
    "check_complaint_status": "complaint",
    "express_churn": "complaint",
    "report_payment_failure": "insale",
    "cancel_order": "insale",
    "change_address": "insale",
    "request_invoice": "insale",
    "ask_payment_methods": "insale",
    "check_order_status": "aftersale",
    "urge_delivery": "aftersale",
    "request_return": "aftersale",
    "report_quality_problem": "aftersale",
    "ask_return_policy": "aftersale",
    "status": "aftersale",
    "urge": "aftersale",
    "return": "aftersale",
    "quality": "aftersale",
    "payment": "insale",
    "cancel": "insale",
    "address": "insale",
    "invoice": "insale",
    "complaint": "complaint",
}

#: Why a conversation was handed over; the order is the priority tier after revenge/VIP.
REASONS = ("revenge", "anger", "threat", "lockout", "fallback", "asked")


def skill_group(recent_intents: list[str], reason: str, psychology: str | None = None) -> str:
    """The skill group for a handoff: complaints by reason, else the latest topical intent."""
    if psychology or reason in {"revenge", "anger", "threat"}:
        return "complaint"
    for intent in recent_intents:  # newest first
        if intent in _GROUP_OF:
            return _GROUP_OF[intent]
    return "presale"


def priority_tier(reason: str, psychology: str | None, is_vip: bool) -> int:
    """0 = first: revenge complaints; 1 VIP; 2 escalations; 3 plain requests."""
    if psychology == "revenge" or reason in {"revenge", "threat"}:
        return 0
    if is_vip:
        return 1
    if reason in {"anger", "lockout", "fallback"}:
        return 2
    return 3


@dataclass(frozen=True)
class Waiting:
    """A conversation waiting in the queue."""

    conversation_id: str
    skill_group: str
    tier: int
    queued_at: datetime


def queue_order(waiting: list[Waiting]) -> list[Waiting]:
    """The queue: by tier, then longest waiting first."""
    return sorted(waiting, key=lambda w: (w.tier, w.queued_at, w.conversation_id))


def position(waiting: list[Waiting], conversation_id: str) -> int | None:
    """1-based position of a conversation within its skill group's queue."""
    mine = next((w for w in waiting if w.conversation_id == conversation_id), None)
    if mine is None:
        return None
    group = [w for w in queue_order(waiting) if w.skill_group == mine.skill_group]
    return group.index(mine) + 1


def estimated_wait_minutes(position_in_queue: int, agents: int, handle_minutes: float) -> int:
    """Minutes until an agent is free for this position (agents work in parallel)."""
    if agents <= 0:
        return -1
    return max(1, math.ceil(position_in_queue / agents * handle_minutes))


@dataclass(frozen=True)
class AgentState:
    """An agent as the distributor sees them."""

    agent_id: str
    skills: tuple[str, ...]
    available: bool
    active: int  # conversations being handled now
    capacity: int
    idle_since: datetime  # end of their last conversation (or login)


def choose_agent(entry: Waiting, agents: list[AgentState]) -> str | None:
    """The longest-idle available agent with the entry's skill and spare capacity."""
    able = [
        a for a in agents if a.available and entry.skill_group in a.skills and a.active < a.capacity
    ]
    if not able:
        return None
    return min(able, key=lambda a: (a.idle_since, a.agent_id)).agent_id


def next_for_agent(agent: AgentState, waiting: list[Waiting]) -> Waiting | None:
    """The conversation an agent should take next: the first in queue order they can serve."""
    if agent.active >= agent.capacity:
        return None
    return next((w for w in queue_order(waiting) if w.skill_group in agent.skills), None)


def queue_estimate(
    waiting: list[Waiting], conversation_id: str, agents_config: dict
) -> tuple[int, int]:
    """(position, estimated minutes) of a waiting conversation, from the agents' skills."""
    mine = next((w for w in waiting if w.conversation_id == conversation_id), None)
    place = position(waiting, conversation_id) or 1
    group = mine.skill_group if mine else "presale"
    able = [a for a in agents_config["agents"] if group in a["skills"]]
    return place, estimated_wait_minutes(place, len(able), agents_config["average_handle_minutes"])
