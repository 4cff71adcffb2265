"""Return requests (RMA) of order items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import OrderItem, ReturnRequest
from dianxiaoer.store.repository.common import (
    _NOT_DONE,
    EffectKey,
    _done_before,
    _number,
    _remember,
)


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
    """Record a return request for one item; returns the RMA number (once per `key`)."""
    with session_scope(url) as session:
        done = _done_before(session, key, now)
        if done is not _NOT_DONE:
            return done
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
        return _remember(session, key, rma)
