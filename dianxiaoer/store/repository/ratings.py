"""Satisfaction ratings (1-5) with the customer's comment and any ticket they opened."""

from __future__ import annotations

from datetime import datetime

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Rating


def record_rating(
    conversation_id: str,
    score: int,
    journey: str,
    now: datetime,
    customer_id: str | None = None,
    url: str | None = None,
) -> int:
    """Store a 1-5 satisfaction rating; returns its id (a comment may follow)."""
    if not 1 <= int(score) <= 5:
        raise ValueError("a rating is 1-5")
    with session_scope(url) as session:
        rating = Rating(
            conversation_id=conversation_id,
            customer_id=customer_id,
            journey=journey or "",
            score=int(score),
            comment="",
            created_at=now,
        )
        session.add(rating)
        session.flush()
        return rating.id


def update_rating(
    rating_id: int,
    comment: str | None = None,
    ticket_number: str | None = None,
    url: str | None = None,
) -> None:
    """Attach the customer's comment and/or the ticket a low rating opened."""
    with session_scope(url) as session:
        rating = session.get(Rating, rating_id)
        if rating is None:
            raise ValueError("no such rating")
        if comment is not None:
            rating.comment = comment[:500]
        if ticket_number is not None:
            rating.ticket_number = ticket_number
