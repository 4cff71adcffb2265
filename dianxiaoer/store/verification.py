"""Phone-tail checks and their locks in the shop store (rules: `dianxiaoer.shop.verification`).

Every replica writes and counts the same rows, so neither `/restart`, a new conversation id
nor another replica starts the count again. A check is one `begin` (counted, perhaps
refused) and, if it was let through, one `finish` with the comparison's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from dianxiaoer.shop.verification import (
    CUSTOMER,
    IP,
    ORDER,
    SENDER,
    Counts,
    Limits,
    counting_since,
    lock_length,
    locks_after_failure,
    may_hand_over,
    refusals,
)
from dianxiaoer.store import order_source
from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Order, VerificationAttempt, VerificationLock
from dianxiaoer.store.repository import insert_ignore

#: Outcomes that count as a wrong tail (a check that never finished counts too).
_FAILED = ("pending", "failed")
#: Outcomes of checks that were compared (the rate limits count these).
_CHECKED = ("pending", "failed", "matched")
#: Checks are kept this long at least (the counts look back an hour or two; the rest is
#: the record of an attack), and pruned by every PRUNE_EVERY-th check.
KEEP = timedelta(days=1)
PRUNE_EVERY = 100


@dataclass(frozen=True)
class Gate:
    """A check let through (`attempt` to finish) or refused until `locked_until`."""

    attempt: int | None
    locked_until: datetime | None = None

    @property
    def allowed(self) -> bool:
        """Whether the tail may be compared."""
        return self.attempt is not None


def _subjects(
    order_id: str | None, customer_id: str | None, sender: str, client_ip: str | None
) -> list[tuple[str, str]]:
    pairs = [(SENDER, sender[:255])]
    if order_id:
        pairs.append((ORDER, order_id))
    if customer_id:
        pairs.append((CUSTOMER, customer_id))
    if client_ip:
        pairs.append((IP, client_ip))
    return pairs


def _owner(session: Session, order_id: str | None, url: str | None = None) -> str | None:
    """The customer the order belongs to (None: no such order).

    With `ORDER_SOURCE=http` the order system says (an outage raises, and the check is not
    counted: the customer hears the apology and may try again).
    """
    if not order_id:
        return None
    source = order_source.remote(url)
    if source is not None:
        order = source.find_order(order_id)
        return order.customer_id if order is not None else None
    return session.scalar(select(Order.customer_id).where(Order.id == order_id))


def _active_lock(session: Session, pairs: list[tuple[str, str]], now: datetime) -> datetime | None:
    """The latest end of the locks on `pairs` still running at `now`."""
    until = None
    for scope, key in pairs:
        row = session.get(VerificationLock, (scope, key))
        if row is not None and row.locked_until is not None and row.locked_until > now:
            until = row.locked_until if until is None else max(until, row.locked_until)
    return until


def _lock_row(session: Session, scope: str, key: str, now: datetime) -> VerificationLock:
    """The lock row of (scope, key), created (unlocked) if missing, even by two at once."""
    insert_ignore(session, VerificationLock, {"scope": scope, "key": key, "updated_at": now})
    row = session.get(VerificationLock, (scope, key), populate_existing=True)
    assert row is not None  # inserted above, or already there
    return row


def _lock(session: Session, scope: str, key: str, until: datetime, now: datetime) -> None:
    row = _lock_row(session, scope, key, now)
    if row.locked_until is None or row.locked_until < until:
        row.locked_until = until
    row.updated_at = now


def _failures(session: Session, column, key: str, scope: str, now: datetime, limits: Limits) -> int:
    """Wrong (or unfinished) tails of the order/customer since the count started."""
    last_match = session.scalar(
        select(func.max(VerificationAttempt.id)).where(
            column == key, VerificationAttempt.outcome == "matched"
        )
    )
    lock = session.get(VerificationLock, (scope, key))
    since = counting_since(
        now, limits.failure_window, lock.locked_until if lock is not None else None
    )
    failures = session.scalar(
        select(func.count()).where(
            column == key,
            VerificationAttempt.outcome.in_(_FAILED),
            VerificationAttempt.created_at >= since,
            VerificationAttempt.id > (last_match or 0),
        )
    )
    assert failures is not None  # a count without GROUP BY always returns one row
    return failures


def _checks(session: Session, column, key: str, now: datetime, limits: Limits) -> int:
    checks = session.scalar(
        select(func.count()).where(
            column == key,
            VerificationAttempt.outcome.in_(_CHECKED),
            VerificationAttempt.created_at > now - limits.rate_window,
        )
    )
    assert checks is not None  # a count without GROUP BY always returns one row
    return checks


def _counts(
    session: Session, attempt: VerificationAttempt, now: datetime, limits: Limits
) -> Counts:
    a = VerificationAttempt
    return Counts(
        order_failures=_failures(session, a.order_id, attempt.order_id, ORDER, now, limits),
        customer_failures=(
            _failures(session, a.customer_id, attempt.customer_id, CUSTOMER, now, limits)
            if attempt.customer_id
            else 0
        ),
        sender_attempts=_checks(session, a.sender, attempt.sender, now, limits),
        ip_attempts=(
            _checks(session, a.client_ip, attempt.client_ip, now, limits)
            if attempt.client_ip
            else None
        ),
    )


def _key_of(attempt: VerificationAttempt, scope: str) -> str | None:
    return {
        ORDER: attempt.order_id,
        CUSTOMER: attempt.customer_id,
        SENDER: attempt.sender,
        IP: attempt.client_ip,
    }[scope]


def _lock_key(attempt: VerificationAttempt, scope: str) -> str:
    """The key of a scope `refusals` / `locks_after_failure` named for `attempt`.

    They name the customer only with a customer's failures and the IP only with an IP's
    checks counted (`_counts`), the limits being positive (validated by the policy).
    """
    key = _key_of(attempt, scope)
    assert key is not None
    return key


def locked_until(
    order_id: str | None,
    sender: str,
    client_ip: str | None,
    now: datetime,
    url: str | None = None,
) -> datetime | None:
    """When the phone-tail check for this order, from this requester, opens again.

    None when nothing locks it: not the order, its customer, the conversation id nor the IP.
    """
    with session_scope(url) as session:
        pairs = _subjects(order_id, _owner(session, order_id, url), sender, client_ip)
        return _active_lock(session, pairs, now)


def begin(
    order_id: str,
    sender: str,
    client_ip: str | None,
    now: datetime,
    limits: Limits,
    url: str | None = None,
) -> Gate:
    """Count a phone-tail check and say whether it may be compared.

    Refused while a lock holds, or when this check is over a limit (then the lock is
    written). The check is committed as "pending" before the counts are read, so
    concurrent checks see each other.
    """
    with session_scope(url) as session:
        customer_id = _owner(session, order_id, url)
        pairs = _subjects(order_id, customer_id, sender, client_ip)
        until = _active_lock(session, pairs, now)
        attempt = VerificationAttempt(
            order_id=order_id,
            customer_id=customer_id,
            sender=sender[:255],
            client_ip=client_ip[:64] if client_ip else None,
            outcome="refused" if until else "pending",
            created_at=now,
        )
        session.add(attempt)
        session.flush()
        if attempt.id % PRUNE_EVERY == 0:
            keep = max(KEEP, 2 * (limits.failure_window + limits.cooling), 2 * limits.rate_window)
            session.execute(
                delete(VerificationAttempt).where(VerificationAttempt.created_at < now - keep)
            )
        if until:
            return Gate(None, until)
    with session_scope(url) as session:
        stored = session.get(VerificationAttempt, attempt.id)
        assert stored is not None  # committed by the session above
        attempt = stored
        over = refusals(_counts(session, attempt, now, limits), limits)
        if not over:
            return Gate(attempt.id)
        attempt.outcome = "refused"
        until = now
        for scope in over:
            end = now + lock_length(scope, limits)
            _lock(session, scope, _lock_key(attempt, scope), end, now)
            until = max(until, end)
        return Gate(None, until)


def finish(
    attempt_id: int, matched: bool, now: datetime, limits: Limits, url: str | None = None
) -> datetime | None:
    """Record the comparison; a wrong tail that reaches a limit locks (returns its end)."""
    with session_scope(url) as session:
        attempt = session.get(VerificationAttempt, attempt_id)
        if attempt is None:
            raise ValueError("no such verification attempt")
        attempt.outcome = "matched" if matched else "failed"
        if matched:
            return None
        session.flush()
        locks = locks_after_failure(_counts(session, attempt, now, limits), limits)
        if not locks:
            return None
        until = now + limits.cooling
        for scope in locks:
            _lock(session, scope, _lock_key(attempt, scope), until, now)
        return until


def claim_lockout_handoff(
    order_id: str, now: datetime, limits: Limits, url: str | None = None
) -> bool:
    """Whether this lockout may queue the order for a human (at most once per period).

    A conditional update, so two replicas locking the same order out at once queue it once.
    """
    with session_scope(url) as session:
        row = _lock_row(session, ORDER, order_id, now)
        if not may_hand_over(row.lockout_handoff_at, now, limits):
            return False
        previous = row.lockout_handoff_at
        session.flush()
        # an UPDATE's result is a CursorResult (Session.execute is typed as Result)
        won = cast(
            CursorResult[Any],
            session.execute(
                update(VerificationLock)
                .where(
                    VerificationLock.scope == ORDER,
                    VerificationLock.key == order_id,
                    (
                        VerificationLock.lockout_handoff_at.is_(None)
                        if previous is None
                        else VerificationLock.lockout_handoff_at == previous
                    ),
                )
                .values(lockout_handoff_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        return bool(won)


def attempts(order_id: str, url: str | None = None) -> dict[str, int]:
    """How many checks of the order ended how (for tests and the survival report)."""
    with session_scope(url) as session:
        rows = session.execute(
            select(VerificationAttempt.outcome, func.count())
            .where(VerificationAttempt.order_id == order_id)
            .group_by(VerificationAttempt.outcome)
        ).all()
        return {outcome: count for outcome, count in rows}
