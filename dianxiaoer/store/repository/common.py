"""What every command shares: inserts that tolerate a race, and changes made once per key.

The commands that change the shop for a customer (tickets, coupons, cancellations,
returns, complaints) take an optional `key` (`EffectKey`: conversation, action, anchor).
With a key the change is made once: the key is written in the change's own transaction,
and a call with a key already done returns the first call's result. So a turn that is
retried — the action server died after the change, or the customer says yes again because
the answer never reached them — neither issues a second coupon or ticket nor loses the one
that was made.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Insert, Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Base, SideEffect


def insert_ignore(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert a row unless its primary key exists (also when two insert it at once).

    True when this call inserted it. On PostgreSQL a concurrent insert of the same key
    waits for the other transaction, so only one of them gets True.
    """
    # declarative models are mapped to a Table (DeclarativeBase types it as FromClause)
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        statement: Insert
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            statement = postgresql_insert(table).values(**values).on_conflict_do_nothing()
        # an INSERT's result is a CursorResult (Session.execute is typed as Result)
        result = cast(CursorResult[Any], session.execute(statement))
        return result.rowcount == 1
    try:
        with session.begin_nested():
            session.execute(insert(table).values(**values))
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
    assert row is not None  # insert_ignore found the key taken, so its row exists
    return row.result.get("value")


def _remember(session: Session, key: EffectKey | None, value):
    """Store the result of the change made under `key`; returns `value`."""
    if key is not None:
        columns = key.columns()
        row = session.get(
            SideEffect, (columns["conversation_id"], columns["action"], columns["anchor"])
        )
        assert row is not None  # `_done_before` took the key in this transaction
        row.result = {"value": value}
    return value


T = TypeVar("T")


def once(
    url: str | None, key: EffectKey | None, now: datetime, change: Callable[[Session], T]
) -> T:
    """`change(session)` in one transaction, its result remembered under `key`.

    When `key` was done before, that first result instead (and `change` does not run).
    """
    with session_scope(url) as session:
        done = _done_before(session, key, now)
        if done is not _NOT_DONE:
            return done
        return _remember(session, key, change(session))


def side_effect(key: EffectKey, url: str | None = None):
    """The stored result of `key`, or None if it was not done (tests, diagnostics)."""
    columns = key.columns()
    with session_scope(url) as session:
        row = session.get(
            SideEffect, (columns["conversation_id"], columns["action"], columns["anchor"])
        )
        return None if row is None else row.result.get("value")


def _number(prefix: str, now: datetime) -> str:
    return f"{prefix}{now:%Y%m%d}{secrets.randbelow(10**6):06d}"
