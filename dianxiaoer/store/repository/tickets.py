"""Service tickets: opening them (numbered by kind), finding them, showing them to staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dianxiaoer.store import order_source
from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Ticket
from dianxiaoer.store.repository.common import EffectKey, _number, once


@dataclass(frozen=True)
class TicketView:
    """A service ticket about an order."""

    number: str
    kind: str
    status: str
    priority: str
    created_at: datetime


_TICKET_PREFIX = {
    "urge": "CJ",
    "complaint": "TS",
    "invoice": "FP",
    "handoff": "RG",
    "aftersale": "SH",
    "feedback": "PJ",
    "retention": "WH",
}


def _add_ticket(
    session: Session,
    kind: str,
    now: datetime,
    order_id: str | None,
    customer_id: str | None,
    priority: str,
    details: dict | None,
    **columns,
) -> str:
    prefix = _TICKET_PREFIX.get(kind, "TK")
    number = _number(prefix, now)
    while session.get(Ticket, number) is not None:
        number = _number(prefix, now)
    session.add(
        Ticket(
            number=number,
            kind=kind,
            priority=priority,
            order_id=order_id,
            customer_id=customer_id,
            details=details or {},
            created_at=now,
            updated_at=now,
            **columns,
        )
    )
    return number


def forward_ticket(
    number: str,
    kind: str,
    order_id: str | None,
    customer_id: str | None,
    priority: str,
    details: dict | None,
    now: datetime,
    url: str | None = None,
) -> None:
    """File a new ticket with the shop's order system when it is one the system acts on.

    Only with `ORDER_SOURCE=http`, for `order_source.FORWARDED_TICKETS` about an order.
    Called inside the ticket's transaction, so a failure keeps neither; the ticket number
    is the order system's idempotency key, so a resend is one ticket there.
    """
    if kind not in order_source.FORWARDED_TICKETS or not order_id:
        return
    source = order_source.remote(url)
    if source is not None:
        source.file_ticket(number, kind, order_id, customer_id, priority, details or {}, now)


def create_ticket(
    kind: str,
    now: datetime,
    order_id: str | None = None,
    customer_id: str | None = None,
    priority: str = "normal",
    details: dict | None = None,
    url: str | None = None,
    conversation_id: str | None = None,
    key: EffectKey | None = None,
) -> str:
    """Open a ticket; returns its number (once per `key`).

    Kinds: urge (催件), complaint, invoice, handoff, aftersale, feedback, retention.
    """

    def change(session: Session) -> str:
        number = _add_ticket(
            session,
            kind,
            now,
            order_id,
            customer_id,
            priority,
            details,
            conversation_id=conversation_id,
        )
        forward_ticket(number, kind, order_id, customer_id, priority, details, now, url)
        return number

    return once(url, key, now, change)


def open_ticket_for(order_id: str, kind: str, url: str | None = None) -> str | None:
    """Number of an open ticket of `kind` for the order (to avoid duplicates)."""
    with session_scope(url) as session:
        return session.scalar(
            select(Ticket.number).where(
                Ticket.order_id == order_id, Ticket.kind == kind, Ticket.status == "open"
            )
        )


def ticket(number: str, url: str | None = None) -> TicketView | None:
    """One ticket by number."""
    with session_scope(url) as session:
        t = session.get(Ticket, number)
        return TicketView(t.number, t.kind, t.status, t.priority, t.created_at) if t else None


def ticket_details(number: str, url: str | None = None) -> dict | None:
    """A ticket for the agent console: kind, psychology, anger, priority, status, order."""
    with session_scope(url) as session:
        t = session.get(Ticket, number)
        if t is None:
            return None
        return {
            "number": t.number,
            "kind": t.kind,
            "psychology": t.psychology,
            "anger": t.anger,
            "priority": t.priority,
            "status": t.status,
            "order_id": t.order_id,
        }
