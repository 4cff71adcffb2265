"""The rules of the phone-tail limits across conversations (dianxiaoer/shop/verification.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dianxiaoer.core.policy import PolicyError, get_policy, load_policy
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.core.settings import PROJECT_ROOT
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
    minutes_left,
    refusals,
)

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI)
MIN = timedelta(minutes=1)
LIMITS = Limits(
    order_failures=5,
    customer_failures=10,
    failure_window=60 * MIN,
    cooling=60 * MIN,
    sender_attempts=10,
    ip_attempts=60,
    rate_window=10 * MIN,
    lockout_handoff_every=24 * 60 * MIN,
)


def test_limits_are_read_from_the_policy_file():
    assert Limits.from_policy(get_policy()) == LIMITS


def test_the_fifth_wrong_tail_is_compared_and_locks_the_sixth_is_refused():
    assert refusals(Counts(order_failures=5), LIMITS) == ()
    assert locks_after_failure(Counts(order_failures=4), LIMITS) == ()
    assert locks_after_failure(Counts(order_failures=5), LIMITS) == (ORDER,)
    assert refusals(Counts(order_failures=6), LIMITS) == (ORDER,)


def test_customer_sender_and_ip_limits():
    assert locks_after_failure(Counts(order_failures=2, customer_failures=10), LIMITS) == (
        CUSTOMER,
    )
    assert refusals(Counts(customer_failures=11), LIMITS) == (CUSTOMER,)
    assert refusals(Counts(sender_attempts=10), LIMITS) == ()
    assert refusals(Counts(sender_attempts=11), LIMITS) == (SENDER,)
    assert refusals(Counts(ip_attempts=61), LIMITS) == (IP,)
    # no client IP known: no IP limit
    assert refusals(Counts(ip_attempts=None), LIMITS) == ()
    assert refusals(Counts(order_failures=6, sender_attempts=11, ip_attempts=61), LIMITS) == (
        SENDER,
        IP,
        ORDER,
    )


def test_the_count_starts_at_the_window_or_at_the_end_of_the_last_lock():
    assert counting_since(NOW, 60 * MIN, None) == NOW - 60 * MIN
    # a lock that ended 10 minutes ago: the failures before it are spent
    assert counting_since(NOW, 60 * MIN, NOW - 10 * MIN) == NOW - 10 * MIN
    # a lock that ended long ago, or is still running, changes nothing
    assert counting_since(NOW, 60 * MIN, NOW - 90 * MIN) == NOW - 60 * MIN
    assert counting_since(NOW, 60 * MIN, NOW + 5 * MIN) == NOW - 60 * MIN


def test_lock_lengths_and_minutes_left():
    assert lock_length(ORDER, LIMITS) == lock_length(CUSTOMER, LIMITS) == 60 * MIN
    assert lock_length(SENDER, LIMITS) == lock_length(IP, LIMITS) == 10 * MIN
    assert minutes_left(NOW + 60 * MIN, NOW) == 60
    assert minutes_left(NOW + timedelta(seconds=61), NOW) == 2
    assert minutes_left(NOW + timedelta(seconds=5), NOW) == 1
    assert minutes_left(NOW - MIN, NOW) == 1


def test_a_lockout_queues_a_human_once_per_period():
    assert may_hand_over(None, NOW, LIMITS)
    assert not may_hand_over(NOW - 60 * MIN, NOW, LIMITS)
    assert may_hand_over(NOW - 24 * 60 * MIN, NOW, LIMITS)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("order_failures", 0, "must be positive"),
        ("cooling_minutes", -5, "must be positive"),
        ("sender_attempts", "ten", "sender_attempts"),
        ("ip_attempts", True, "not a boolean"),
        ("rate_window_minutes", None, "rate_window_minutes"),
    ],
)
def test_bad_limits_are_rejected_when_the_policy_loads(tmp_path: Path, key, value, message):
    data = yaml.safe_load((PROJECT_ROOT / "config" / "policy.yml").read_text(encoding="utf-8"))
    data["verification"][key] = value
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_policy(path)
