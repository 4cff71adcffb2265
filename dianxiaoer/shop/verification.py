"""Limits of the phone-tail check across conversations (pure rules, no database).

The per-conversation lock (`verification.max_failures`, a slot) stops one conversation;
`/restart` or a new conversation id starts again, so on its own the check can be guessed
in about half an hour per order. These rules bound the guessing wherever it comes from;
`dianxiaoer.store.verification` keeps the attempts and locks in the shop store, so every
replica sees the same counts:

- **per order**: `order_failures` wrong tails within `failure_window_minutes` lock the
  order's phone-tail check for `cooling_minutes`; while it is locked the tail is not even
  compared, so the right one reveals nothing either;
- **per customer** (the order's owner): all their orders share one phone number, so the
  wrong tails over all of them count together (`customer_failures`);
- **per conversation id and per client IP**: at most `sender_attempts` / `ip_attempts`
  checks within `rate_window_minutes`; beyond that the requester waits out the window.

A check is counted before the tail is compared (as a failure until it matched), so
requests racing each other on several replicas cannot get more than the limit compared.
After a lock ends, or after the right tail, the order's failures start again from zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

#: Lock scopes: what a lock row's key is.
ORDER, CUSTOMER, SENDER, IP = "order", "customer", "sender", "ip"


@dataclass(frozen=True)
class Limits:
    """The limits of `config/policy.yml` → `verification`."""

    order_failures: int
    customer_failures: int
    failure_window: timedelta
    cooling: timedelta
    sender_attempts: int
    ip_attempts: int
    rate_window: timedelta
    lockout_handoff_every: timedelta

    @classmethod
    def from_policy(cls, policy: Any) -> Limits:
        """The limits of a `dianxiaoer.core.policy.Policy` (validated there: all positive)."""
        return cls(
            order_failures=int(policy["verification.order_failures"]),
            customer_failures=int(policy["verification.customer_failures"]),
            failure_window=timedelta(minutes=policy["verification.failure_window_minutes"]),
            cooling=timedelta(minutes=policy["verification.cooling_minutes"]),
            sender_attempts=int(policy["verification.sender_attempts"]),
            ip_attempts=int(policy["verification.ip_attempts"]),
            rate_window=timedelta(minutes=policy["verification.rate_window_minutes"]),
            lockout_handoff_every=timedelta(hours=policy["verification.lockout_handoff_hours"]),
        )


@dataclass(frozen=True)
class Counts:
    """What the store counted for one check, this check included.

    `order_failures` / `customer_failures`: wrong (or not yet compared) tails since the
    count's start (`counting_since`) and after the last right one; `sender_attempts` /
    `ip_attempts`: checks within the rate window (None: no client IP known).
    """

    order_failures: int = 0
    customer_failures: int = 0
    sender_attempts: int = 0
    ip_attempts: int | None = None


def counting_since(now: datetime, window: timedelta, last_lock_end: datetime | None) -> datetime:
    """Start of the failure count: the window, or the end of the last lock if later.

    (The right tail starts the count again too; the store counts the checks after it.)
    """
    start = now - window
    if last_lock_end is not None and start < last_lock_end <= now:
        start = last_lock_end
    return start


def refusals(counts: Counts, limits: Limits) -> tuple[str, ...]:
    """Scopes over their limit before this check is compared (empty: compare the tail).

    The counts include this check: the `limit`-th check is still compared.
    """
    over = []
    if counts.sender_attempts > limits.sender_attempts:
        over.append(SENDER)
    if counts.ip_attempts is not None and counts.ip_attempts > limits.ip_attempts:
        over.append(IP)
    if counts.order_failures > limits.order_failures:
        over.append(ORDER)
    if counts.customer_failures > limits.customer_failures:
        over.append(CUSTOMER)
    return tuple(over)


def locks_after_failure(counts: Counts, limits: Limits) -> tuple[str, ...]:
    """Scopes a wrong tail locks: the order's or customer's failures reached the limit."""
    locks = []
    if counts.order_failures >= limits.order_failures:
        locks.append(ORDER)
    if counts.customer_failures >= limits.customer_failures:
        locks.append(CUSTOMER)
    return tuple(locks)


def lock_length(scope: str, limits: Limits) -> timedelta:
    """How long a lock of `scope` lasts: cooling for orders/customers, the rate window else."""
    return limits.cooling if scope in (ORDER, CUSTOMER) else limits.rate_window


def minutes_left(until: datetime, now: datetime) -> int:
    """Whole minutes until `until`, rounded up, at least 1 (what the reply says)."""
    return max(1, math.ceil((until - now).total_seconds() / 60))


def may_hand_over(last_handoff: datetime | None, now: datetime, limits: Limits) -> bool:
    """Whether a lockout may queue the order for a human (at most once per period)."""
    return last_handoff is None or now - last_handoff >= limits.lockout_handoff_every


__all__ = [
    "CUSTOMER",
    "IP",
    "ORDER",
    "SENDER",
    "Counts",
    "Limits",
    "counting_since",
    "lock_length",
    "locks_after_failure",
    "may_hand_over",
    "minutes_left",
    "refusals",
]
