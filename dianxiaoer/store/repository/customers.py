"""Customers: what the human handoff queue needs to know about them."""

from __future__ import annotations

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Customer


def customer_is_vip(customer_id: str | None, url: str | None = None) -> bool:
    """Whether the customer is a VIP (queue priority)."""
    if not customer_id:
        return False
    with session_scope(url) as session:
        customer = session.get(Customer, customer_id)
        return bool(customer and customer.is_vip)
