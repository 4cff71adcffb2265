"""The project's tracker store: Rasa's SQL tracker store, a tracker cache and the speed-ups.

Set in endpoints.yml (`tracker_store: type:
dianxiaoer.rasa_plugins.tracker_store.ProjectSQLTrackerStore`). The table layout and the stored
events are exactly Rasa's `SQLTrackerStore` (the analytics read them). Creating the store
installs the Rasa patches (`dianxiaoer.rasa_plugins.rasa_patches.install()`, the speed-ups
found by profiling, docs/performance.md) in the Rasa server process: Rasa creates the tracker
store before it loads the model.

Why a cache: Rasa re-creates the tracker from the database on every message, deserialising
and replaying every event of the session, so a turn costs more the longer the conversation
is. Here the tracker saved at the end of a turn is kept in memory (least recently used
conversations first out) and handed out again as long as the conversation's newest stored
event id is still the one it was saved with: one indexed query instead of loading the
session. Any write by someone else (another replica, a restart, an API call on another
process) changes that id and the tracker is loaded from the database as before, so several
Rasa replicas on one PostgreSQL stay correct. A save that starts a new session, or a tracker
that did not come from the cache, is not cached; the next load takes Rasa's path.

Why WAL and one open connection for the embedded SQLite store: in its default
rollback-journal mode SQLite syncs the disk several times per commit, 5 ms per turn on this
machine, more than a tenth of a turn.
In write-ahead-log mode with `synchronous=NORMAL` a commit is an append; a committed turn
survives a crash of Rasa (the log is replayed at the next open) and readers (the analytics,
`make report`) do not block the writer. Only an operating-system crash or power loss can
undo the last turns; PostgreSQL is the store for deployments that need more.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from dianxiaoer.core.settings import get_settings
from dianxiaoer.rasa_plugins import rasa_patches

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 1000


def _sqlite_wal(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class ProjectSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore with an in-memory cache of recent trackers.

    `cache_size` (endpoints.yml, or the environment's TRACKER_CACHE_SIZE) is the number of
    conversations kept; 0 turns the cache off.
    """

    engine: sa.engine.Engine  # set by SQLTrackerStore.__init__, replaced for SQLite below

    def __init__(self, *args: Any, cache_size: int | None = None, **kwargs: Any) -> None:
        """Rasa's SQL tracker store; `cache_size` conversations are kept in memory."""
        rasa_patches.install()
        super().__init__(*args, **kwargs)
        if cache_size is None:
            cache_size = get_settings().tracker_cache_size
        self.cache_size = max(0, int(cache_size))
        # sender id -> (id of its newest stored event, tracker as stored)
        self._cache: OrderedDict[str, tuple[int, DialogueStateTracker]] = OrderedDict()
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connection_open()
        self._known_new: tuple[DialogueStateTracker, int] | None = None
        self.cache_hits = 0
        self.cache_misses = 0

    def _keep_sqlite_connection_open(self) -> None:
        # SQLAlchemy 1.4 opens a new connection per session for a SQLite file, and closing
        # the last connection of a WAL database checkpoints the log into the database (a
        # disk sync per turn again): one connection stays open instead. Rasa uses the store
        # from its event loop's thread only.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.SingletonThreadPool,
            connect_args={"check_same_thread": False},
        )
        sa.event.listen(self.engine, "connect", _sqlite_wal)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _last_event_id(self, sender_id: str) -> int | None:
        with self.session_scope() as session:
            return (
                session.query(sa.func.max(self.SQLEvent.id))
                .filter(self.SQLEvent.sender_id == sender_id)
                .scalar()
            )

    def _remember(self, sender_id: str, last_id: int, tracker: DialogueStateTracker) -> None:
        rasa_patches.remember(
            self._cache, sender_id, (last_id, rasa_patches.fast_copy(tracker)), self.cache_size
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the latest session: from memory while nobody else wrote to it."""
        if not self.cache_size:
            return await super().retrieve(sender_id)
        # read before the load: a write in between makes the key older than the tracker,
        # so the next retrieve loads again (never the other way round)
        last_id = self._last_event_id(sender_id)
        cached = self._cache.get(sender_id)
        if cached is not None and last_id is not None and cached[0] == last_id:
            self._cache.move_to_end(sender_id)
            self.cache_hits += 1
            # a copy: the caller changes the tracker during the turn, and a turn that
            # fails before saving must leave the cached state as stored
            return rasa_patches.fast_copy(cached[1])
        self.cache_misses += 1
        tracker = await super().retrieve(sender_id)
        if tracker is None or last_id is None:
            self._cache.pop(sender_id, None)
        else:
            self._remember(sender_id, last_id, tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events (Rasa's save); keep the tracker if it continues the cached one."""
        sender_id = tracker.sender_id
        cached = self._cache.pop(sender_id, None) if self.cache_size else None
        count = self._continues(cached, tracker)
        if count is None:
            await super().save(tracker)
            return
        # the stored session is the cached tracker's events: the new ones are known, and
        # Rasa's count of the stored events (a query over the session) is not needed
        self._known_new = (tracker, count)
        try:
            await super().save(tracker)
        finally:
            self._known_new = None
        events = tracker.events
        # a new session in this turn: Rasa's load starts at its SessionStarted, the
        # tracker in memory still holds the old session; the next load takes Rasa's path
        if any(isinstance(events[i], SessionStarted) for i in range(count, len(events))):
            return
        last_id = self._last_event_id(sender_id)
        if last_id is not None:
            self._remember(sender_id, last_id, tracker)

    @staticmethod
    def _continues(cached, tracker: DialogueStateTracker) -> int | None:
        """How many events `tracker` shares with the cached one, if it continues it."""
        if cached is None:
            return None
        stored, events = cached[1].events, tracker.events
        count = len(stored)
        if len(events) < count or (count and events[count - 1] is not stored[-1]):
            return None
        return count

    def _additional_events(self, session: Any, tracker: DialogueStateTracker):
        known = getattr(self, "_known_new", None)
        if known is not None and known[0] is tracker:
            return itertools.islice(tracker.events, known[1], len(tracker.events))
        return super()._additional_events(session, tracker)


__all__ = ["ProjectSQLTrackerStore"]
