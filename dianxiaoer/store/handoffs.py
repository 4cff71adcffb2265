"""The handoff queue in the shop store: enqueue, claim, first reply, close; callbacks.

Ordering and distribution decisions are `dianxiaoer.shop.handoff`'s; this module only reads
and writes rows, returning plain snapshots.

Callbacks (asked outside service hours) are rows with status `callback`; an agent who has
contacted the customer marks one `callback_done` (agent_id, closed_at = contact time,
summary = the agent's note, details["contact"] = how and what was sent). No extra table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from dianxiaoer.shop.handoff import AgentState, Waiting
from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Customer, Handoff

OPEN = ("waiting", "active")
#: A callback request (off duty) before and after an agent contacted the customer.
CALLBACK, CALLBACK_DONE = "callback", "callback_done"
#: How an agent reached the customer of a callback.
CONTACT_WAYS = ("phone", "message")


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


def _open(session, conversation_id: str, statuses: tuple[str, ...] = OPEN) -> Handoff | None:
    return session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(statuses))
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
    more urgent; likewise an open callback for a second callback request.
    """
    with session_scope(url) as session:
        # asking twice off duty must not put the customer twice on the callback list
        existing = _open(session, conversation_id, (CALLBACK,) if status == CALLBACK else OPEN)
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
        # .tuples() only types the rows as plain tuples (the same Result at runtime)
        active: dict[str | None, int] = dict(
            session.execute(
                select(Handoff.agent_id, func.count())
                .where(Handoff.status == "active")
                .group_by(Handoff.agent_id)
            )
            .tuples()
            .all()
        )
        last_closed: dict[str | None, datetime | None] = dict(
            session.execute(
                select(Handoff.agent_id, func.max(Handoff.closed_at))
                .where(Handoff.status == "closed")
                .group_by(Handoff.agent_id)
            )
            .tuples()
            .all()
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


# --- callbacks (requested outside service hours) -------------------------------------


@dataclass(frozen=True)
class CallbackView:
    """A callback request with the customer's contact data from the shop store."""

    entry: HandoffView
    customer_name: str | None
    customer_phone: str | None
    customer_vip: bool

    @property
    def contact(self) -> dict:
        """How and when the customer was contacted ({} while open)."""
        return dict(self.entry.details.get("contact") or {})


def _callback_view(h: Handoff, customer: Customer | None) -> CallbackView:
    return CallbackView(
        _view(h),
        customer.name if customer else None,
        customer.phone if customer else None,
        bool(customer and customer.is_vip),
    )


def _with_customer():
    return select(Handoff, Customer).outerjoin(Customer, Customer.id == Handoff.customer_id)


def callbacks(
    groups: tuple[str, ...] | None = None,
    statuses: tuple[str, ...] = (CALLBACK,),
    url: str | None = None,
    conversation_id: str | None = None,
) -> list[CallbackView]:
    """Callback requests (default: the open ones) of these skill groups, oldest first.

    `groups` None means every group (a supervisor's view); `conversation_id` limits the
    list to one conversation.
    """
    query = _with_customer().where(Handoff.status.in_(statuses))
    if groups is not None:
        query = query.where(Handoff.skill_group.in_(groups))
    if conversation_id is not None:
        query = query.where(Handoff.conversation_id == conversation_id)
    with session_scope(url) as session:
        rows = session.execute(query.order_by(Handoff.queued_at, Handoff.id)).all()
        return [_callback_view(h, c) for h, c in rows]


def callback(entry_id: int, url: str | None = None) -> CallbackView | None:
    """One callback request (open or done), or None if `entry_id` is not a callback."""
    query = _with_customer().where(
        Handoff.id == entry_id, Handoff.status.in_((CALLBACK, CALLBACK_DONE))
    )
    with session_scope(url) as session:
        row = session.execute(query).first()
        return _callback_view(*row) if row else None


def mark_callback_done(
    entry_id: int,
    agent_id: str,
    how: str,
    note: str,
    now: datetime,
    message: str | None = None,
    url: str | None = None,
) -> HandoffView | None:
    """Record that `agent_id` contacted the customer (`how`: phone or message) at `now`.

    Only an open callback changes, in one conditional UPDATE: of two agents marking the
    same request the second gets None, so a customer is not messaged twice.
    """
    if how not in CONTACT_WAYS:
        raise ValueError(f"how must be one of {CONTACT_WAYS}, not {how!r}")
    note = (note or "").strip()[:500]
    with session_scope(url) as session:
        entry = session.get(Handoff, entry_id)
        if entry is None or entry.status != CALLBACK:
            return None
        contact = {"how": how, "agent": agent_id, "at": now.isoformat(), "note": note}
        if message is not None:
            contact["message"] = message
        # an UPDATE's result is a CursorResult (Session.execute is typed as Result)
        done = cast(
            CursorResult[Any],
            session.execute(
                update(Handoff)
                .where(Handoff.id == entry_id, Handoff.status == CALLBACK)
                .values(
                    status=CALLBACK_DONE,
                    agent_id=agent_id,
                    closed_at=now,
                    summary=note,
                    details={**(entry.details or {}), "contact": contact},
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if done.rowcount != 1:
            return None
        session.expire(entry)
        updated = session.get(Handoff, entry_id)
        assert updated is not None  # the update above just matched this row
        return _view(updated)


def reopen_callback(entry_id: int, agent_id: str, url: str | None = None) -> bool:
    """Undo `mark_callback_done` by the same agent (the message could not be delivered)."""
    with session_scope(url) as session:
        entry = session.get(Handoff, entry_id)
        if entry is None or entry.status != CALLBACK_DONE or entry.agent_id != agent_id:
            return False
        details = dict(entry.details or {})
        details.pop("contact", None)
        entry.status, entry.agent_id, entry.closed_at, entry.summary = CALLBACK, None, None, ""
        entry.details = details
        return True
