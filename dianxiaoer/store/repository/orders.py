"""Orders: what the journeys read about one (`find_order`) and the changes customers ask for.

Cancelling, changing the address and urging delivery (催件) are order commands; returns,
invoices and complaints about an order have their own modules.

With `ORDER_SOURCE=http` the orders live in the shop's own order system
(`dianxiaoer.store.order_source`, docs/order-api.md): reads, cancelling and the address go
there, and the order seen is recorded here as a shadow row (ids, owner, status; no phone
or address) so the assistant's own records — tickets, coupons, ratings, handoffs — can
name it. A caller that passes a store `url` always means that store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from dianxiaoer.store import order_source
from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Customer, Order, OrderItem, ReturnRequest, Shipment, Ticket
from dianxiaoer.store.repository.common import EffectKey, insert_ignore, once
from dianxiaoer.store.repository.coupons import _add_coupon
from dianxiaoer.store.repository.returns import ReturnView
from dianxiaoer.store.repository.tickets import TicketView, _add_ticket, forward_ticket


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


def _tickets_of(session: Session, order_id: str) -> tuple[TicketView, ...]:
    return tuple(
        TicketView(t.number, t.kind, t.status, t.priority, t.created_at)
        for t in session.scalars(
            select(Ticket).where(Ticket.order_id == order_id).order_by(Ticket.created_at)
        )
    )


def _with_local_records(view: OrderView, url: str | None = None) -> OrderView:
    """An order of the order system, with the assistant's tickets and invoice request.

    Records the shadow rows first (customer and order, inserted once, the status kept
    current for the invoice rules); the customer's phone and address stay in the order
    system.
    """
    with session_scope(url) as session:
        insert_ignore(
            session,
            Customer,
            {
                "id": view.customer_id,
                "name": view.customer_name[:64],
                "phone": "",
                "vip_level": "VIP" if view.is_vip else "普通会员",
                "created_at": view.created_at,
            },
        )
        insert_ignore(
            session,
            Order,
            {
                "id": view.id,
                "customer_id": view.customer_id,
                "status": view.status,
                "created_at": view.created_at,
                "total": view.total,
            },
        )
        session.execute(
            update(Order)
            .where(Order.id == view.id, Order.status != view.status)
            .values(status=view.status)
            .execution_options(synchronize_session=False)
        )
        invoiced = session.scalar(select(Order.invoice_requested).where(Order.id == view.id))
        return OrderView(
            **{
                **view.__dict__,
                "invoice_requested": view.invoice_requested or bool(invoiced),
                "tickets": _tickets_of(session, view.id),
            }
        )


def find_order(order_id: str, url: str | None = None) -> OrderView | None:
    """The order, or None if there is no such order.

    From the configured order source; raises `OrderSourceUnavailable` (a `DBAPIError`,
    like a store outage) when the order system cannot be reached.
    """
    source = order_source.remote(url)
    if source is not None:
        view = source.find_order(order_id)
        return None if view is None else _with_local_records(view)
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
        tickets = _tickets_of(session, order_id)
        return OrderView(
            **{
                **view.__dict__,
                "returns": tuple(r.rma for r in requests),
                "return_requests": requests,
                "tickets": tickets,
            }
        )


@dataclass(frozen=True)
class OrderSummary:
    """One line of "我的订单"."""

    id: str
    status: str
    items: str
    total: str


def orders_of(customer_id: str, url: str | None = None) -> list[OrderSummary]:
    """The customer's orders, newest first (for the shop's order page)."""
    source = order_source.remote(url)
    if source is not None:
        return source.orders_of(customer_id)
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


def cancel_order(
    order_id: str, now: datetime, url: str | None = None, key: EffectKey | None = None
) -> str:
    """Cancel an unpaid or unshipped order.

    Returns "cancelled", "refund" (it was paid: the payment is refunded) or "shipped"
    (too late: the return path applies). With a `key` done before, the first answer
    (a retried "refund" stays "refund"; the order system gets the key as its idempotency
    key).
    """
    source = order_source.remote(url)
    if source is not None:
        return source.cancel_order(order_id, now, order_source.idempotency_key(key))

    def change(session: Session) -> str:
        order = session.get(Order, order_id)
        if order is None:
            raise ValueError("no such order")
        if order.status in {"shipped", "signed"}:
            return "shipped"
        if order.status == "cancelled":
            return "cancelled"
        was_paid = order.status == "paid"
        order.status, order.cancelled_at = "cancelled", now
        return "refund" if was_paid else "cancelled"

    return once(url, key, now, change)


def change_address(order_id: str, address: str, url: str | None = None) -> bool:
    """Change the delivery address of an order that has not shipped; False if too late."""
    source = order_source.remote(url)
    if source is not None:
        return source.change_address(order_id, address)
    with session_scope(url) as session:
        order = session.get(Order, order_id)
        if order is None:
            raise ValueError("no such order")
        if order.status not in {"unpaid", "paid"}:
            return False
        order.address = address
        return True


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
    no second one (nor a coupon), whichever conversation asks. With an order system the
    ticket is filed there too, before this transaction commits: if the system cannot be
    reached, neither is kept and the customer hears the outage apology.
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
        forward_ticket(ticket, "urge", order_id, customer_id, priority, details, now, url)
        code = None
        if coupon:
            amount, min_spend, valid_days, reason = coupon
            code = _add_coupon(session, customer_id, amount, min_spend, valid_days, reason, now)
        return Urge(ticket, code)
