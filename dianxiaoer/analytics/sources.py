"""Where the figures come from: the Rasa SQL tracker store and the shop store.

The tracker store is read through its own table (`events`: id, sender_id, type_name,
timestamp, intent_name, action_name, data — the JSON of the event's `as_dict()`), with
SQLAlchemy Core, so any database Rasa's SQL tracker store supports works (SQLite file by
default, PostgreSQL by URL). The shop store is read with its table definitions from
`dianxiaoer.store.models`; only the columns the metrics need are selected.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import overload

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    create_engine,
    select,
)
from sqlalchemy.exc import DBAPIError

from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.core.settings import get_settings

log = logging.getLogger(__name__)

#: Rasa's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent), read-only here.
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

#: Slots whose values the metrics read; other slot events are streamed without their JSON.
SLOTS_READ = ("training_mode", "handoff_requested", "last_ticket")

#: Event types whose JSON the metrics read (actions need only `action_name`).
TYPES_READ = ("user", "bot")

#: Events streamed per database round trip.
BATCH = 5000


@dataclass(frozen=True)
class Filters:
    """Which conversations count: start date range (Asia/Shanghai, inclusive) and channel."""

    since: date | None = None
    until: date | None = None
    channel: str | None = None

    def start_ts(self) -> float | None:
        """Epoch seconds of 00:00 on `since` in Shanghai, or None."""
        if self.since is None:
            return None
        return datetime.combine(self.since, time(), SHANGHAI).timestamp()

    def end_ts(self) -> float | None:
        """Epoch seconds of 00:00 the day after `until` in Shanghai (exclusive), or None."""
        if self.until is None:
            return None
        return datetime.combine(self.until + timedelta(days=1), time(), SHANGHAI).timestamp()

    def contains_day(self, day: date) -> bool:
        """Whether a conversation that started on `day` is in the range."""
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )

    def as_dict(self) -> dict:
        """JSON form (ISO dates)."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "channel": self.channel,
        }


def parse_day(value: str | None) -> date | None:
    """`YYYY-MM-DD` -> date; empty -> None; anything else raises ValueError."""
    value = (value or "").strip()
    return date.fromisoformat(value) if value else None


def tracker_url() -> str:
    """The tracker store as an SQLAlchemy URL.

    `TRACKER_URL` if set (e.g. postgresql+psycopg2://user:pw@host/rasa); else the SQLite
    file `TRACKER_DB` [.rasa/tracker.db], as endpoints.yml configures Rasa with
    `TRACKER_DIALECT=sqlite`. A `TRACKER_DB` that is itself a URL is used as it is.
    """
    settings = get_settings()
    if settings.tracker_url:
        return settings.tracker_url
    dialect = settings.tracker_dialect
    if dialect != "sqlite":
        raise ValueError(
            f"TRACKER_DIALECT={dialect}: set TRACKER_URL to the tracker store's SQLAlchemy URL"
        )
    return f"sqlite:///{settings.tracker_db}"


def safe_url(url: str) -> str:
    """The URL without credentials, for messages and reports."""
    head, _, tail = url.rpartition("@")
    return url.split("://")[0] + "://…@" + tail if head else url


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


@lru_cache(maxsize=8)
def tracker_engine(url: str) -> Engine:
    """A (cached) engine for the tracker store."""
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"timeout": 15})
    return create_engine(url, pool_pre_ping=True)


def tracker_exists(url: str) -> bool:
    """False for a SQLite tracker file that does not exist yet (nothing recorded)."""
    path = _sqlite_path(url)
    return path is None or path.exists()


def create_events_table(url: str) -> None:
    """Create Rasa's `events` table (tests and the benchmark; Rasa creates it itself)."""
    EVENTS.metadata.create_all(tracker_engine(url))


Row = tuple[str, str, float, str | None, str | None, str | None]


def stream_events(url: str, filters: Filters = Filters()) -> Iterator[Row]:
    """(sender_id, type_name, timestamp, intent_name, action_name, data) in sender, id order.

    One streaming pass: rows arrive in batches, ordered by sender and id (the sender index
    serves the order). `data` is fetched only for user and bot events and for the slots
    the metrics read. With a date range only senders with a user message in the range
    are read; their sessions are then placed by the day they started.
    """
    if not tracker_exists(url):
        return
    e = EVENTS.c
    wanted = (e.type_name.in_(TYPES_READ)) | and_(
        e.type_name == "slot", e.action_name.in_(SLOTS_READ)
    )
    query = select(
        e.sender_id,
        e.type_name,
        e.timestamp,
        e.intent_name,
        e.action_name,
        case((wanted, e.data), else_=None),
    ).order_by(e.sender_id, e.id)
    start, end = filters.start_ts(), filters.end_ts()
    if start is not None or end is not None:
        in_range = [e.type_name == "user"]
        if start is not None:
            in_range.append(e.timestamp >= start)
        if end is not None:
            in_range.append(e.timestamp < end)
        query = query.where(e.sender_id.in_(select(e.sender_id).where(*in_range).distinct()))
    engine = tracker_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
            for row in result:
                yield tuple(row)
    except DBAPIError as error:
        text = str(error)
        if "events" in text and ("no such table" in text or "does not exist" in text):
            log.warning("tracker store %s has no events table yet", safe_url(url))
            return
        raise


# --- shop store -----------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffRow:
    """A handoff queue entry (dianxiaoer.store.models.Handoff)."""

    id: int
    conversation_id: str
    reason: str
    status: str
    agent_id: str | None
    queued_at: float
    claimed_at: float | None
    first_reply_at: float | None
    closed_at: float | None
    #: how an agent reached the customer of a callback (phone, message), else None
    contact_how: str | None = None


@dataclass(frozen=True)
class RatingRow:
    """A 1-5 satisfaction rating."""

    id: int
    conversation_id: str
    journey: str
    score: int
    created_at: float


@dataclass(frozen=True)
class TicketRow:
    """A service ticket (complaint, urge, feedback, handoff, ...)."""

    number: str
    kind: str
    priority: str
    conversation_id: str | None
    psychology: str | None
    anger: int | None
    escalated: str
    created_at: float


@dataclass(frozen=True)
class ReturnRow:
    """A return request (RMA)."""

    rma: str
    reason: str
    status: str
    created_at: float


@dataclass
class ShopData:
    """The shop-store rows the metrics join to conversations, indexed for the join."""

    handoffs: dict[str, list[HandoffRow]] = field(default_factory=lambda: defaultdict(list))
    ratings: dict[str, list[RatingRow]] = field(default_factory=lambda: defaultdict(list))
    tickets: dict[str, TicketRow] = field(default_factory=dict)
    tickets_of: dict[str, list[TicketRow]] = field(default_factory=lambda: defaultdict(list))
    returns: dict[str, ReturnRow] = field(default_factory=dict)


@overload
def _ts(value: datetime) -> float: ...


@overload
def _ts(value: datetime | None) -> float | None: ...


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _select_all(url: str | None, query) -> list:
    """Rows of `query` on the shop store; [] when the store has no such table yet."""
    from dianxiaoer.store.db import get_engine

    try:
        with get_engine(url or None).connect() as conn:
            return list(conn.execute(query))
    except DBAPIError as error:
        text = str(error)
        if "no such table" in text or "does not exist" in text:
            log.warning("shop store: %s", text.splitlines()[0])
            return []
        raise


def load_shop(url: str | None = None, filters: Filters = Filters()) -> ShopData:
    """Handoffs, ratings, tickets and returns, limited to the date range (±1 day).

    These rows are small and far fewer than events; each is matched to the conversation
    it belongs to while the events stream (by conversation id and time, or by the ticket
    and RMA numbers the bot's replies carry).
    """
    from dianxiaoer.store.models import Handoff, Rating, ReturnRequest, Ticket

    margin = timedelta(days=1)
    start, end = filters.start_ts(), filters.end_ts()  # None exactly when since/until is
    low = datetime.fromtimestamp(start, SHANGHAI) - margin if start is not None else None
    high = datetime.fromtimestamp(end, SHANGHAI) + margin if end is not None else None

    def ranged(query, column):
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column < high)
        return query

    data = ShopData()
    h = Handoff.__table__.c
    for row in _select_all(
        url,
        ranged(
            select(
                h.id,
                h.conversation_id,
                h.reason,
                h.status,
                h.agent_id,
                h.queued_at,
                h.claimed_at,
                h.first_reply_at,
                h.closed_at,
                h.details,
            ),
            h.queued_at,
        ).order_by(h.queued_at, h.id),
    ):
        contact = row.details.get("contact") if isinstance(row.details, dict) else None
        data.handoffs[row.conversation_id].append(
            HandoffRow(
                row.id,
                row.conversation_id,
                row.reason,
                row.status,
                row.agent_id,
                _ts(row.queued_at),
                _ts(row.claimed_at),
                _ts(row.first_reply_at),
                _ts(row.closed_at),
                contact.get("how") if isinstance(contact, dict) else None,
            )
        )
    r = Rating.__table__.c
    for row in _select_all(
        url,
        ranged(
            select(r.id, r.conversation_id, r.journey, r.score, r.created_at), r.created_at
        ).order_by(r.created_at, r.id),
    ):
        data.ratings[row.conversation_id].append(
            RatingRow(
                row.id, row.conversation_id, row.journey or "", row.score, _ts(row.created_at)
            )
        )
    t = Ticket.__table__.c
    for row in _select_all(
        url,
        ranged(
            select(
                t.number,
                t.kind,
                t.priority,
                t.conversation_id,
                t.psychology,
                t.anger,
                t.details,
                t.created_at,
            ),
            t.created_at,
        ).order_by(t.created_at, t.number),
    ):
        details = row.details if isinstance(row.details, dict) else {}
        ticket = TicketRow(
            row.number,
            row.kind,
            row.priority,
            row.conversation_id,
            row.psychology,
            row.anger,
            str(details.get("escalated") or ""),
            _ts(row.created_at),
        )
        data.tickets[ticket.number] = ticket
        if ticket.conversation_id:
            data.tickets_of[ticket.conversation_id].append(ticket)
    x = ReturnRequest.__table__.c
    for row in _select_all(
        url, ranged(select(x.rma, x.reason, x.status, x.created_at), x.created_at)
    ):
        data.returns[row.rma] = ReturnRow(row.rma, row.reason, row.status, _ts(row.created_at))
    return data


def customer_names(url: str | None = None) -> list[str]:
    """Names of the shop's customers (masked wherever they appear in an export)."""
    from dianxiaoer.store.models import Customer

    rows = _select_all(url, select(Customer.__table__.c.name).distinct())
    return sorted({str(r.name) for r in rows if r.name and len(str(r.name)) >= 2})
