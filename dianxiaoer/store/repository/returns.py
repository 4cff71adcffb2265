"""Return requests (RMA) of order items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from dianxiaoer.store import order_source
from dianxiaoer.store.models import OrderItem, ReturnRequest
from dianxiaoer.store.repository.common import EffectKey, _number, once


@dataclass(frozen=True)
class ReturnView:
    """A return request (RMA) of an order."""

    rma: str
    status: str
    refund_amount: Decimal
    created_at: datetime


def create_return(
    order_id: str,
    item_id: int,
    reason: str,
    now: datetime,
    url: str | None = None,
    key: EffectKey | None = None,
) -> str:
    """Record a return request for one item; returns the RMA number (once per `key`).

    With `ORDER_SOURCE=http` the return is filed with the shop's order system (the key is
    its idempotency key) and shows in the order it answers.
    """
    source = order_source.remote(url)
    if source is not None:
        return source.create_return(
            order_id, item_id, reason, now, order_source.idempotency_key(key)
        )

    def change(session: Session) -> str:
        item = session.get(OrderItem, item_id)
        if item is None or item.order_id != order_id:
            raise ValueError("item does not belong to the order")
        rma = _number("RMA", now)
        session.add(
            ReturnRequest(
                rma=rma,
                order_id=order_id,
                item_id=item_id,
                reason=reason,
                refund_amount=item.price * item.quantity,
                created_at=now,
                updated_at=now,
            )
        )
        return rma

    return once(url, key, now, change)
