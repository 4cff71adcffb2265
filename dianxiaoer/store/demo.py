"""Demo shop data, with times relative to the moment of loading (Asia/Shanghai).

The catalogue and customers are demo_shop.yml; the eight demo orders demo_orders.yml,
with times as offsets from the moment of loading, so they behave the same whatever the
day: 202611010002 is always a delayed parcel, 202611010003 always inside the seven-day
window, and so on.

`survey` tells whether a store holds only demo data before `make demo-data` deletes it
(`python -m dianxiaoer.store reset-demo`): its customers, products and orders must be
exactly the demo ones (ids with their names, phones and owners) and its staff-training
rows those of the demo trainees or of "chat-…" trainees. What conversations leave behind
(tickets, coupons, ratings, handoffs, returns, verification attempts, …) can only name
customers and orders of the store, so it is demo data when they are; rows that name no
one (a complaint before verification) go with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import ColumnElement, Table, and_, func, inspect, not_, or_, select
from sqlalchemy.orm import Session

from dianxiaoer.core.service_hours import SHANGHAI
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
ORDERS_FILE = Path(__file__).resolve().parent / "demo_orders.yml"
_FLAGS = ("customized", "perishable", "digital", "periodical")
#: The order columns that demo_orders.yml gives as time offsets.
_ORDER_TIMES = (
    "created_at",
    "paid_at",
    "shipped_at",
    "signed_at",
    "promised_ship_by",
    "auto_cancel_at",
)
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_OFFSET_TERM = re.compile(r"(\d+)([dhm])")
_OFFSET_GROUP = re.compile(r"([+-])((?:\d+[dhm])+)")
_OFFSET = re.compile(r"(?:[+-](?:\d+[dhm])+)+")
#: The demo orders (demo_orders.yml) and the customer each belongs to, for `survey`;
#: tests/store/test_reset_demo.py checks that the two agree.
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


def load_orders(path: Path = ORDERS_FILE) -> list[dict]:
    """The demo orders (YAML), their times still offsets (see the file's header)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["orders"]


def offset(text: str) -> timedelta:
    """A time offset of demo_orders.yml: `-3d1h` (3 days 1 hour ago), `-3d+48h`, `-50m`."""
    text = str(text).replace(" ", "")
    if not _OFFSET.fullmatch(text):
        raise ValueError(f"not a time offset (e.g. -3d1h, -3d+48h, -50m): {text!r}")
    total = timedelta()
    for sign, group in _OFFSET_GROUP.findall(text):
        delta = sum(
            (timedelta(**{_UNITS[unit]: int(n)}) for n, unit in _OFFSET_TERM.findall(group)),
            timedelta(),
        )
        total += delta if sign == "+" else -delta
    return total


def load_demo_data(session: Session, now: datetime | None = None) -> bool:
    """Load the demo catalogue, customers and orders if the store has no orders yet.

    Returns True if data was loaded. `now` (aware) is the reference time; default: now
    in Asia/Shanghai.
    """
    if session.scalar(select(func.count()).select_from(Order)):
        return False
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    products, addresses = _add_catalogue(session, now)
    _add_orders(session, now, products, addresses)
    session.flush()
    return True


def _add_catalogue(session: Session, now: datetime) -> tuple[dict[str, Product], dict[str, str]]:
    """Add the products and customers; returns products by name, addresses by customer."""
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
    return products, addresses


def _add_orders(
    session: Session, now: datetime, products: dict[str, Product], addresses: dict[str, str]
) -> None:
    """Add the orders of demo_orders.yml with their item, payment, shipment and scans."""

    def at(text: str) -> datetime:
        return now + offset(text)

    for spec in load_orders():
        product = products[spec["product"]]
        order = Order(
            id=str(spec["id"]),
            customer_id=spec["customer"],
            status=spec["status"],
            total=product.price,
            address=addresses[spec["customer"]],
            items=[
                OrderItem(
                    product_id=product.id, size=str(spec["size"]), quantity=1, price=product.price
                )
            ],
            **{column: at(spec[column]) for column in _ORDER_TIMES if column in spec},
        )
        session.add(order)
        if payment := spec.get("payment"):
            order.payments.append(
                Payment(
                    method=payment["method"],
                    status=payment["status"],
                    failure_reason=payment.get("failure_reason"),
                    amount=order.total,
                    created_at=at(payment["created_at"]),
                )
            )
        if parcel := spec.get("shipment"):
            shipment = Shipment(
                courier=parcel["courier"],
                tracking_number=str(parcel["tracking_number"]),
                shipped_at=at(parcel["shipped_at"]),
                delivered_at=at(parcel["delivered_at"]) if "delivered_at" in parcel else None,
            )
            shipment.events = [
                TrackingEvent(time=at(time), location=location, description=description)
                for time, location, description in parcel["scans"]
            ]
            order.shipments.append(shipment)


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
