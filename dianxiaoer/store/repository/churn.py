"""Churn signals: a customer said they will leave."""

from __future__ import annotations

from datetime import datetime

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import ChurnSignal


def record_churn_signal(
    conversation_id: str,
    text: str,
    now: datetime,
    cause: str = "",
    customer_id: str | None = None,
    url: str | None = None,
) -> int:
    """Record that a customer said they will leave; returns the signal's id."""
    with session_scope(url) as session:
        signal = ChurnSignal(
            conversation_id=conversation_id,
            customer_id=customer_id,
            text=text[:500],
            cause=cause,
            created_at=now,
        )
        session.add(signal)
        session.flush()
        return signal.id
