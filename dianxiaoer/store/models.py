"""SQLAlchemy 2.x ORM models of the shop store. Times are stored as UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

UTC = timezone.utc


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every backend: UTC in, UTC out (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """Store as UTC (naive UTC on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the shop store."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, Decimal: Numeric(10, 2)}


class Customer(Base):
    """A shop customer."""

    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    vip_level: Mapped[str] = mapped_column(String(16), default="普通会员")
    created_at: Mapped[datetime]
    orders: Mapped[list[Order]] = relationship(back_populates="customer")

    @property
    def is_vip(self) -> bool:
        """True for the top membership level."""
        return self.vip_level == "VIP"


class Product(Base):
    """A catalogue item with pre-sale attributes and return flags."""

    __tablename__ = "products"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(32))
    price: Mapped[Decimal]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    size_chart: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    customized: Mapped[bool] = mapped_column(Boolean, default=False)
    perishable: Mapped[bool] = mapped_column(Boolean, default=False)
    digital: Mapped[bool] = mapped_column(Boolean, default=False)
    periodical: Mapped[bool] = mapped_column(Boolean, default=False)
    monthly_sales: Mapped[int] = mapped_column(Integer, default=0)
    launched_at: Mapped[datetime | None] = mapped_column(default=None)
    stock: Mapped[list[Stock]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )


class Stock(Base):
    """Units in stock of a product in one size ("" for one-size items)."""

    __tablename__ = "stock"
    __table_args__ = (UniqueConstraint("product_id", "size"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    size: Mapped[str] = mapped_column(String(16), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    product: Mapped[Product] = relationship(back_populates="stock")


class Order(Base):
    """An order. status: unpaid, paid, shipped, signed, cancelled."""

    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(default=None)
    signed_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    promised_ship_by: Mapped[datetime | None] = mapped_column(default=None)
    auto_cancel_at: Mapped[datetime | None] = mapped_column(default=None)
    total: Mapped[Decimal]
    address: Mapped[str] = mapped_column(Text, default="")
    invoice_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )


class OrderItem(Base):
    """A line of an order."""

    __tablename__ = "order_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    size: Mapped[str] = mapped_column(String(16), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    price: Mapped[Decimal]
    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class Payment(Base):
    """A payment attempt. status: success, failed, pending."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    amount: Mapped[Decimal]
    created_at: Mapped[datetime]
    order: Mapped[Order] = relationship(back_populates="payments")


class Shipment(Base):
    """A parcel of an order with its tracking events."""

    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    courier: Mapped[str] = mapped_column(String(16))
    tracking_number: Mapped[str] = mapped_column(String(32), index=True)
    shipped_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    order: Mapped[Order] = relationship(back_populates="shipments")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="TrackingEvent.time"
    )


class TrackingEvent(Base):
    """A courier scan."""

    __tablename__ = "tracking_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    time: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(128))
    shipment: Mapped[Shipment] = relationship(back_populates="events")


class ReturnRequest(Base):
    """A return/refund (RMA). status: requested, approved, received, refunded, rejected."""

    __tablename__ = "returns"
    rma: Mapped[str] = mapped_column(String(24), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id"))
    kind: Mapped[str] = mapped_column(String(16), default="return_refund")
    reason: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    refund_amount: Mapped[Decimal]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Ticket(Base):
    """A service ticket: 催件 (urge), complaint, invoice, handoff, aftersale, feedback.

    Complaints carry the customer's psychology type and anger level (0-3); tickets opened
    before the customer was verified are found again by their conversation.
    """

    __tablename__ = "tickets"
    number: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="open")
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), default=None)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), default=None)
    conversation_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    psychology: Mapped[str | None] = mapped_column(String(16), default=None)
    anger: Mapped[int | None] = mapped_column(Integer, default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Rating(Base):
    """A customer's 1-5 satisfaction rating of a journey, with an optional comment."""

    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), default=None)
    journey: Mapped[str] = mapped_column(String(24), default="")
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    ticket_number: Mapped[str | None] = mapped_column(String(24), default=None)
    created_at: Mapped[datetime]


class ChurnSignal(Base):
    """A customer saying they will leave (再也不买了 / 取消会员), and the cause found."""

    __tablename__ = "churn_signals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(String(24), default="")
    created_at: Mapped[datetime]


class Coupon(Base):
    """A coupon issued to a customer (e.g. delay compensation)."""

    __tablename__ = "coupons"
    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal]
    min_spend: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime]


class Handoff(Base):
    """A conversation handed to a human (ACD queue entry).

    status: waiting -> active (claimed by an agent) -> closed (handed back); or callback
    (asked outside service hours: an agent calls back).
    """

    __tablename__ = "handoffs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), default=None)
    skill_group: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    tier: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    agent_id: Mapped[str | None] = mapped_column(String(32), default=None)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    queued_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    first_reply_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class QuizAttempt(Base):
    """One answer of a trainee (staff training mode) to a quiz question, scored 0-1.

    `level` is the question's ★ level (1-3); `correct` is the score against the policy's
    `training.pass_score` at the time of the answer.
    """

    __tablename__ = "quiz_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trainee_id: Mapped[str] = mapped_column(String(64), index=True)
    question_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24))
    topic: Mapped[str] = mapped_column(String(32), default="")
    level: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    correct: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class QuizBox(Base):
    """A trainee's Leitner box and due time for one question."""

    __tablename__ = "quiz_boxes"
    __table_args__ = (UniqueConstraint("trainee_id", "question_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trainee_id: Mapped[str] = mapped_column(String(64), index=True)
    question_id: Mapped[str] = mapped_column(String(128))
    box: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RoleplayAttempt(Base):
    """A role-play session against a simulated customer, with its scorecard."""

    __tablename__ = "roleplay_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trainee_id: Mapped[str] = mapped_column(String(64), index=True)
    scenario_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))
    total: Mapped[int] = mapped_column(Integer)
    dimensions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class Followup(Base):
    """A 回访 due for a ticket: the chat checks back on it once (a Rasa reminder does).

    Kept here as well as in the Rasa server's memory, where reminders live: a replica that
    dies takes its reminders with it, and the web app's sweeper triggers the overdue ones
    through Rasa's HTTP API (webapp.sweeper). `done_at` is set by whichever firing
    comes first, so the customer hears it once.
    """

    __tablename__ = "followups"
    ticket: Mapped[str] = mapped_column(ForeignKey("tickets.number"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)


class VerificationAttempt(Base):
    """One phone-tail check (dianxiaoer.shop.verification), kept across conversations.

    Written before the tail is compared (outcome "pending"), then "failed" or "matched";
    a check refused by a lock or a rate limit is "refused" and was never compared. No
    foreign keys: the order number a guesser types need not exist.
    """

    __tablename__ = "verification_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    sender: Mapped[str] = mapped_column(String(255), index=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(index=True)


class VerificationLock(Base):
    """A lock of the phone-tail check for an order, customer, conversation id or IP.

    `locked_until` in the past means unlocked. `lockout_handoff_at` (orders) is when a
    lockout last queued the order for a human, so guessing cannot flood the queue.
    """

    __tablename__ = "verification_locks"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    lockout_handoff_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime]


class SideEffect(Base):
    """A shop change an action made once (ticket, coupon, cancellation, return, ...).

    Keyed by conversation, action and anchor (the offer accepted or the message answered):
    an action that runs again for the same anchor — a retried turn, or the customer saying
    yes again because the first answer never arrived — gets `result` back instead of
    making the change a second time. Written in the transaction of the change itself.
    """

    __tablename__ = "side_effects"
    conversation_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    action: Mapped[str] = mapped_column(String(48), primary_key=True)
    anchor: Mapped[str] = mapped_column(String(255), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
