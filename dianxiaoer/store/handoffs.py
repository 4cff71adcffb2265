"""The handoff queue in the shop store: enqueue, claim, first reply, close.

Ordering and distribution decisions are `dianxiaoer.handoff`'s; this module only reads
and writes rows, returning plain snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from dianxiaoer.handoff import AgentState, Waiting
from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Handoff

OPEN = ("waiting", "active")


@dataclass(frozen=True)
class HandoffView:
    """A queue entry."""

    id: int
    conversation_id: str
    customer_id: str | None
    skill_group: str
    reason: str
    tier: int
    status: str
    agent_id: str | None
    summary: str
    details: dict
    queued_at: datetime
    claimed_at: datetime | None
    first_reply_at: datetime | None
    closed_at: datetime | None

    def as_waiting(self) -> Waiting:
        """The entry as the distributor sees it."""
        return Waiting(self.conversation_id, self.skill_group, self.tier, self.queued_at)


def _view(h: Handoff) -> HandoffView:
    return HandoffView(
        h.id,
        h.conversation_id,
        h.customer_id,
        h.skill_group,
        h.reason,
        h.tier,
        h.status,
        h.agent_id,
        h.summary,
        dict(h.details or {}),
        h.queued_at,
        h.claimed_at,
        h.first_reply_at,
        h.closed_at,
    )


def _open(session, conversation_id: str) -> Handoff | None:
    return session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN))
        .order_by(Handoff.id.desc())
    )


def enqueue(
    conversation_id: str,
    skill_group: str,
    reason: str,
    tier: int,
    now: datetime,
    customer_id: str | None = None,
    details: dict | None = None,
    status: str = "waiting",
    url: str | None = None,
) -> HandoffView:
    """Queue a conversation (or record a callback).

    An open entry is returned as it is, raised to the higher priority if this request is
    more urgent.
    """
    with session_scope(url) as session:
        existing = _open(session, conversation_id)
        if existing is not None:
            if tier < existing.tier:
                existing.tier, existing.reason = tier, reason
            return _view(existing)
        entry = Handoff(
            conversation_id=conversation_id,
            customer_id=customer_id,
            skill_group=skill_group,
            reason=reason,
            tier=tier,
            status=status,
            summary="",
            details=details or {},
            queued_at=now,
        )
        session.add(entry)
        session.flush()
        return _view(entry)


def current(conversation_id: str, url: str | None = None) -> HandoffView | None:
    """The conversation's open (waiting or active) entry."""
    with session_scope(url) as session:
        entry = _open(session, conversation_id)
        return _view(entry) if entry else None


def entries(statuses: tuple[str, ...] = OPEN, url: str | None = None) -> list[HandoffView]:
    """Entries with these statuses, oldest first."""
    with session_scope(url) as session:
        rows = session.scalars(
            select(Handoff).where(Handoff.status.in_(statuses)).order_by(Handoff.queued_at)
        )
        return [_view(h) for h in rows]


def waiting(url: str | None = None) -> list[Waiting]:
    """The waiting conversations, for ordering and positions."""
    return [e.as_waiting() for e in entries(("waiting",), url)]


def claim(conversation_id: str, agent_id: str, now: datetime, url: str | None = None) -> bool:
    """An agent takes a waiting conversation; False if it is no longer waiting."""
    with session_scope(url) as session:
        entry = _open(session, conversation_id)
        if entry is None or entry.status != "waiting":
            return False
        entry.status, entry.agent_id, entry.claimed_at = "active", agent_id, now
        return True


def record_reply(conversation_id: str, agent_id: str, now: datetime, url: str | None = None):
    """Note the agent's first reply time (for first-reply statistics)."""
    with session_scope(url) as session:
        entry = _open(session, conversation_id)
        if entry is not None and entry.agent_id == agent_id and entry.first_reply_at is None:
            entry.first_reply_at = now


def close(
    conversation_id: str, agent_id: str, summary: str, now: datetime, url: str | None = None
) -> bool:
    """Hand the conversation back to the bot with the agent's summary note."""
    with session_scope(url) as session:
        entry = _open(session, conversation_id)
        if entry is None or entry.agent_id != agent_id:
            return False
        entry.status, entry.summary, entry.closed_at = "closed", summary[:500], now
        return True


def agent_states(agents: list[dict], since: datetime, url: str | None = None) -> list[AgentState]:
    """Each configured agent's load and idle-since time (last hand-back, else `since`)."""
    with session_scope(url) as session:
        active = dict(
            session.execute(
                select(Handoff.agent_id, func.count())
                .where(Handoff.status == "active")
                .group_by(Handoff.agent_id)
            ).all()
        )
        last_closed = dict(
            session.execute(
                select(Handoff.agent_id, func.max(Handoff.closed_at))
                .where(Handoff.status == "closed")
                .group_by(Handoff.agent_id)
            ).all()
        )
    return [
        AgentState(
            a["id"],
            tuple(a["skills"]),
            bool(a.get("available", True)),
            int(active.get(a["id"], 0)),
            int(a.get("capacity", 3)),
            last_closed.get(a["id"]) or since,
        )
        for a in agents
    ]
