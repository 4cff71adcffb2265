"""Demo shop data, with times relative to the moment of loading (Asia/Shanghai).

The eight demo orders behave the same whatever the day: 202611010002 is always a
delayed parcel, 202611010003 always inside the seven-day window, and so on.

`survey` tells whether a store holds only demo data before `make demo-data` deletes it
(`python -m dianxiaoer.store reset-demo`): its customers, products and orders must be
exactly the demo ones (ids with their names, phones and owners) and its staff-training
rows those of the demo trainees or of "chat-…" trainees. What conversations leave behind
(tickets, coupons, ratings, handoffs, returns, verification attempts, …) can only name
customers and orders of the store, so it is demo data when they are; rows that name no
one (a complaint before verification) go with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import ColumnElement, Table, and_, func, inspect, not_, or_, select
from sqlalchemy.orm import Session

from dianxiaoer.service_hours import SHANGHAI
from dianxiaoer.store.models import (
    Customer,
    Order,
    OrderItem,
    Payment,
    Product,
    Shipment,
    Stock,
    TrackingEvent,
)

CATALOGUE_FILE = Path(__file__).resolve().parent / "demo_shop.yml"
_FLAGS = ("customized", "perishable", "digital", "periodical")
#: The demo orders (built in `load_demo_data`) and the customer each belongs to.
DEMO_ORDERS = {
    "202611010001": "C1001",
    "202611010002": "C1001",
    "202611010003": "C1002",
    "202611010004": "C1002",
    "202611010005": "C1001",
    "202611010006": "C1002",
    "202611010007": "C1001",
    "202611010008": "C1002",
}
#: Trainees who train in the chat without logging in are recorded as "chat-<conversation>".
CHAT_TRAINEE_PREFIX = "chat-"
#: Ids shown per table when a store holds more than the demo data.
EXAMPLES = 5


def load_catalogue(path: Path = CATALOGUE_FILE) -> dict:
    """The demo catalogue and customers (YAML)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_demo_data(session: Session, now: datetime | None = None) -> bool:
    """Load the demo catalogue, customers and orders if the store has no orders yet.

    Returns True if data was loaded. `now` (aware) is the reference time; default: now
    in Asia/Shanghai.
    """
    if session.scalar(select(func.count()).select_from(Order)):
        return False
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    catalogue = load_catalogue()
    charts = catalogue["size_charts"]
    products: dict[str, Product] = {}
    for item in catalogue["products"]:
        product = Product(
            id=item["id"],
            name=item["name"],
            category=item["category"],
            price=Decimal(str(item["price"])),
            attributes=item.get("attributes") or {},
            size_chart=charts[item["size_chart"]] if item.get("size_chart") else None,
            monthly_sales=item.get("monthly_sales", 0),
            launched_at=now - timedelta(days=item.get("launched_days_ago", 365)),
            stock=[Stock(size=str(size), quantity=qty) for size, qty in item["stock"].items()],
            **{flag: bool(item.get(flag)) for flag in _FLAGS},
        )
        products[product.name] = product
        session.add(product)
    addresses = {}
    for c in catalogue["customers"]:
        session.add(
            Customer(
                id=c["id"],
                name=c["name"],
                phone=str(c["phone"]),
                vip_level=c["vip_level"],
                created_at=now - timedelta(days=400),
            )
        )
        addresses[c["id"]] = c["address"]

    def order(oid, cid, product, size, status, created, **times) -> Order:
        p = products[product]
        o = Order(
            id=oid,
            customer_id=cid,
            status=status,
            created_at=created,
            total=p.price,
            address=addresses[cid],
            items=[OrderItem(product_id=p.id, size=size, quantity=1, price=p.price)],
            **times,
        )
        session.add(o)
        return o

    def paid(o: Order, method: str, at: datetime) -> None:
        o.payments.append(Payment(method=method, status="success", amount=o.total, created_at=at))

    def shipped(o: Order, courier: str, number: str, at: datetime, scans) -> Shipment:
        s = Shipment(courier=courier, tracking_number=number, shipped_at=at)
        s.events = [TrackingEvent(time=t, location=loc, description=d) for t, loc, d in scans]
        o.shipments.append(s)
        return s

    h, d = timedelta(hours=1), timedelta(days=1)
    # 1: dress, in transit by 中通, last scan 6 h ago at 上海转运中心
    o1 = order(
        "202611010001",
        "C1001",
        "连衣裙",
        "M",
        "shipped",
        now - 3 * d - h,
        paid_at=now - 3 * d,
        shipped_at=now - 2 * d,
        promised_ship_by=now - 3 * d + 48 * h,
    )
    paid(o1, "花呗", now - 3 * d)
    shipped(
        o1,
        "中通",
        "ZT7312345678901",
        now - 2 * d,
        [
            (now - 2 * d, "杭州仓", "商家已发货，中通快递已揽收"),
            (now - 2 * d + 8 * h, "杭州转运中心", "快件已到达杭州转运中心"),
            (now - 6 * h, "上海转运中心", "快件已到达上海转运中心，正发往下一站"),
        ],
    )
    # 2: earphones, 圆通, last scan 4 days ago at 杭州转运中心: delayed
    o2 = order(
        "202611010002",
        "C1001",
        "蓝牙耳机",
        "",
        "shipped",
        now - 6 * d - h,
        paid_at=now - 6 * d,
        shipped_at=now - 5 * d,
        promised_ship_by=now - 6 * d + 48 * h,
    )
    paid(o2, "快捷支付", now - 6 * d)
    shipped(
        o2,
        "圆通",
        "YT9876543210987",
        now - 5 * d,
        [
            (now - 5 * d, "杭州仓", "商家已发货，圆通速递已揽收"),
            (now - 4 * d, "杭州转运中心", "快件已到达杭州转运中心"),
        ],
    )
    # 3: shoes 42, signed 3 days ago: inside the seven-day window
    o3 = order(
        "202611010003",
        "C1002",
        "运动鞋",
        "42",
        "signed",
        now - 7 * d,
        paid_at=now - 7 * d,
        shipped_at=now - 6 * d,
        signed_at=now - 3 * d,
    )
    paid(o3, "支付宝", now - 7 * d)
    s3 = shipped(
        o3,
        "顺丰",
        "SF1234567890123",
        now - 6 * d,
        [
            (now - 6 * d, "深圳仓", "顺丰速运已收取快件"),
            (now - 3 * d - 2 * h, "北京朝阳营业部", "快件派送中"),
            (now - 3 * d, "北京朝阳区", "已签收，签收人：本人"),
        ],
    )
    s3.delivered_at = now - 3 * d
    # 4: sweater, signed 10 days ago: outside the window
    o4 = order(
        "202611010004",
        "C1002",
        "羊毛衫",
        "M",
        "signed",
        now - 14 * d,
        paid_at=now - 14 * d,
        shipped_at=now - 13 * d,
        signed_at=now - 10 * d,
    )
    paid(o4, "支付宝", now - 14 * d)
    s4 = shipped(
        o4,
        "中通",
        "ZT7300011122233",
        now - 13 * d,
        [
            (now - 13 * d, "杭州仓", "中通快递已揽收"),
            (now - 10 * d, "北京朝阳区", "已签收，签收人：前台"),
        ],
    )
    s4.delivered_at = now - 10 * d
    # 5: customized cup, signed 2 days ago: excluded from no-reason returns
    o5 = order(
        "202611010005",
        "C1001",
        "定制刻字保温杯",
        "",
        "signed",
        now - 6 * d,
        paid_at=now - 6 * d,
        shipped_at=now - 5 * d,
        signed_at=now - 2 * d,
    )
    paid(o5, "网银", now - 6 * d)
    s5 = shipped(
        o5,
        "中通",
        "ZT7300044455566",
        now - 5 * d,
        [
            (now - 5 * d, "杭州仓", "中通快递已揽收"),
            (now - 2 * d, "上海浦东新区", "已签收，签收人：本人"),
        ],
    )
    s5.delivered_at = now - 2 * d
    # 6: fresh milk, signed 1 day ago: perishable, excluded
    o6 = order(
        "202611010006",
        "C1002",
        "鲜牛奶",
        "",
        "signed",
        now - 3 * d,
        paid_at=now - 3 * d,
        shipped_at=now - 2 * d,
        signed_at=now - d,
    )
    paid(o6, "支付宝", now - 3 * d)
    s6 = shipped(
        o6,
        "顺丰",
        "SF1234500000666",
        now - 2 * d,
        [
            (now - 2 * d, "上海冷链仓", "顺丰冷运已收取快件"),
            (now - d, "北京朝阳区", "已签收，签收人：本人"),
        ],
    )
    s6.delivered_at = now - d
    # 7: power bank, created 1 h ago, unpaid; 快捷支付 failed on the bank's single limit
    o7 = order(
        "202611010007", "C1001", "充电宝", "", "unpaid", now - h, auto_cancel_at=now - h + 24 * h
    )
    o7.payments.append(
        Payment(
            method="快捷支付",
            status="failed",
            failure_reason="limit",
            amount=o7.total,
            created_at=now - 50 * timedelta(minutes=1),
        )
    )
    # 8: desk lamp, paid 3 days ago, not shipped, promised within 48 h: overdue
    o8 = order(
        "202611010008",
        "C1002",
        "台灯",
        "",
        "paid",
        now - 3 * d - h,
        paid_at=now - 3 * d,
        promised_ship_by=now - 3 * d + 48 * h,
    )
    paid(o8, "支付宝", now - 3 * d)
    session.flush()
    return True


def clear_store(session: Session) -> None:
    """Delete every row (children first), for reloading the demo data."""
    from dianxiaoer.store.models import Base

    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    session.flush()


@dataclass(frozen=True)
class DemoSet:
    """What the demo data consists of, by id."""

    customers: dict[str, tuple[str, str]]  # id -> (name, phone)
    products: dict[str, str]  # id -> name
    orders: dict[str, str]  # id -> customer id
    trainees: frozenset[str]


def demo_set(path: Path = CATALOGUE_FILE) -> DemoSet:
    """The demo customers, products, orders and trainees."""
    catalogue = load_catalogue(path)
    return DemoSet(
        customers={c["id"]: (c["name"], str(c["phone"])) for c in catalogue["customers"]},
        products={p["id"]: p["name"] for p in catalogue["products"]},
        orders=dict(DEMO_ORDERS),
        trainees=frozenset(catalogue.get("demo_trainees") or ()),
    )


@dataclass
class TableSurvey:
    """One non-empty table of the store: its rows, and those that are not demo data."""

    table: str
    rows: int
    not_demo: int = 0
    examples: list[str] = field(default_factory=list)


def _not_demo(table: Table, columns: set[str], demo: DemoSet) -> tuple[ColumnElement, str] | None:
    """(condition true for rows that are not demo data, column to show) or None."""
    c = table.c
    if table.name == "customers":
        return (
            not_(
                or_(
                    *(
                        and_(c.id == cid, c.name == name, c.phone == phone)
                        for cid, (name, phone) in demo.customers.items()
                    )
                )
            ),
            "id",
        )
    if table.name == "products":
        return (
            not_(or_(*(and_(c.id == pid, c.name == name) for pid, name in demo.products.items()))),
            "id",
        )
    if table.name == "orders":
        return (
            not_(
                or_(*(and_(c.id == oid, c.customer_id == cid) for oid, cid in demo.orders.items()))
            ),
            "id",
        )
    if "trainee_id" in columns:
        demo_trainee = or_(
            c.trainee_id.in_(sorted(demo.trainees)),
            c.trainee_id.like(CHAT_TRAINEE_PREFIX + "%"),
        )
        return not_(demo_trainee), "trainee_id"
    return None


def survey(session: Session, demo: DemoSet | None = None) -> list[TableSurvey]:
    """Every non-empty table of the store with its rows and the rows that are not demo.

    Only tables (and columns) the database has are read, so a store at an older
    migration can be surveyed before it is upgraded. Children of customers, products and
    orders (stock, items, payments, shipments, scans) and what conversations created
    count as demo data once those are; see the module docstring.
    """
    from dianxiaoer.store.models import Base

    demo = demo or demo_set()
    inspector = inspect(session.connection())
    existing = set(inspector.get_table_names())
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name not in existing:
            continue
        rows = session.scalar(select(func.count()).select_from(table)) or 0
        if not rows:
            continue
        entry = TableSurvey(table.name, rows)
        columns = {col["name"] for col in inspector.get_columns(table.name)}
        check = _not_demo(table, columns, demo)
        if check is not None:
            condition, shown = check
            entry.not_demo = (
                session.scalar(select(func.count()).select_from(table).where(condition)) or 0
            )
            if entry.not_demo:
                column = table.c[shown]
                entry.examples = [
                    str(v)
                    for v in session.scalars(
                        select(column).where(condition).distinct().order_by(column).limit(EXAMPLES)
                    )
                ]
        found.append(entry)
    return found
