"""Human agents' working hours (from the policy file) and whether they are on duty now."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

# China has one time zone and no daylight saving: a fixed offset is exact and needs no
# tz database on the machine.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def parse_range(value: str) -> tuple[time, time]:
    """Parse "09:00-22:00" into (start, end)."""
    try:
        start_s, end_s = (part.strip() for part in value.split("-", 1))
        start = datetime.strptime(start_s, "%H:%M").time()
        end = datetime.strptime(end_s, "%H:%M").time()
    except ValueError as exc:
        raise ValueError(f"service hours must look like 09:00-22:00, got {value!r}") from exc
    if end <= start:
        raise ValueError(f"service hours must end after they start: {value!r}")
    return start, end


def shanghai_now() -> datetime:
    """The current time in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


def humans_on_duty(weekdays: str, weekends: str, now: datetime | None = None) -> bool:
    """True if `now` (default: current Shanghai time) falls in the working hours."""
    now = (now or shanghai_now()).astimezone(SHANGHAI)
    start, end = parse_range(weekends if now.weekday() >= 5 else weekdays)
    return start <= now.time() < end
