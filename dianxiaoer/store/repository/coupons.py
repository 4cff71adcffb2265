"""Coupons issued to customers (compensation, retention)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from dianxiaoer.store.models import Coupon
from dianxiaoer.store.repository.common import EffectKey, _number, once


def _add_coupon(
    session: Session,
    customer_id: str,
    amount: float,
    min_spend: float,
    valid_days: int,
    reason: str,
    now: datetime,
) -> str:
    code = _number("QY", now)
    while session.get(Coupon, code) is not None:
        code = _number("QY", now)
    session.add(
        Coupon(
            code=code,
            customer_id=customer_id,
            amount=Decimal(str(amount)),
            min_spend=Decimal(str(min_spend)),
            reason=reason,
            expires_at=now + timedelta(days=valid_days),
            created_at=now,
        )
    )
    return code


def issue_coupon(
    customer_id: str,
    amount: float,
    min_spend: float,
    valid_days: int,
    reason: str,
    now: datetime,
    url: str | None = None,
    key: EffectKey | None = None,
) -> str:
    """Issue a coupon; returns its code (once per `key`)."""
    return once(
        url,
        key,
        now,
        lambda session: _add_coupon(
            session, customer_id, amount, min_spend, valid_days, reason, now
        ),
    )
