"""The tracker cache of ProjectSQLTrackerStore gives what Rasa's load from the database gives."""

from __future__ import annotations

import asyncio
import functools

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.rasa_plugins.tracker_store import ProjectSQLTrackerStore


def sync(test):
    """Run an async test in its own event loop (the suite has no asyncio plugin)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


@pytest.fixture(scope="module")
def domain():
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture()
def db(tmp_path):
    return str(tmp_path / "tracker.db")


def store(domain, db, **kwargs) -> ProjectSQLTrackerStore:
    return ProjectSQLTrackerStore(domain=domain, dialect="sqlite", db=db, **kwargs)


async def rasa_load(domain, db, sender) -> DialogueStateTracker:
    """What Rasa's own SQL tracker store loads for `sender`."""
    return await SQLTrackerStore(domain=domain, dialect="sqlite", db=db).retrieve(sender)


def state(tracker, domain) -> dict:
    """What the policies and the action server see of a tracker."""
    return {
        "current_state": tracker.current_state(EventVerbosity.ALL),
        "past_states": tracker.past_states(domain),
        "slots": {n: s.value for n, s in tracker.slots.items()},
        "active_loop": tracker.active_loop,
        "paused": tracker.is_paused(),
        # before the session's first message this is a placeholder stamped when loaded
        "latest_message": {**tracker.latest_message.as_dict(), "timestamp": None},
        "latest_action": tracker.latest_action,
    }


def session_start(sender, domain) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted()):
        tracker.update(event, domain)
    tracker.update(ActionExecuted("action_listen"), domain)
    return tracker


def turn(tracker, domain, text, intent, n) -> None:
    for event in (
        UserUttered(text, {"name": intent, "confidence": 0.9}, [], {"text": text}),
        SlotSet("anger", float(n % 3)),
        ActionExecuted("action_answer_knowledge"),
        BotUttered(f"答复{n}", {"buttons": []}),
        ActionExecuted("action_listen"),
    ):
        tracker.update(event, domain)


async def first_turn(cached_store, sender, domain, save: bool = True) -> DialogueStateTracker:
    """A new conversation's session start and first turn ("你好"), saved unless told not to."""
    await cached_store.save(session_start(sender, domain))
    tracker = await cached_store.retrieve(sender)
    turn(tracker, domain, "你好", "greet", 0)
    if save:
        await cached_store.save(tracker)
    return tracker


@sync
async def test_cached_tracker_equals_rasas_load_turn_after_turn(domain, db):
    cached_store = store(domain, db)
    await cached_store.save(session_start("a", domain))
    for n in range(6):
        tracker = await cached_store.retrieve("a")
        turn(tracker, domain, f"第{n}个问题", "ask_faq", n)
        await cached_store.save(tracker)
        again = await cached_store.retrieve("a")
        assert state(again, domain) == state(await rasa_load(domain, db, "a"), domain)
    # the first load after the session start comes from the database, then from memory
    assert cached_store.cache_misses == 1
    assert cached_store.cache_hits == 11


@sync
async def test_a_write_by_another_replica_is_seen(domain, db):
    one, other = store(domain, db), store(domain, db)
    await first_turn(one, "b", domain)
    # the next message of the conversation is answered by the other replica
    elsewhere = await other.retrieve("b")
    turn(elsewhere, domain, "七天无理由怎么退", "ask_return_policy", 1)
    await other.save(elsewhere)
    back = await one.retrieve("b")
    assert len(back.events) == len(elsewhere.events)
    assert state(back, domain) == state(await rasa_load(domain, db, "b"), domain)


@sync
async def test_an_unsaved_turn_leaves_the_cache_as_stored(domain, db):
    cached_store = store(domain, db)
    tracker = await first_turn(cached_store, "c", domain)
    failed = await cached_store.retrieve("c")
    turn(failed, domain, "这条没存上", "greet", 1)  # the turn crashed before save
    fresh = await cached_store.retrieve("c")
    assert len(fresh.events) == len(tracker.events)
    assert state(fresh, domain) == state(await rasa_load(domain, db, "c"), domain)


@sync
async def test_a_new_session_is_loaded_from_the_database(domain, db):
    cached_store = store(domain, db)
    tracker = await first_turn(cached_store, "d", domain, save=False)
    # the session expired: Rasa appends a new session start to the same tracker
    for event in (ActionExecuted("action_session_start"), SessionStarted()):
        tracker.update(event, domain)
    tracker.update(ActionExecuted("action_listen"), domain)
    await cached_store.save(tracker)
    hits = cached_store.cache_hits
    loaded = await cached_store.retrieve("d")
    assert cached_store.cache_hits == hits  # not from memory: the old session is left out
    assert state(loaded, domain) == state(await rasa_load(domain, db, "d"), domain)
    assert len(loaded.events) < len(tracker.events)


@sync
async def test_least_recently_used_conversations_leave_first(domain, db):
    cached_store = store(domain, db, cache_size=2)
    for sender in "xyz":
        await cached_store.save(session_start(sender, domain))
        await cached_store.retrieve(sender)
    assert list(cached_store._cache) == ["y", "z"]
    assert await cached_store.retrieve("x") is not None  # from the database again


@sync
async def test_cache_off(domain, db):
    plain = store(domain, db, cache_size=0)
    await first_turn(plain, "e", domain)
    loaded = await plain.retrieve("e")
    assert state(loaded, domain) == state(await rasa_load(domain, db, "e"), domain)
    assert plain.cache_hits == plain.cache_misses == 0 and not plain._cache


@sync
async def test_unknown_sender(domain, db):
    assert await store(domain, db).retrieve("nobody") is None


def test_embedded_store_writes_ahead(domain, db):
    import sqlite3

    cached_store = store(domain, db)
    asyncio.run(cached_store.save(session_start("f", domain)))
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
