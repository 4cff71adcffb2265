"""Import of a shop's orders (JSON Lines): customers, items, payments, shipments, scans.

One order per line, mapped onto the models the demo orders use (demo.py).

Every line is checked before anything is written, against the file and the store (the
products must be in the catalogue, a customer named by id must exist); a file with any
problem writes nothing. An order whose id is in the store is replaced by its line: its
payments, shipments and scans are the file's, its items are matched by product and size
so the return requests filed against them stay valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dianxiaoer.store.db import session_scope, upgrade
from dianxiaoer.store.importing.common import ImportFailed, ImportSummary
from dianxiaoer.store.importing.fields import Problems, Row, shown
from dianxiaoer.store.importing.sources import read_json_lines
from dianxiaoer.store.models import (
    Customer,
    Order,
    OrderItem,
    Payment,
    Product,
    ReturnRequest,
    Shipment,
    TrackingEvent,
)

STATUSES = ("unpaid", "paid", "shipped", "signed", "cancelled")
PAYMENT_STATUSES = ("success", "failed", "pending")
#: The failure reasons the payment journey explains (dianxiaoer.shop.journeys).
FAILURE_REASONS = ("limit", "balance", "bank_maintenance", "network")
ORDER_TIMES = (
    "created_at",
    "paid_at",
    "shipped_at",
    "signed_at",
    "cancelled_at",
    "promised_ship_by",
    "auto_cancel_at",
)
#: Times an order's status needs, as the journeys read them.
NEEDS = {
    "paid": ("paid_at",),
    "shipped": ("paid_at", "shipped_at"),
    "signed": ("paid_at", "shipped_at", "signed_at"),
    "cancelled": ("cancelled_at",),
}
ORDER_KEYS = frozenset(
    {"id", "customer", "status", "total", "address", "invoice_requested", "items"}
    | {"payments", "payment", "shipments", "shipment", *ORDER_TIMES}
)
CUSTOMER_KEYS = frozenset({"id", "name", "phone", "vip_level"})
ITEM_KEYS = frozenset({"product_id", "size", "quantity", "price"})
PAYMENT_KEYS = frozenset({"method", "status", "failure_reason", "amount", "created_at"})
SHIPMENT_KEYS = frozenset({"courier", "tracking_number", "shipped_at", "delivered_at", "scans"})
SCAN_KEYS = ("time", "location", "description")
ADDRESS_LIMIT = 500
_ID = re.compile(r"[\w.-]+")
_PHONE = re.compile(r"\+?[\d -]+")


@dataclass
class CustomerSpec:
    """A customer as a line gives it (`vip_level` None: keep or default)."""

    line: int
    id: str
    name: str
    phone: str
    vip_level: str | None


@dataclass
class OrderSpec:
    """One valid order line, ready to write."""

    line: int
    id: str
    customer_id: str
    customer: CustomerSpec | None
    status: str
    times: dict[str, datetime | None]
    total: Decimal | None
    address: str
    invoice_requested: bool
    items: list[dict[str, Any]]
    payments: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    #: False when the line has problems: still checked against the store, never written
    ok: bool = True


def _unknown(row: Row, value: Mapping[str, Any], known: frozenset[str]) -> None:
    for key in value:
        if key not in known:
            row.fail(f"{row.where}{key} is not a field (known: {', '.join(sorted(known))})")


def _objects(row: Row, plural: str, singular: str | None = None) -> list[tuple[str, Any]]:
    """The objects of a list field (or its one-object shorthand) with their paths."""
    value = row.values.get(plural)
    if singular and row.values.get(singular) is not None:
        if value is not None:
            row.fail(f"give {plural} or {singular}, not both")
            return []
        return [(f"{singular}.", row.values[singular])]
    if value is None:
        return []
    if not isinstance(value, list):
        row.fail(f"{plural} must be a list")
        return []
    return [(f"{plural}[{n}].", item) for n, item in enumerate(value, start=1)]


def _nested(row: Row, where: str, value: Any, known: frozenset[str]) -> Row | None:
    if not isinstance(value, dict):
        row.fail(f"{where.rstrip('.')} must be an object")
        return None
    nested = Row(row.problems, row.line, value, where=where)
    _unknown(nested, value, known)
    return nested


def _identifier(row: Row, key: str, limit: int, required: bool = True) -> str:
    value = row.text(key, limit, required=required)
    if value and not _ID.fullmatch(value):
        row.fail(f"{row.where}{key} {shown(value)} may hold only letters, digits, '-', '_', '.'")
    return value


def _choice(row: Row, key: str, choices: tuple[str, ...], required: bool = True) -> str:
    value = row.text(key, 32, required=required)
    if value and value not in choices:
        row.fail(f"{row.where}{key} {shown(value)} is not one of {', '.join(choices)}")
    return value


def _customer(row: Row) -> tuple[str, CustomerSpec | None]:
    value = row.values.get("customer")
    if value is None or value == "":
        row.missing("customer")
        return "", None
    if not isinstance(value, dict):
        # an id alone names a customer of the store or of another line
        return _identifier(row, "customer", 16), None
    nested = _nested(row, "customer.", value, CUSTOMER_KEYS)
    if nested is None:
        return "", None
    phone = nested.text("phone", 20, required=True)
    if phone and (not _PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 4):
        # verification compares the phone's last four digits
        nested.fail(f"customer.phone {shown(phone)} is not a phone number")
    spec = CustomerSpec(
        row.line,
        _identifier(nested, "id", 16),
        nested.text("name", 64, required=True),
        phone,
        nested.text("vip_level", 16) or None,
    )
    row.ok = row.ok and nested.ok
    return spec.id, spec


def _item(row: Row, where: str, value: Any) -> dict[str, Any] | None:
    nested = _nested(row, where, value, ITEM_KEYS)
    if nested is None:
        return None
    item = {
        "product_id": _identifier(nested, "product_id", 16),
        "size": nested.text("size", 16),
        "quantity": nested.integer("quantity", default=1, minimum=1),
        "price": nested.money("price", required=False),
    }
    row.ok = row.ok and nested.ok
    return item


def _payment(row: Row, where: str, value: Any) -> dict[str, Any] | None:
    nested = _nested(row, where, value, PAYMENT_KEYS)
    if nested is None:
        return None
    status = _choice(nested, "status", PAYMENT_STATUSES)
    reason = _choice(nested, "failure_reason", FAILURE_REASONS, required=False) or None
    if reason and status != "failed":
        nested.fail(f"{where}failure_reason is only for a failed payment")
    payment = {
        "method": nested.text("method", 16, required=True),
        "status": status,
        "failure_reason": reason,
        "amount": nested.money("amount", required=False),
        "created_at": nested.moment("created_at"),
    }
    row.ok = row.ok and nested.ok
    return payment


def _shipment(row: Row, where: str, value: Any) -> dict[str, Any] | None:
    nested = _nested(row, where, value, SHIPMENT_KEYS)
    if nested is None:
        return None
    scans: list[dict[str, Any]] = []
    listed = value.get("scans") or []
    if not isinstance(listed, list):
        nested.fail(f"{where}scans must be a list")
        listed = []
    for n, scan in enumerate(listed, start=1):
        at = f"{where}scans[{n}]."
        if isinstance(scan, list):
            # the demo file's [time, location, description]
            if len(scan) != 3:
                nested.fail(f"{at.rstrip('.')} must be [time, location, description]")
                continue
            scan = dict(zip(SCAN_KEYS, scan, strict=True))
        event = _nested(nested, at, scan, frozenset(SCAN_KEYS))
        if event is None:
            continue
        scans.append(
            {
                "time": event.moment("time", required=True),
                "location": event.text("location", 64, required=True),
                "description": event.text("description", 128, required=True),
            }
        )
        nested.ok = nested.ok and event.ok
    shipment = {
        "courier": nested.text("courier", 16, required=True),
        "tracking_number": nested.text("tracking_number", 32, required=True),
        "shipped_at": nested.moment("shipped_at"),
        "delivered_at": nested.moment("delivered_at"),
        # oldest first, as the tracking events are read; a bad time is already reported
        "scans": sorted(scans, key=lambda s: s["time"].timestamp() if s["time"] else 0.0),
    }
    row.ok = row.ok and nested.ok
    return shipment


def _order_number_problem(order_id: str) -> str | None:
    """Why customers could not name this order, if its id is not of the policy's format."""
    from dianxiaoer.core.policy import get_policy

    policy = get_policy()
    pattern = policy["orders.id_pattern"]
    if re.fullmatch(pattern, order_id):
        return None
    return (
        f"id {shown(order_id)} is not of this shop's order-number format (policy "
        f"orders.id_pattern {pattern}, e.g. {policy['orders.id_example']}): customers "
        "naming it would not be understood; set orders.id_pattern first (docs/own-shop.md)"
    )


def _order(row: Row) -> OrderSpec:
    _unknown(row, row.values, ORDER_KEYS)
    order_id = _identifier(row, "id", 20)
    problem = _order_number_problem(order_id) if order_id else None
    if problem:
        row.fail(problem)
    customer_id, customer = _customer(row)
    status = _choice(row, "status", STATUSES)
    times = {key: row.moment(key, required=key == "created_at") for key in ORDER_TIMES}
    for key in NEEDS.get(status, ()):
        if times[key] is None and row.raw(key) is None:
            row.fail(f"{key} is required for status {status}")
    created = times["created_at"]
    for key in ("paid_at", "shipped_at", "signed_at", "cancelled_at"):
        moment = times[key]
        if created and moment and moment < created:
            row.fail(f"{key} is before created_at")
    shipped, signed = times["shipped_at"], times["signed_at"]
    if shipped and signed and signed < shipped:
        row.fail("signed_at is before shipped_at")
    items = [_item(row, where, v) for where, v in _objects(row, "items")]
    if not items and "items" not in row.values:
        row.missing("items")
    elif not items:
        row.fail("items is empty (an order has at least one item)")
    seen: dict[tuple[str, str], int] = {}
    for n, item in enumerate(items, start=1):
        if item is None:
            continue
        product_size = (item["product_id"], item["size"])
        if product_size in seen:
            row.fail(
                f"items[{n}] repeats items[{seen[product_size]}] (same product and size: add up)"
            )
        seen.setdefault(product_size, n)
    payments = [_payment(row, where, v) for where, v in _objects(row, "payments", "payment")]
    shipments = [_shipment(row, where, v) for where, v in _objects(row, "shipments", "shipment")]
    if status in ("shipped", "signed") and not shipments:
        row.fail(f"status {status} needs a shipment (courier, tracking number, scans)")
    if status == "unpaid" and shipments:
        row.fail("an unpaid order has no shipment")
    for n, shipment in enumerate(shipments, start=1):
        if shipment and shipment["shipped_at"] is None and shipped is None:
            row.fail(f"shipments[{n}].shipped_at is required (or the order's shipped_at)")
    return OrderSpec(
        line=row.line,
        id=order_id,
        customer_id=customer_id,
        customer=customer,
        status=status,
        times=times,
        total=row.money("total", required=False),
        address=row.text("address", ADDRESS_LIMIT),
        invoice_requested=row.boolean("invoice_requested"),
        items=[i for i in items if i],
        payments=[p for p in payments if p],
        shipments=[s for s in shipments if s],
    )


def read_orders(path: Path) -> tuple[list[OrderSpec], Problems]:
    """The orders of a .jsonl file (bad ones too) and every problem the file itself shows."""
    problems = Problems(path.name)
    orders: list[OrderSpec] = []
    first: dict[str, int] = {}
    customers: dict[str, CustomerSpec] = {}
    for line, value in read_json_lines(path, problems):
        row = Row(problems, line, value)
        order = _order(row)
        if order.id in first:
            row.fail(f"order {shown(order.id)} is also on line {first[order.id]}")
        first.setdefault(order.id, line)
        spec = order.customer
        if spec and spec.id in customers:
            known = customers[spec.id]
            if (known.name, known.phone, known.vip_level) != (
                spec.name,
                spec.phone,
                spec.vip_level,
            ):
                row.fail(f"customer {shown(spec.id)} differs from line {known.line}")
        elif spec and row.ok:
            customers[spec.id] = spec
        order.ok = row.ok
        orders.append(order)
    return orders, problems


def check_store(session: Session, orders: list[OrderSpec], problems: Problems) -> None:
    """Problems only the store shows: unknown products and customers, items with returns.

    Orders with problems of their own are checked too, so every problem is listed at once.
    """
    product_ids = {i["product_id"] for o in orders for i in o.items}
    prices = {
        pid: price
        for pid, price in session.execute(
            select(Product.id, Product.price).where(Product.id.in_(product_ids))
        )
    }
    defined = {o.customer.id for o in orders if o.customer}
    referenced = {o.customer_id for o in orders if o.customer is None}
    existing = set(session.scalars(select(Customer.id).where(Customer.id.in_(referenced))))
    returned = _returned_items(session, [o.id for o in orders])
    for order in orders:
        for n, item in enumerate(order.items, start=1):
            if not item["product_id"]:
                continue  # already reported
            if item["product_id"] not in prices:
                problems.add(
                    order.line,
                    f"items[{n}].product_id {shown(item['product_id'])} is not in the "
                    "catalogue (make import-catalogue first)",
                )
            elif item["price"] is None:
                item["price"] = prices[item["product_id"]]
        known = defined | existing
        if order.customer is None and order.customer_id and order.customer_id not in known:
            problems.add(
                order.line,
                f"customer {shown(order.customer_id)} is not in the store nor given as an "
                "object on another line",
            )
        kept = {(i["product_id"], i["size"]) for i in order.items}
        for key, rma in returned.get(order.id, {}).items():
            if key not in kept:
                problems.add(
                    order.line,
                    f"the item {key[0]} {key[1] or '(one size)'} has the return {rma}: it must "
                    "stay in the order's items",
                )


def _returned_items(
    session: Session, order_ids: list[str]
) -> dict[str, dict[tuple[str, str], str]]:
    query = (
        select(OrderItem.order_id, OrderItem.product_id, OrderItem.size, ReturnRequest.rma)
        .join(ReturnRequest, ReturnRequest.item_id == OrderItem.id)
        .where(OrderItem.order_id.in_(order_ids))
    )
    found: dict[str, dict[tuple[str, str], str]] = {}
    for order_id, product_id, size, rma in session.execute(query):
        found.setdefault(order_id, {})[(product_id, size)] = rma
    return found


def _write_customers(session: Session, orders: list[OrderSpec], summary: ImportSummary) -> None:
    specs = {o.customer.id: o.customer for o in orders if o.customer}
    first_order: dict[str, datetime] = {}
    for order in orders:
        created = order.times["created_at"]
        if created and (
            order.customer_id not in first_order or created < first_order[order.customer_id]
        ):
            first_order[order.customer_id] = created
    stored = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(specs)))}
    for cid, spec in specs.items():
        customer = stored.get(cid)
        if customer is None:
            customer = Customer(id=cid, vip_level="普通会员", created_at=first_order[cid])
            session.add(customer)
        customer.name, customer.phone = spec.name, spec.phone
        if spec.vip_level:
            customer.vip_level = spec.vip_level
        summary.count("customers", inserted=cid not in stored)
    session.flush()  # orders reference them


def _write_order(order: Order, spec: OrderSpec) -> None:
    order.customer_id, order.status = spec.customer_id, spec.status
    for key, moment in spec.times.items():
        setattr(order, key, moment)
    items_total = sum((i["price"] * i["quantity"] for i in spec.items), Decimal("0"))
    order.total = spec.total if spec.total is not None else items_total
    order.address, order.invoice_requested = spec.address, spec.invoice_requested
    # items matched by product and size keep their ids (return requests point at them)
    by_key = {(i.product_id, i.size): i for i in order.items}
    for item in spec.items:
        line = by_key.pop((item["product_id"], item["size"]), None)
        if line is None:
            line = OrderItem(product_id=item["product_id"], size=item["size"])
            order.items.append(line)
        line.quantity, line.price = item["quantity"], item["price"]
    for gone in by_key.values():
        order.items.remove(gone)
    order.payments = [
        Payment(
            method=p["method"],
            status=p["status"],
            failure_reason=p["failure_reason"],
            amount=p["amount"] if p["amount"] is not None else order.total,
            created_at=p["created_at"] or spec.times["paid_at"] or spec.times["created_at"],
        )
        for p in spec.payments
    ]
    order.shipments = [
        Shipment(
            courier=s["courier"],
            tracking_number=s["tracking_number"],
            shipped_at=s["shipped_at"] or spec.times["shipped_at"],
            delivered_at=s["delivered_at"],
            events=[TrackingEvent(**scan) for scan in s["scans"]],
        )
        for s in spec.shipments
    ]


def import_orders(path: Path, url: str | None = None) -> ImportSummary:
    """Check the whole file, then insert or replace its orders in one transaction.

    Raises ImportFailed (with every problem) without writing anything.
    """
    orders, problems = read_orders(path)
    upgrade(url)
    summary = ImportSummary()
    with session_scope(url) as session:
        check_store(session, orders, problems)
        if problems.errors:
            session.rollback()
            raise ImportFailed(problems.in_order())
        _write_customers(session, orders, summary)
        stored = {
            o.id: o
            for o in session.scalars(
                select(Order)
                .where(Order.id.in_([o.id for o in orders]))
                .options(
                    selectinload(Order.items),
                    selectinload(Order.payments),
                    selectinload(Order.shipments).selectinload(Shipment.events),
                )
            )
        }
        for spec in orders:
            order = stored.get(spec.id)
            if order is None:
                order = Order(id=spec.id, items=[], payments=[], shipments=[])
                session.add(order)
            _write_order(order, spec)
            summary.count("orders", inserted=spec.id not in stored)
        session.flush()
    return summary
