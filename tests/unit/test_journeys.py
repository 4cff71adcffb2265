"""Order journeys decided from plain order snapshots: invoices, quality problems, products."""

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.shop import journeys
from dianxiaoer.shop.presale import find_product_names

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)


def order(status="signed", signed_days_ago=3, category="鞋靴", tickets=()):
    """A minimal order snapshot with one item."""
    item = SimpleNamespace(id=7, name="运动鞋", size="42", category=category, flags={})
    signed = NOW - timedelta(days=signed_days_ago) if status == "signed" else None
    return SimpleNamespace(
        id="202611010003",
        status=status,
        items=(item,),
        signed_at=signed,
        paid_at=NOW - timedelta(days=6),
        promised_ship_by=None,
        auto_cancel_at=None,
        courier=None,
        tracking_number=None,
        last_scan=None,
        last_payment_method="花呗",
        open_ticket=lambda kind: next((t for t in tickets if t.kind == kind), None),
    )


@pytest.fixture()
def policy():
    return get_policy()


@pytest.mark.parametrize(
    ("status", "response"),
    [("unpaid", "utter_invoice_not_unpaid"), ("cancelled", "utter_invoice_not_cancelled")],
)
def test_no_invoice_without_a_real_sale(policy, status, response):
    plan = journeys.plan_invoice(order(status=status), NOW, policy)
    assert [r.response for r in plan.replies] == [response]
    assert plan.pending is None and plan.followup is None


def test_invoice_within_the_request_period_starts_the_title_form(policy):
    days = policy["invoice.request_within_days"]
    plan = journeys.plan_invoice(order(signed_days_ago=days - 1), NOW, policy)
    assert plan.replies[0].response == "utter_invoice_start"
    assert plan.pending == "invoice:202611010003" and plan.followup == "invoice_form"
    # a paid order that has not arrived yet may be invoiced too
    assert journeys.plan_invoice(order(status="paid"), NOW, policy).followup == "invoice_form"


def test_invoice_after_the_request_period_goes_to_a_human(policy):
    days = policy["invoice.request_within_days"]
    plan = journeys.plan_invoice(order(signed_days_ago=days + 1), NOW, policy)
    assert plan.replies[0].response == "utter_invoice_expired"
    assert plan.replies[0].values["days"] == days and plan.followup is None


def test_an_open_invoice_ticket_is_reported_not_duplicated(policy):
    ticket = SimpleNamespace(kind="invoice", number="FP20261125000001", status="open")
    plan = journeys.plan_invoice(order(tickets=(ticket,)), NOW, policy)
    assert plan.replies[0].response == "utter_invoice_already"
    assert plan.replies[0].values["ticket"] == "FP20261125000001" and plan.pending is None


@pytest.mark.parametrize(
    ("text", "title", "tax_id", "problem"),
    [
        ("个人", "个人", None, None),
        ("抬头是张伟", "张伟", None, None),
        ("杭州某某科技有限公司", "杭州某某科技有限公司", None, "need_tax_id"),
        (
            "抬头：杭州某某科技有限公司，税号91330100ma2b3c4d5x",
            "杭州某某科技有限公司",
            "91330100MA2B3C4D5X",
            None,
        ),
        ("a", "a", None, "too_short"),
    ],
)
def test_invoice_title_parsing(text, title, tax_id, problem):
    parsed = journeys.parse_invoice_title(text)
    assert (parsed.title, parsed.tax_id, parsed.problem) == (title, tax_id, problem)


def test_quality_remedy_follows_the_policy_periods(policy):
    quality_days = policy["returns.quality_issue_days"]
    months = policy["warranty.electronics_months"]
    shoes = order(signed_days_ago=quality_days - 1)
    assert journeys.quality_remedy(shoes, shoes.items[0], NOW, policy) == "exchange"
    late_shoes = order(signed_days_ago=quality_days + 1)
    assert journeys.quality_remedy(late_shoes, late_shoes.items[0], NOW, policy) == "expired"
    gadget = order(signed_days_ago=quality_days + 1, category="数码")
    assert journeys.quality_remedy(gadget, gadget.items[0], NOW, policy) == "repair"
    old_gadget = order(signed_days_ago=30 * months + 1, category="数码")
    assert journeys.quality_remedy(old_gadget, old_gadget.items[0], NOW, policy) == "expired"
    unsigned = order(status="shipped")
    assert journeys.quality_remedy(unsigned, unsigned.items[0], NOW, policy) == "not_signed"


def test_quality_plan_offers_one_ticket(policy):
    plan = journeys.plan_quality(order(signed_days_ago=2), NOW, policy)
    assert [r.response for r in plan.replies] == ["utter_quality_exchange"]
    assert plan.pending == "aftersale:202611010003:7:exchange"
    expired = journeys.plan_quality(order(signed_days_ago=400), NOW, policy)
    assert [r.response for r in expired.replies] == ["utter_quality_expired"]
    assert expired.pending is None


def test_two_products_named_are_found_in_order_and_not_twice():
    names = ["保温杯", "定制刻字保温杯", "T恤", "定制T恤", "蓝牙耳机"]
    assert find_product_names("定制刻字保温杯和保温杯有什么区别", names) == [
        "定制刻字保温杯",
        "保温杯",
    ]
    assert find_product_names("T恤跟定制T恤哪个好", names) == ["T恤", "定制T恤"]
    assert find_product_names("定制刻字保温杯能刻几个字", names) == ["定制刻字保温杯"]
