from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select

from dianxiaoer.store import repository
from dianxiaoer.store.db import get_engine, session_scope, upgrade
from dianxiaoer.store.demo import clear_store, load_demo_data
from dianxiaoer.store.models import (
    ChurnSignal,
    Coupon,
    Order,
    Product,
    Rating,
    ReturnRequest,
    Ticket,
)
from tests.store.conftest import NOW

H, D = timedelta(hours=1), timedelta(days=1)


def test_migration_creates_every_table(store_url):
    tables = set(inspect(get_engine(store_url)).get_table_names())
    assert {
        "customers",
        "products",
        "stock",
        "orders",
        "order_items",
        "payments",
        "shipments",
        "tracking_events",
        "returns",
        "tickets",
        "coupons",
        "ratings",
        "churn_signals",
        "alembic_version",
    } <= tables
    upgrade(store_url)  # idempotent


def test_demo_orders_match_the_specification(store_url):
    o = {i: repository.find_order(i, store_url) for i in (f"20261101000{n}" for n in range(1, 9))}
    o1 = o["202611010001"]
    assert (o1.customer_name, o1.customer_phone, o1.is_vip) == ("张伟", "13800001234", True)
    assert o1.items[0].name == "连衣裙" and o1.items[0].size == "M"
    assert o1.paid_at == NOW - 3 * D and o1.shipped_at == NOW - 2 * D
    assert o1.courier == "中通" and o1.status == "shipped"
    assert o1.last_scan.location == "上海转运中心" and o1.last_scan.time == NOW - 6 * H
    o2 = o["202611010002"]
    assert o2.courier == "圆通" and o2.last_scan.location == "杭州转运中心"
    assert o2.last_scan.time == NOW - 4 * D and o2.items[0].name == "蓝牙耳机"
    o3 = o["202611010003"]
    assert o3.customer_name == "李娜" and o3.customer_phone == "13900005678"
    assert o3.items[0].name == "运动鞋" and o3.items[0].size == "42" and o3.signed_at == NOW - 3 * D
    assert o["202611010004"].signed_at == NOW - 10 * D
    assert (
        o["202611010005"].items[0].flags["customized"]
        and o["202611010005"].signed_at == NOW - 2 * D
    )
    assert o["202611010006"].items[0].flags["perishable"] and o["202611010006"].signed_at == NOW - D
    o7 = o["202611010007"]
    assert o7.status == "unpaid" and o7.created_at == NOW - H
    assert (o7.last_payment_method, o7.last_payment_status, o7.last_failure_reason) == (
        "快捷支付",
        "failed",
        "limit",
    )
    o8 = o["202611010008"]
    assert o8.status == "paid" and o8.shipped_at is None and o8.promised_ship_by < NOW
    assert all(v.created_at.tzinfo is not None for v in o.values())


def test_catalogue(store_url):
    with session_scope(store_url) as session:
        assert 20 <= session.scalar(select(func.count()).select_from(Product)) <= 40
        categories = set(session.scalars(select(Product.category)))
    assert {"女装", "鞋靴", "数码", "食品", "虚拟", "定制"} <= categories
    dress = next(p for p in repository.catalogue(store_url) if p.name == "连衣裙")
    assert dress.size_chart["M"]["height"] == [158, 165]
    assert dress.stock["M"] == 0


def test_unknown_order(store_url):
    assert repository.find_order("209912319999", store_url) is None


def test_tickets_coupons_and_returns(store_url):
    number = repository.create_ticket(
        "urge", NOW, "202611010002", "C1001", "high", {"reason": "no_scan"}, url=store_url
    )
    assert number.startswith("CJ20261125")
    assert repository.open_ticket_for("202611010002", "urge", store_url) == number
    code = repository.issue_coupon("C1001", 10, 50, 30, "物流延迟补偿", NOW, url=store_url)
    item_id = repository.find_order("202611010003", store_url).items[0].id
    rma = repository.create_return("202611010003", item_id, "不喜欢/不想要", NOW, url=store_url)
    with session_scope(store_url) as session:
        assert session.get(Ticket, number).priority == "high"
        coupon = session.get(Coupon, code)
        assert coupon.amount == Decimal("10") and coupon.expires_at == NOW + 30 * D
        ret = session.get(ReturnRequest, rma)
        assert ret.status == "requested" and ret.refund_amount == Decimal("359.00")
    assert rma in repository.find_order("202611010003", store_url).returns
    with pytest.raises(ValueError):
        repository.create_return("202611010004", item_id, "x", NOW, url=store_url)


def test_demo_data_loads_once_and_reloads(store_url):
    with session_scope(store_url) as session:
        assert not load_demo_data(session, now=NOW)
        clear_store(session)
    with session_scope(store_url) as session:
        assert load_demo_data(session, now=NOW + D)
    with session_scope(store_url) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 8
        assert session.get(Order, "202611010001").paid_at == NOW + D - 3 * D


def test_complaints_ratings_and_churn_signals(store_url):
    first = repository.create_complaint(
        NOW, "conv-1", "venting", 2, "normal", {"types": ["venting"]}, url=store_url
    )
    second = repository.create_complaint(
        NOW + H,
        "conv-2",
        "revenge",
        3,
        "urgent",
        {"types": ["revenge"]},
        customer_id="C1002",
        order_id="202611010004",
        url=store_url,
    )
    # by conversation before verification; by customer after it
    assert [t.number for t in repository.complaints_of("conv-1", url=store_url)] == [first]
    found = repository.complaints_of("conv-9", "C1002", url=store_url)
    assert [t.number for t in found] == [second] and found[0].priority == "urgent"
    with session_scope(store_url) as session:
        ticket = session.get(Ticket, first)
        assert (ticket.psychology, ticket.anger, ticket.priority) == ("venting", 2, "normal")
        assert ticket.details == {"types": ["venting"]} and ticket.number.startswith("TS")
    rating = repository.record_rating("conv-1", 2, "complaint", NOW, url=store_url)
    repository.update_rating(rating, comment="回复太慢", ticket_number="PJ1", url=store_url)
    with pytest.raises(ValueError):
        repository.record_rating("conv-1", 6, "complaint", NOW, url=store_url)
    signal = repository.record_churn_signal("conv-1", "再也不买了", NOW, "price", url=store_url)
    with session_scope(store_url) as session:
        stored = session.get(Rating, rating)
        assert (stored.score, stored.comment, stored.ticket_number) == (2, "回复太慢", "PJ1")
        assert session.get(ChurnSignal, signal).cause == "price"
