from datetime import datetime

import pytest

from dianxiaoer.core.service_hours import SHANGHAI, humans_on_duty, parse_range


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # 2026-11-23 is a Monday.
    return datetime(2026, 11, 23 + day, hour, minute, tzinfo=SHANGHAI)


def test_weekday_and_weekend_hours():
    assert humans_on_duty("09:00-22:00", "10:00-18:00", at(0, 9))
    assert not humans_on_duty("09:00-22:00", "10:00-18:00", at(0, 22))
    assert not humans_on_duty("09:00-22:00", "10:00-18:00", at(0, 8, 59))
    assert humans_on_duty("09:00-22:00", "10:00-18:00", at(5, 17, 59))  # Saturday
    assert not humans_on_duty("09:00-22:00", "10:00-18:00", at(6, 19))  # Sunday


def test_other_time_zones_are_converted():
    from datetime import timezone

    utc = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
    assert humans_on_duty("09:00-22:00", "10:00-18:00", utc)


@pytest.mark.parametrize("value", ["9-22", "22:00-09:00", "abc"])
def test_bad_ranges(value):
    with pytest.raises(ValueError):
        parse_range(value)
