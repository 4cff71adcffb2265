"""Queries and commands of the journeys, returning plain snapshots (no ORM objects).

Every function takes an optional `url` (tests pass their own database) and an explicit
`now` where time matters.

The commands that change the shop for a customer (tickets, coupons, cancellations,
returns, complaints) take an optional `key`
(`EffectKey`: conversation, action, anchor). With a key the change is made once: the key
is written in the change's own transaction, and a call with a key already done returns
the first call's result. So a turn that is retried — the action server died after the
change, or the customer says yes again because the answer never reached them — neither
issues a second coupon or ticket nor loses the one that was made.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import (
    ChurnSignal,
    Coupon,
    Customer,
    Order,
    OrderItem,
    Product,
    Rating,
    ReturnRequest,
    Shipment,
    SideEffect,
    Ticket,
)


def insert_ignore(session: Session, model: type, values: dict) -> bool:
    """Insert a row unless its primary key exists (also when two insert it at once).

    True when this call inserted it. On PostgreSQL a concurrent insert of the same key
    waits for the other transaction, so only one of them gets True.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        statement = dialect_insert(model.__table__).values(**values).on_conflict_do_nothing()
        return session.execute(statement).rowcount == 1
    try:
        with session.begin_nested():
            session.execute(insert(model.__table__).values(**values))
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class EffectKey:
    """What a shop change answers: made once per conversation, action and anchor.

    The anchor is what the change is about, e.g. the offer the customer accepted
    ("compensate:<order>:<ticket>") or the message that asked for it.
    """

    conversation_id: str
    action: str
    anchor: str

    def columns(self) -> dict[str, str]:
        """The key as SideEffect columns (cut to their lengths)."""
        return {
            "conversation_id": self.conversation_id[:255],
            "action": self.action[:48],
            "anchor": self.anchor[:255],
        }


_NOT_DONE = object()


def _done_before(session: Session, key: EffectKey | None, now: datetime):
    """The result of `key` if it was done before; else `_NOT_DONE` (and the key is taken).

    Taking the key is part of the caller's transaction: if the change fails, the key is
    free again.
    """
    if key is None:
        return _NOT_DONE
    columns = key.columns()
    if insert_ignore(session, SideEffect, {**columns, "result": {}, "created_at": now}):
        return _NOT_DONE
    row = session.get(
        SideEffect,
        (columns["conversation_id"], columns["action"], columns["anchor"]),
        populate_existing=True,
    )
    return row.result.get("value")


def _remember(session: Session, key: EffectKey | None, value):
    """Store the result of the change made under `key`; returns `value`."""
    if key is not None:
        columns = key.columns()
        row = session.get(
            SideEffect, (columns["conversation_id"], columns["action"], columns["anchor"])
        )
        row.result = {"value": value}
    return value


def side_effect(key: EffectKey, url: str | None = None):
    """The stored result of `key`, or None if it was not done (tests, diagnostics)."""
    columns = key.columns()
    with session_scope(url) as session:
        row = session.get(
            SideEffect, (columns["conversation_id"], columns["action"], columns["anchor"])
        )
        return None if row is None else row.result.get("value")


@dataclass(frozen=True)
class ItemView:
    """An order line with the product's return flags."""

    id: int
    product_id: str
    name: str
    size: str
    price: Decimal
    flags: dict[str, bool]
    category: str = ""


@dataclass(frozen=True)
class ScanView:
    """A tracking event."""

    time: datetime
    location: str
    description: str


@dataclass(frozen=True)
class ReturnView:
    """A return request (RMA) of an order."""

    rma: str
    status: str
    refund_amount: Decimal
    created_at: datetime


@dataclass(frozen=True)
class TicketView:
    """A service ticket about an order."""

    number: str
    kind: str
    status: str
    priority: str
    created_at: datetime


@dataclass(frozen=True)
class OrderView:
    """Everything the journeys need to know about one order."""

    id: str
    customer_id: str
    customer_name: str
    customer_phone: str
    is_vip: bool
    status: str
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    signed_at: datetime | None
    promised_ship_by: datetime | None
    auto_cancel_at: datetime | None
    total: Decimal
    address: str
    items: tuple[ItemView, ...]
    courier: str | None = None
    tracking_number: str | None = None
    scans: tuple[ScanView, ...] = ()
    last_payment_method: str | None = None
    last_payment_status: str | None = None
    last_failure_reason: str | None = None
    returns: tuple[str, ...] = field(default_factory=tuple)
    return_requests: tuple[ReturnView, ...] = field(default_factory=tuple)
    invoice_requested: bool = False
    tickets: tuple[TicketView, ...] = field(default_factory=tuple)

    def open_ticket(self, kind: str) -> TicketView | None:
        """The open ticket of `kind` about this order, if any."""
        return next((t for t in self.tickets if t.kind == kind and t.status == "open"), None)

    @property
    def last_scan(self) -> ScanView | None:
        """The newest tracking event, if any."""
        return self.scans[-1] if self.scans else None


def _view(order: Order) -> OrderView:
    shipment: Shipment | None = order.shipments[-1] if order.shipments else None
    payment = max(order.payments, key=lambda p: p.created_at) if order.payments else None
    return OrderView(
        id=order.id,
        customer_id=order.customer_id,
        customer_name=order.customer.name,
        customer_phone=order.customer.phone,
        is_vip=order.customer.is_vip,
        status=order.status,
        created_at=order.created_at,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        signed_at=order.signed_at,
        promised_ship_by=order.promised_ship_by,
        auto_cancel_at=order.auto_cancel_at,
        total=order.total,
        address=order.address,
        items=tuple(
            ItemView(
                i.id,
                i.product_id,
                i.product.name,
                i.size,
                i.price,
                {
                    f: bool(getattr(i.product, f))
                    for f in ("customized", "perishable", "digital", "periodical")
                },
                i.product.category,
            )
            for i in order.items
        ),
        courier=shipment.courier if shipment else None,
        tracking_number=shipment.tracking_number if shipment else None,
        scans=tuple(ScanView(e.time, e.location, e.description) for e in shipment.events)
        if shipment
        else (),
        last_payment_method=payment.method if payment else None,
        last_payment_status=payment.status if payment else None,
        last_failure_reason=payment.failure_reason if payment else None,
        invoice_requested=bool(order.invoice_requested),
    )


def _load(session: Session, order_id: str) -> Order | None:
    return session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .options(
            selectinload(Order.customer),
            selectinload(Order.items).selectinload(OrderItem.product),
            selectinload(Order.payments),
            selectinload(Order.shipments).selectinload(Shipment.events),
        )
    )


def find_order(order_id: str, url: str | None = None) -> OrderView | None:
    """The order, or None if there is no such order."""
    with session_scope(url) as session:
        order = _load(session, order_id)
        if order is None:
            return None
        view = _view(order)
        requests = tuple(
            ReturnView(r.rma, r.status, r.refund_amount, r.created_at)
            for r in session.scalars(
                select(ReturnRequest)
                .where(ReturnRequest.order_id == order_id)
                .order_by(ReturnRequest.created_at)
            )
        )
        tickets = tuple(
            TicketView(t.number, t.kind, t.status, t.priority, t.created_at)
            for t in session.scalars(
                select(Ticket).where(Ticket.order_id == order_id).order_by(Ticket.created_at)
            )
        )
        return OrderView(
            **{
                **view.__dict__,
                "returns": tuple(r.rma for r in requests),
                "return_requests": requests,
                "tickets": tickets,
            }
        )


def _number(prefix: str, now: datetime) -> str:
    return f"{prefix}{now:%Y%m%d}{secrets.randbelow(10**6):06d}"


_TICKET_PREFIX = {
    "urge": "CJ",
    "complaint": "TS",
    "invoice": "FP",
    "handoff": "RG",
    "aftersale": "SH",
    "feedback": "PJ",
    "retention": "WH",
}


def _add_ticket(
    session: Session,
    kind: str,
    now: datetime,
    order_id: str | None,
    customer_id: str | None,
    priority: str,
    details: dict | None,
    **columns,
) -> str:
    prefix = _TICKET_PREFIX.get(kind, "TK")
    number = _number(prefix, now)
    while session.get(Ticket, number) is not None:
        number = _number(prefix, now)
    session.add(
        Ticket(
            number=number,
            kind=kind,
            priority=priority,
            order_id=order_id,
            customer_id=customer_id,
            details=details or {},
            created_at=now,
            updated_at=now,
            **columns,
        )
    )
    return number


def create_ticket(
    kind: str,
    now: datetime,
    order_id: str | None = None,
    customer_id: str | None = None,
    priority: str = "normal",
    details: dict | None = None,
    url: str | None = None,
    conversation_id: str | None = None,
    key: EffectKey | None = None,
) -> str:
    """Open a ticket; returns its number (once per `key`).

    Kinds: urge (催件), complaint, invoice, handoff, aftersale, feedback, retention.
    """
    with session_scope(url) as session:
        done = _done_before(session, key, now)
        if done is not _NOT_DONE:
            return done
        number = _add_ticket(
            session,
            kind,
            now,
            order_id,
            customer_id,
            priority,
            details,
            conversation_id=conversation_id,
        )
        return _remember(session, key, number)


def open_ticket_for(order_id: str, kind: str, url: str | None = None) -> str | None:
    """Number of an open ticket of `kind` for the order (to avoid duplicates)."""
    with session_scope(url) as session:
        return session.scalar(
            select(Ticket.number).where(
                Ticket.order_id == order_id, Ticket.kind == kind, Ticket.status == "open"
            )
        )


def _add_coupon(
    session: Session,
    customer_id: str,
    amount: float,
    min_spend: float,
    valid_days: int,
    reason: str,
    now: datetime,
) -> str:
    code = _number("QY", now)
    while session.get(Coupon, code) is not None:
        code = _number("QY", now)
    session.add(
        Coupon(
            code=code,
            customer_id=customer_id,
            amount=Decimal(str(amount)),
            min_spend=Decimal(str(min_spend)),
            reason=reason,
            expires_at=now + timedelta(days=valid_days),
            created_at=now,
        )
    )
    return code


def issue_coupon(
    customer_id: str,
    amount: float,
    min_spend: float,
    valid_days: int,
    reason: str,
    now: datetime,
    url: str | None = None,
    key: EffectKey | None = None,
) -> str:
    """Issue a coupon; returns its code (once per `key`)."""
    with session_scope(url) as session:
        done = _done_before(session, key, now)
        if done is not _NOT_DONE:
            return done
        code = _add_coupon(session, customer_id, amount, min_spend, valid_days, reason, now)
        return _remember(session, key, code)


@dataclass(frozen=True)
class Urge:
    """The 催件 of an order: its ticket and compensation coupon (if any).

    `existed`: the order already had an open 催件 ticket, so nothing new was made.
    """

    ticket: str
    coupon: str | None = None
    existed: bool = False


def urge_delivery(
    order_id: str,
    customer_id: str,
    priority: str,
    details: dict,
    now: datetime,
    coupon: tuple[float, float, int, str] | None = None,
    url: str | None = None,
) -> Urge:
    """Open the 催件 ticket and issue its coupon (amount, min spend, valid days, reason).

    One transaction, so a failure leaves neither; an order with an open 催件 ticket gets
    no second one (nor a coupon), whichever conversation asks.
    """
    with session_scope(url) as session:
        existing = session.scalar(
            select(Ticket.number).where(
                Ticket.order_id == order_id, Ticket.kind == "urge", Ticket.status == "open"
            )
        )
        if existing:
            return Urge(existing, None, True)
        ticket = _add_ticket(session, "urge", now, order_id, customer_id, priority, details)
        code = None
        if coupon:
            amount, min_spend, valid_days, reason = coupon
            code = _add_coupon(session, customer_id, amount, min_spend, valid_days, reason, now)
        return Urge(ticket, code)


def create_return(
    order_id: str,
    item_id: int,
    reason: str,
    now: datetime,
    url: str | None = None,
    key: EffectKey | None = None,
) -> str:
    """Record a return request for one item; returns the RMA number (once per `key`)."""
    with session_scope(url) as session:
        done = _done_before(session, key, now)
        if done is not _NOT_DONE:
            return done
        item = session.get(OrderItem, item_id)
        if item is None or item.order_id != order_id:
            raise ValueError("item does not belong to the order")
        rma = _number("RMA", now)
        session.add(
            ReturnRequest(
                rma=rma,
                order_id=order_id,
                item_id=item_id,
                reason=reason,
                refund_amount=item.price * item.quantity,
                created_at=now,
                updated_at=now,
            )
        )
        return _remember(session, key, rma)


def product_by_name(name: str, url: str | None = None) -> Product | None:
    """A product by its exact catalogue name (detached, with stock loaded)."""
    with session_scope(url) as session:
        product = session.scalar(
            select(Product).where(Product.name == name).options(selectinload(Product.stock))
        )
        if product is not None:
            session.expunge(product)
        return product


@dataclass(frozen=True)
class ProductView:
    """A catalogue item for pre-sale answers."""

    id: str
    name: str
    category: str
    price: Decimal
    attributes: dict
    size_chart: dict | None
    stock: dict[str, int]
    monthly_sales: int
    launched_at: datetime | None


def catalogue(url: str | None = None) -> list[ProductView]:
    """Every product with its stock per size."""
    with session_scope(url) as session:
        products = session.scalars(select(Product).options(selectinload(Product.stock)))
        return [
            ProductView(
                p.id,
                p.name,
                p.category,
                p.price,
                dict(p.attributes or {}),
                p.size_chart,
                {s.size: s.quantity for s in p.stock},
                p.monthly_sales,
                p.launched_at,
            )
            for p in products
        ]


def cancel_order(
    order_id: str, now: datetime, url: str | None = None, key: EffectKey | None = None
) -> str:
    """Cancel an unpaid or unshipped order.

    Returns "cancelled", "refund" (it was paid: the payment is refunded) or "shipped"
    (too late: the return path applies). With a `key` done before, the first answer
    (a retried "refund" stays "refund").
    """
    with session_scope(url) as session:
        done = _done_before(session, key, now)
        if done is not _NOT_DONE:
            return done
        order = session.get(Order, order_id)
        if order is None:
            raise ValueError("no such order")
        if order.status in {"shipped", "signed"}:
            return _remember(session, key, "shipped")
        if order.status == "cancelled":
            return _remember(session, key, "cancelled")
        was_paid = order.status == "paid"
        order.status, order.cancelled_at = "cancelled", now
        return _remember(session, key, "refund" if was_paid else "cancelled")


def change_address(order_id: str, address: str, url: str | None = None) -> bool:
    """Change the delivery address of an order that has not shipped; False if too late."""
    with session_scope(url) as session:
        order = session.get(Order, order_id)
        if order is None:
            raise ValueError("no such order")
        if order.status not in {"unpaid", "paid"}:
            return False
        order.address = address
        return True


def request_invoice(
    order_id: str, title: str, tax_id: str | None, now: datetime, url: str | None = None
) -> str | None:
    """Record an invoice request on the order and open an invoice ticket for staff.

    Returns the ticket number; the existing one if the order already has an open
    invoice ticket; None if the order cannot be invoiced (unpaid or cancelled).
    """
    with session_scope(url) as session:
        order = session.get(Order, order_id)
        if order is None:
            raise ValueError("no such order")
        if order.status in {"unpaid", "cancelled"}:
            return None
        existing = session.scalar(
            select(Ticket.number).where(
                Ticket.order_id == order_id, Ticket.kind == "invoice", Ticket.status == "open"
            )
        )
        if existing:
            return existing
        order.invoice_requested = True
        details = {"title": title, "tax_id": tax_id or "", "kind": "电子普通发票"}
        return _add_ticket(session, "invoice", now, order_id, order.customer_id, "normal", details)


def create_complaint(
    now: datetime,
    conversation_id: str,
    psychology: str,
    anger: int,
    priority: str,
    details: dict,
    customer_id: str | None = None,
    order_id: str | None = None,
    url: str | None = None,
    key: EffectKey | None = None,
) -> str:
    """Open a complaint ticket (TS…) with its psychology type and anger; returns its number.

    Once per `key`.
    """
    with session_scope(url) as session:
        done = _done_before(session, key, now)
        if done is not _NOT_DONE:
            return done
        return _remember(
            session,
            key,
            _add_ticket(
                session,
                "complaint",
                now,
                order_id,
                customer_id,
                priority,
                details,
                conversation_id=conversation_id,
                psychology=psychology,
                anger=anger,
            ),
        )


def escalate_ticket(number: str, priority: str, reason: str, now: datetime, url: str | None = None):
    """Raise a ticket's priority and note why (escalation to a human)."""
    with session_scope(url) as session:
        ticket = session.get(Ticket, number)
        if ticket is None:
            raise ValueError("no such ticket")
        ticket.priority = priority
        ticket.details = {**(ticket.details or {}), "escalated": reason}
        ticket.updated_at = now


def complaints_of(
    conversation_id: str, customer_id: str | None = None, url: str | None = None
) -> list[TicketView]:
    """Complaint tickets of this conversation or of the verified customer, newest first."""
    condition = Ticket.conversation_id == conversation_id
    if customer_id:
        condition = condition | (Ticket.customer_id == customer_id)
    with session_scope(url) as session:
        return [
            TicketView(t.number, t.kind, t.status, t.priority, t.created_at)
            for t in session.scalars(
                select(Ticket)
                .where(Ticket.kind == "complaint", condition)
                .order_by(Ticket.created_at.desc(), Ticket.number.desc())
            )
        ]


def ticket(number: str, url: str | None = None) -> TicketView | None:
    """One ticket by number."""
    with session_scope(url) as session:
        t = session.get(Ticket, number)
        return TicketView(t.number, t.kind, t.status, t.priority, t.created_at) if t else None


def record_rating(
    conversation_id: str,
    score: int,
    journey: str,
    now: datetime,
    customer_id: str | None = None,
    url: str | None = None,
) -> int:
    """Store a 1-5 satisfaction rating; returns its id (a comment may follow)."""
    if not 1 <= int(score) <= 5:
        raise ValueError("a rating is 1-5")
    with session_scope(url) as session:
        rating = Rating(
            conversation_id=conversation_id,
            customer_id=customer_id,
            journey=journey or "",
            score=int(score),
            comment="",
            created_at=now,
        )
        session.add(rating)
        session.flush()
        return rating.id


def update_rating(
    rating_id: int,
    comment: str | None = None,
    ticket_number: str | None = None,
    url: str | None = None,
) -> None:
    """Attach the customer's comment and/or the ticket a low rating opened."""
    with session_scope(url) as session:
        rating = session.get(Rating, rating_id)
        if rating is None:
            raise ValueError("no such rating")
        if comment is not None:
            rating.comment = comment[:500]
        if ticket_number is not None:
            rating.ticket_number = ticket_number


def record_churn_signal(
    conversation_id: str,
    text: str,
    now: datetime,
    cause: str = "",
    customer_id: str | None = None,
    url: str | None = None,
) -> int:
    """Record that a customer said they will leave; returns the signal's id."""
    with session_scope(url) as session:
        signal = ChurnSignal(
            conversation_id=conversation_id,
            customer_id=customer_id,
            text=text[:500],
            cause=cause,
            created_at=now,
        )
        session.add(signal)
        session.flush()
        return signal.id


@dataclass(frozen=True)
class OrderSummary:
    """One line of "我的订单"."""

    id: str
    status: str
    items: str
    total: str


def orders_of(customer_id: str, url: str | None = None) -> list[OrderSummary]:
    """The customer's orders, newest first (for the shop's order page)."""
    with session_scope(url) as session:
        orders = session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .options(selectinload(Order.items).selectinload(OrderItem.product))
            .order_by(Order.created_at.desc())
        )
        return [
            OrderSummary(
                o.id,
                o.status,
                "、".join(
                    f"{i.product.name} {i.size}码" if i.size else i.product.name for i in o.items
                ),
                f"{o.total:.2f}",
            )
            for o in orders
        ]


def ticket_details(number: str, url: str | None = None) -> dict | None:
    """A ticket for the agent console: kind, psychology, anger, priority, status, order."""
    with session_scope(url) as session:
        t = session.get(Ticket, number)
        if t is None:
            return None
        return {
            "number": t.number,
            "kind": t.kind,
            "psychology": t.psychology,
            "anger": t.anger,
            "priority": t.priority,
            "status": t.status,
            "order_id": t.order_id,
        }


def customer_is_vip(customer_id: str | None, url: str | None = None) -> bool:
    """Whether the customer is a VIP (queue priority)."""
    if not customer_id:
        return False
    with session_scope(url) as session:
        customer = session.get(Customer, customer_id)
        return bool(customer and customer.is_vip)
