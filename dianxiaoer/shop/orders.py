"""Order rules the journeys apply: return window, exclusions, delays, compensation, sizes.

Pure functions over plain values with an explicit `now`, so every rule is tested with an
injectable clock (one minute before/after a deadline, across midnight).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dianxiaoer.core.service_hours import SHANGHAI

# Reasons an item cannot be returned without a reason (seed 004, Taobao rules).
EXCLUSION_FLAGS = ("customized", "perishable", "digital", "periodical")


def return_deadline(signed_at: datetime, hours: int = 168) -> datetime:
    """End of the seven-day no-reason window.

    The window opens at 00:00 (Shanghai) of the day after signing and lasts `hours`.
    """
    local = signed_at.astimezone(SHANGHAI)
    start = datetime(local.year, local.month, local.day, tzinfo=SHANGHAI) + timedelta(days=1)
    return start + timedelta(hours=hours)


@dataclass(frozen=True)
class ReturnCheck:
    """Whether an item may be returned without a reason, and why (not)."""

    eligible: bool
    reason: str  # ok, not_signed, excluded_<flag>, window_expired
    deadline: datetime | None = None


def check_no_reason_return(
    signed_at: datetime | None, flags: dict[str, bool], now: datetime, hours: int = 168
) -> ReturnCheck:
    """Apply exclusions first (they hold whatever the date), then the window."""
    for flag in EXCLUSION_FLAGS:
        if flags.get(flag):
            deadline = return_deadline(signed_at, hours) if signed_at else None
            return ReturnCheck(False, f"excluded_{flag}", deadline)
    if signed_at is None:
        return ReturnCheck(False, "not_signed")
    deadline = return_deadline(signed_at, hours)
    if now >= deadline:
        return ReturnCheck(False, "window_expired", deadline)
    return ReturnCheck(True, "ok", deadline)


@dataclass(frozen=True)
class DelayCheck:
    """Delivery delay state of an order."""

    kind: str  # none, unshipped_overdue, no_scan
    hours: float = 0.0  # hours past the promise, or since the last scan


def check_delay(
    status: str,
    promised_ship_by: datetime | None,
    last_scan_at: datetime | None,
    now: datetime,
    no_scan_hours: int,
) -> DelayCheck:
    """Detect a delay from the data: unshipped past the promise, or no scan for too long."""
    if status == "paid" and promised_ship_by and now > promised_ship_by:
        return DelayCheck("unshipped_overdue", (now - promised_ship_by).total_seconds() / 3600)
    if status == "shipped" and last_scan_at:
        since = (now - last_scan_at).total_seconds() / 3600
        if since > no_scan_hours:
            return DelayCheck("no_scan", since)
    return DelayCheck("none")


def delay_coupon(is_vip: bool, delay: DelayCheck, policy) -> float:
    """Coupon (yuan) the policy grants for a delay: VIPs always, others on long delays."""
    if delay.kind == "none":
        return 0.0
    if delay.hours >= policy["delays.long_delay_hours"]:
        return float(policy["compensation.long_delay_coupon_yuan"])
    if is_vip:
        return float(policy["compensation.vip_delay_coupon_yuan"])
    return 0.0


def advise_size(chart: dict | None, height_cm: float | None, weight_kg: float | None) -> str | None:
    """The size of a height/weight chart that fits; between sizes, the larger one."""
    if not chart or height_cm is None or weight_kg is None:
        return None
    fitting = []
    for size, ranges in chart.items():
        h, w = ranges.get("height"), ranges.get("weight")
        if not h or not w:
            return None  # not a height/weight chart (shoes)
        height_ok = h[0] <= height_cm <= h[1]
        weight_ok = w[0] <= weight_kg <= w[1]
        if height_ok or weight_ok:
            fitting.append((height_ok and weight_ok, size))
    sizes = list(chart)
    both = [s for ok, s in fitting if ok]
    candidates = both or [s for _, s in fitting]
    if not candidates:
        return sizes[0] if height_cm < chart[sizes[0]]["height"][0] else sizes[-1]
    return max(candidates, key=sizes.index)


def format_local(moment: datetime) -> str:
    """A time as shown to customers: Asia/Shanghai, to the minute."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
