"""Complaints: tickets (TS…) with the customer's psychology type and anger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Ticket
from dianxiaoer.store.repository.common import EffectKey, once
from dianxiaoer.store.repository.tickets import TicketView, _add_ticket


def create_complaint(
    now: datetime,
    conversation_id: str,
    psychology: str,
    anger: int,
    priority: str,
    details: dict,
    customer_id: str | None = None,
    order_id: str | None = None,
    url: str | None = None,
    key: EffectKey | None = None,
) -> str:
    """Open a complaint ticket (TS…) with its psychology type and anger; returns its number.

    Once per `key`.
    """
    return once(
        url,
        key,
        now,
        lambda session: _add_ticket(
            session,
            "complaint",
            now,
            order_id,
            customer_id,
            priority,
            details,
            conversation_id=conversation_id,
            psychology=psychology,
            anger=anger,
        ),
    )


def complaints_of(
    conversation_id: str, customer_id: str | None = None, url: str | None = None
) -> list[TicketView]:
    """Complaint tickets of this conversation or of the verified customer, newest first."""
    condition = Ticket.conversation_id == conversation_id
    if customer_id:
        condition = condition | (Ticket.customer_id == customer_id)
    with session_scope(url) as session:
        return [
            TicketView(t.number, t.kind, t.status, t.priority, t.created_at)
            for t in session.scalars(
                select(Ticket)
                .where(Ticket.kind == "complaint", condition)
                .order_by(Ticket.created_at.desc(), Ticket.number.desc())
            )
        ]
