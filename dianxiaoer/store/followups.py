"""回访 in the shop store: scheduled with the Rasa reminder, done once, recovered if lost.

Rasa keeps reminders in the memory of the server that set them, so a replica (or the single
server) that stops before a reminder is due loses it. Each 回访 is therefore also a row here:
the action that runs it marks it done (`finish`, first firing wins, so the customer hears it
once), and `claim_overdue` hands the web app's sweeper (webapp.sweeper) the ones that
are past due by a grace period and still not done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Followup


@dataclass(frozen=True)
class Overdue:
    """A 回访 the sweeper claimed: trigger it in this conversation."""

    ticket: str
    conversation_id: str
    due_at: datetime
    attempts: int


def schedule(ticket: str, conversation_id: str, due_at: datetime, url: str | None = None) -> None:
    """Record the 回访 of `ticket` (a ticket has one; scheduling again moves it)."""
    with session_scope(url) as session:
        row = session.get(Followup, ticket)
        if row is None:
            session.add(Followup(ticket=ticket, conversation_id=conversation_id, due_at=due_at))
        else:
            row.conversation_id, row.due_at = conversation_id, due_at
            row.done_at, row.attempts, row.last_attempt_at = None, 0, None


def finish(ticket: str, now: datetime, url: str | None = None) -> bool:
    """Mark the 回访 done; False when it already was (the other firing came first).

    A ticket without a row (opened before this table existed) counts as not done yet.
    """
    with session_scope(url) as session:
        # an UPDATE's result is a CursorResult (Session.execute is typed as Result)
        done = cast(
            CursorResult[Any],
            session.execute(
                update(Followup)
                .where(Followup.ticket == ticket, Followup.done_at.is_(None))
                .values(done_at=now)
            ),
        ).rowcount
        if done:
            return True
        return session.get(Followup, ticket) is None


def claim_overdue(
    now: datetime,
    grace_seconds: float,
    max_attempts: int,
    limit: int = 50,
    url: str | None = None,
) -> list[Overdue]:
    """The 回访 due more than `grace_seconds` ago and not done, claimed for one attempt.

    A claim is a conditional update, so two sweepers (several web apps) never take the same
    one; an attempt that did not get it done is retried after another grace period, at
    most `max_attempts` times.
    """
    cutoff = now - timedelta(seconds=grace_seconds)
    retry = (
        Followup.done_at.is_(None),
        Followup.due_at <= cutoff,
        Followup.attempts < max_attempts,
        or_(Followup.last_attempt_at.is_(None), Followup.last_attempt_at <= cutoff),
    )
    claimed: list[Overdue] = []
    with session_scope(url) as session:
        rows = session.scalars(
            select(Followup).where(*retry).order_by(Followup.due_at).limit(limit)
        ).all()
        candidates = [(r.ticket, r.conversation_id, r.due_at, r.attempts) for r in rows]
    for ticket, conversation_id, due_at, attempts in candidates:
        with session_scope(url) as session:
            won = cast(
                CursorResult[Any],
                session.execute(
                    update(Followup)
                    .where(Followup.ticket == ticket, Followup.attempts == attempts, *retry)
                    .values(attempts=attempts + 1, last_attempt_at=now)
                ),
            ).rowcount
        if won:
            claimed.append(Overdue(ticket, conversation_id, due_at, attempts + 1))
    return claimed


def pending(conversation_id: str, url: str | None = None) -> list[str]:
    """Tickets of this conversation whose 回访 is not done yet."""
    with session_scope(url) as session:
        return list(
            session.scalars(
                select(Followup.ticket).where(
                    Followup.conversation_id == conversation_id, Followup.done_at.is_(None)
                )
            )
        )
