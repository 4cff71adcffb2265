"""The facts of a play: what is true in its situation at its start time.

Order, product, the exact return deadline, coupon values … are computed from the demo
catalogue and config/policy.yml when a play starts and kept in its state, so the
customer and the scorecard judge the trainee against the same numbers all play long.
Without a time (`now` None) only what does not depend on it is computed: the scenario
briefs are built from that.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dianxiaoer.coaching.roleplay.content import CATALOGUE_FILE, _catalogue, _content
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.shop.orders import (
    advise_size,
    check_delay,
    check_no_reason_return,
    delay_coupon,
    format_local,
)

_REFERENCE_NOW = datetime(2026, 1, 1, tzinfo=SHANGHAI)  # static facts need no real time


def _money(value: Any) -> int | float:
    number = float(str(value))
    return int(number) if number.is_integer() else number


def _product(name: str) -> dict:
    for product in _catalogue()["products"]:
        if product["name"] == name:
            return product
    raise ValueError(f"role-play product {name!r} is not in {CATALOGUE_FILE.name}")


def _customer(customer_id: str) -> dict:
    for customer in _catalogue()["customers"]:
        if customer["id"] == customer_id:
            return customer
    raise ValueError(f"role-play customer {customer_id!r} is not in {CATALOGUE_FILE.name}")


def _facts(situation: str, now: datetime | None) -> dict[str, Any]:
    """What is true in the situation at `now` (None: only what does not depend on time)."""
    content = _content()
    demo = content["situations"][situation]["demo"]
    policy = get_policy()
    product = _product(demo["product"])
    facts: dict[str, Any] = {
        "product": product["name"],
        "price": _money(product["price"]),
        "category": product["category"],
    }
    if demo.get("customer"):
        customer = _customer(demo["customer"])
        facts["customer_name"] = customer["name"]
        facts["vip_level"] = customer["vip_level"]
    else:
        anonymous = content["kinds"]["presale"]["customer"]
        facts["customer_name"], facts["vip_level"] = anonymous["name"], anonymous["level"]
    if demo.get("order_id"):
        facts["order_id"] = str(demo["order_id"])
    builders = {
        "delay": _delay_facts,
        "return": _return_facts,
        "payment": _payment_facts,
        "size": _size_facts,
    }
    builders[situation](facts, demo, product, policy, now)
    if now is not None:
        facts["now_at"] = now.isoformat()
    return facts


def _delay_facts(facts, demo, product, policy, now) -> None:
    days = int(demo["last_scan_days_ago"])
    reference = now or _REFERENCE_NOW
    last_scan = reference - timedelta(days=days)
    delay = check_delay("shipped", None, last_scan, reference, policy["delays.no_scan_hours"])
    courier = demo["courier"]
    facts.update(
        courier=courier,
        tracking=demo["tracking"],
        last_scan_location=demo["last_scan_location"],
        days_since_scan=days,
        hours_since_scan=int(delay.hours) if delay.kind != "none" else days * 24,
        no_scan_hours=policy["delays.no_scan_hours"],
        ship_hours=policy["shipping.ship_within_hours"],
        other_couriers=[c for c in policy["shipping.couriers"] if c != courier],
        coupon_yuan=_money(delay_coupon(facts["vip_level"] == "VIP", delay, policy)),
        coupon_min_spend=_money(policy["compensation.coupon_min_spend_yuan"]),
        coupon_valid_days=policy["compensation.coupon_valid_days"],
    )
    if now is not None:
        facts["last_scan_at"] = last_scan.isoformat()


def _return_facts(facts, demo, product, policy, now) -> None:
    hours = policy["returns.no_reason_hours"]
    vip = facts["vip_level"] == "VIP"
    facts.update(
        size=str(demo.get("size") or ""),
        days_since_signed=int(demo["signed_days_ago"]),
        no_reason_hours=hours,
        no_reason_days=policy["returns.no_reason_days"],
        window_starts=policy["returns.window_starts"],
        excluded=list(policy["returns.excluded_categories"]),
        quality_days=policy["returns.quality_issue_days"],
        refund_days=policy["returns.refund_within_days"],
        coupon_yuan=_money(
            policy["complaints.vip_coupon_yuan" if vip else "complaints.coupon_yuan"]
        ),
        coupon_min_spend=_money(policy["compensation.coupon_min_spend_yuan"]),
        coupon_valid_days=policy["compensation.coupon_valid_days"],
    )
    if now is not None:
        signed = now - timedelta(days=int(demo["signed_days_ago"]))
        flags = {flag: bool(product.get(flag)) for flag in ("customized", "perishable")}
        flags |= {flag: bool(product.get(flag)) for flag in ("digital", "periodical")}
        check = check_no_reason_return(signed, flags, now, hours)
        deadline = check.deadline
        assert deadline is not None  # signed is set, so the check always has a deadline
        facts.update(
            signed_at=signed.isoformat(),
            window_start_at=(deadline - timedelta(hours=hours)).isoformat(),
            deadline_at=deadline.isoformat(),
            quality_until_at=(signed + timedelta(days=facts["quality_days"])).isoformat(),
        )


def _payment_facts(facts, demo, product, policy, now) -> None:
    reasons = _content()["failure_reasons"]
    reason, method = demo["failure_reason"], demo["method"]
    facts.update(
        method=method,
        reason=reason,
        reason_label=reasons[reason]["label"],
        reason_cues=list(reasons[reason]["cues"]),
        other_reason_cues=[c for k, r in reasons.items() if k != reason for c in r["cues"]],
        other_methods=[m for m in policy["payment.methods"] if m != method],
        auto_cancel_hours=policy["unpaid.auto_cancel_hours"],
    )
    if now is not None:
        created = now - timedelta(hours=float(demo["created_hours_ago"]))
        facts["created_at"] = created.isoformat()
        facts["auto_cancel_at"] = (
            created + timedelta(hours=facts["auto_cancel_hours"])
        ).isoformat()


def _size_facts(facts, demo, product, policy, now) -> None:
    chart = _catalogue()["size_charts"][product["size_chart"]]
    height, weight = float(demo["height_cm"]), float(demo["weight_kg"])
    size = advise_size(chart, height, weight)
    stock = {str(k): int(v) for k, v in product["stock"].items()}
    attributes = product.get("attributes") or {}

    def span(values) -> str:
        return f"{values[0]}-{values[1]}"

    if size is None:
        # no height/weight chart (shoes): the chart has no size None, as chart[size] said
        raise KeyError(size)
    facts.update(
        height=_money(height),
        weight=_money(weight),
        weight_jin=_money(weight * 2),
        size=size,
        size_height=span(chart[size]["height"]),
        size_weight=span(chart[size]["weight"]),
        stock=stock.get(size, 0),
        sold_out=[s for s, q in stock.items() if q <= 0],
        chart_text="，".join(
            f"{s} {span(r['height'])}cm/{span(r['weight'])}kg" for s, r in chart.items()
        ),
        stock_text="，".join(f"{s} {q}件" for s, q in stock.items()),
        brand=str(attributes.get("品牌", "")),
        material=str(attributes.get("材质", "")),
        colour=str(attributes.get("颜色", "")),
        monthly_sales=int(product.get("monthly_sales", 0)),
        launched_days=int(product.get("launched_days_ago", 0)),
        free_shipping=facts["price"] >= policy["shipping.free_shipping_over_yuan"],
        free_shipping_over=_money(policy["shipping.free_shipping_over_yuan"]),
        price_protect_days=policy["price_protection.days"],
    )


def _display(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts as a template shows them: times in Shanghai to the minute, lists joined."""
    shown: dict[str, Any] = {}
    for key, value in facts.items():
        if key.endswith("_at") and isinstance(value, str):
            shown[key] = format_local(datetime.fromisoformat(value))
        elif isinstance(value, list):
            shown[key] = "、".join(str(v) for v in value)
        else:
            shown[key] = value
    return shown
