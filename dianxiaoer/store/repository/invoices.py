"""Invoice requests: recorded on the order, handled by staff through an invoice ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Order, Ticket
from dianxiaoer.store.repository.tickets import _add_ticket


def request_invoice(
    order_id: str, title: str, tax_id: str | None, now: datetime, url: str | None = None
) -> str | None:
    """Record an invoice request on the order and open an invoice ticket for staff.

    Returns the ticket number; the existing one if the order already has an open
    invoice ticket; None if the order cannot be invoiced (unpaid or cancelled).
    """
    with session_scope(url) as session:
        order = session.get(Order, order_id)
        if order is None:
            raise ValueError("no such order")
        if order.status in {"unpaid", "cancelled"}:
            return None
        existing = session.scalar(
            select(Ticket.number).where(
                Ticket.order_id == order_id, Ticket.kind == "invoice", Ticket.status == "open"
            )
        )
        if existing:
            return existing
        order.invoice_requested = True
        details = {"title": title, "tax_id": tax_id or "", "kind": "电子普通发票"}
        return _add_ticket(session, "invoice", now, order_id, order.customer_id, "normal", details)
