from datetime import datetime, timedelta

import pytest

from dianxiaoer.core.auth import mint_token, phone_tail_matches, verify_token
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.shop.orders import (
    advise_size,
    check_delay,
    check_no_reason_return,
    delay_coupon,
    format_local,
    return_deadline,
)

M = timedelta(minutes=1)


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_window_starts_at_midnight_after_signing_and_lasts_168_hours():
    assert return_deadline(sh(2026, 11, 20, 9, 15)) == sh(2026, 11, 28, 0, 0)
    # signed one minute before midnight: the window still starts the next day
    assert return_deadline(sh(2026, 11, 20, 23, 59)) == sh(2026, 11, 28, 0, 0)
    # signed one minute after midnight: a whole day later
    assert return_deadline(sh(2026, 11, 21, 0, 1)) == sh(2026, 11, 29, 0, 0)
    # signing time given in UTC is taken in Shanghai time (UTC 16:30 = 00:30 next day)
    from datetime import timezone

    assert return_deadline(datetime(2026, 11, 20, 16, 30, tzinfo=timezone.utc)) == sh(2026, 11, 29)


def test_one_minute_before_and_after_the_deadline():
    signed = sh(2026, 11, 20, 9, 15)
    deadline = sh(2026, 11, 28)
    before = check_no_reason_return(signed, {}, deadline - M)
    after = check_no_reason_return(signed, {}, deadline + M)
    assert before.eligible and before.deadline == deadline
    assert not after.eligible and after.reason == "window_expired"
    assert not check_no_reason_return(signed, {}, deadline).eligible


@pytest.mark.parametrize("flag", ["customized", "perishable", "digital", "periodical"])
def test_exclusions_hold_inside_the_window(flag):
    result = check_no_reason_return(sh(2026, 11, 24, 10), {flag: True}, sh(2026, 11, 25, 10))
    assert not result.eligible and result.reason == f"excluded_{flag}"


def test_not_signed_yet():
    assert check_no_reason_return(None, {}, sh(2026, 11, 25)).reason == "not_signed"


def test_delay_detection():
    now = sh(2026, 11, 25, 10)
    assert check_delay("shipped", None, now - timedelta(hours=6), now, 48).kind == "none"
    late = check_delay("shipped", None, now - timedelta(days=4), now, 48)
    assert late.kind == "no_scan" and late.hours == 96
    assert check_delay("shipped", None, now - timedelta(hours=48), now, 48).kind == "none"
    overdue = check_delay("paid", now - timedelta(hours=24), None, now, 48)
    assert overdue.kind == "unshipped_overdue" and overdue.hours == 24
    assert check_delay("paid", now + timedelta(hours=1), None, now, 48).kind == "none"
    assert check_delay("signed", None, now - timedelta(days=9), now, 48).kind == "none"


def test_delay_compensation_follows_the_policy():
    policy = get_policy()
    now = sh(2026, 11, 25, 10)
    short = check_delay("shipped", None, now - timedelta(hours=60), now, 48)
    long = check_delay("shipped", None, now - timedelta(hours=100), now, 48)
    assert delay_coupon(True, short, policy) == policy["compensation.vip_delay_coupon_yuan"]
    assert delay_coupon(False, short, policy) == 0
    assert delay_coupon(False, long, policy) == policy["compensation.long_delay_coupon_yuan"]
    assert delay_coupon(True, check_delay("signed", None, None, now, 48), policy) == 0


CHART = {
    "S": {"height": [150, 158], "weight": [40, 48]},
    "M": {"height": [158, 165], "weight": [48, 55]},
    "L": {"height": [165, 172], "weight": [55, 63]},
    "XL": {"height": [170, 178], "weight": [63, 72]},
}


def test_size_advice():
    assert advise_size(CHART, 160, 50) == "M"
    assert advise_size(CHART, 165, 55) == "L"  # on the boundary: the larger size
    assert advise_size(CHART, 168, 50) == "L"  # tall but light: fits by height
    assert advise_size(CHART, 190, 95) == "XL"
    assert advise_size(CHART, 140, 35) == "S"
    assert advise_size(None, 160, 50) is None
    assert advise_size(CHART, None, 50) is None
    assert advise_size({"42": {"foot_length_mm": [255, 260]}}, 170, 60) is None


def test_customer_tokens(monkeypatch):
    monkeypatch.setenv("SHOP_TOKEN_SECRET", "s3cret")
    token = mint_token("C1001", 60, now=1000)
    assert verify_token(token, now=1030) == "C1001"
    assert verify_token(token, now=1061) is None  # expired
    assert verify_token(token.replace("C1001", "C1002"), now=1030) is None  # forged
    monkeypatch.setenv("SHOP_TOKEN_SECRET", "other")
    assert verify_token(token, now=1030) is None  # another shop's secret
    for bad in (None, "", "abc", "a.b", "a.b.c.d", 42):
        assert verify_token(bad) is None


def test_phone_tail():
    assert phone_tail_matches("13800001234", "1234")
    assert not phone_tail_matches("13800001234", "4321")
    assert not phone_tail_matches("13800001234", "234")
    assert not phone_tail_matches("13800001234", None)
    assert not phone_tail_matches("13800001234", "12a4")


def test_local_time_format():
    from datetime import timezone

    assert format_local(datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)) == "2026-11-28 00:00"


def test_trainee_and_customer_tokens_are_not_interchangeable():
    from dianxiaoer.core.auth import mint_trainee_token, verify_customer_token, verify_trainee_token

    trainee = mint_trainee_token("xiaoli", 60, now=1000)
    customer = mint_token("C1001", 60, now=1000)
    assert verify_trainee_token(trainee, now=1030) == "xiaoli"
    assert verify_customer_token(trainee, now=1030) is None
    assert verify_trainee_token(customer, now=1030) is None
    assert verify_customer_token(customer, now=1030) == "C1001"
    assert verify_trainee_token(trainee, now=1061) is None
