"""The user message is in the tracker store before any action runs.

(dianxiaoer/rasa_plugins/rasa_patches.py)

Rasa 3.6's `MessageProcessor.handle_message` saves the tracker only at the end of a turn;
a turn that dies after an action changed the shop lost the customer's message. Here the
turn dies right after the message was logged, before the first action.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.data import TrainingType

from dianxiaoer.rasa_plugins import rasa_patches as runtime
from dianxiaoer.rasa_plugins.tracker_store import ProjectSQLTrackerStore

runtime.install()  # as the project's tracker store does in the Rasa server


class TurnDies(Exception):
    pass


class Processor(MessageProcessor):
    """Rasa's processor around a tracker store, without a model: NLU logs the text, and
    the turn dies at the first action (action_extract_slots runs the custom slot action)."""

    def __init__(self, store) -> None:  # no model to load
        self.tracker_store = store
        self.model_metadata = SimpleNamespace(training_type=TrainingType.BOTH)

    async def fetch_tracker_and_update_session(self, sender_id, output_channel=None, metadata=None):
        return await self.tracker_store.get_or_create_tracker(sender_id)

    async def _handle_message_with_tracker(self, message, tracker) -> None:
        tracker.update(UserUttered(message.text, message_id=message.message_id))

    async def run_action_extract_slots(self, output_channel, tracker):
        raise TurnDies()


def stored_texts(store, sender: str) -> list[str]:
    tracker = asyncio.run(store.retrieve(sender))
    return [e.text for e in tracker.events if isinstance(e, UserUttered)] if tracker else []


def turn(processor, sender: str, text: str) -> None:
    message = UserMessage(text, CollectingOutputChannel(), sender)
    with pytest.raises(TurnDies):
        asyncio.run(processor.handle_message(message))


def test_the_message_is_stored_before_the_first_action():
    assert MessageProcessor.log_message.__wrapped__  # installed by the tracker store
    store = InMemoryTrackerStore(Domain.empty())
    turn(Processor(store), "customer", "好的，给我补偿券")
    assert stored_texts(store, "customer") == ["好的，给我补偿券"]
    turn(Processor(store), "customer", "在吗")
    assert stored_texts(store, "customer") == ["好的，给我补偿券", "在吗"]


def test_rasas_own_log_message_loses_it(monkeypatch):
    """What the patch fixes: without it the same turn leaves nothing in the store."""
    monkeypatch.setattr(MessageProcessor, "log_message", MessageProcessor.log_message.__wrapped__)
    store = InMemoryTrackerStore(Domain.empty())
    turn(Processor(store), "customer", "好的，给我补偿券")
    assert stored_texts(store, "customer") == []


def test_callers_asking_for_a_save_still_get_one():
    store = InMemoryTrackerStore(Domain.empty())
    processor = Processor(store)
    message = UserMessage("你好", CollectingOutputChannel(), "api")
    asyncio.run(processor.log_message(message, should_save_tracker=True))
    assert stored_texts(store, "api") == ["你好"]


def test_the_patch_keeps_rasas_method_underneath():
    patched = runtime.persisting_log_message(MessageProcessor.log_message.__wrapped__)
    assert patched.__wrapped__ is MessageProcessor.log_message.__wrapped__


class FullTurn(Processor):
    """A turn that lives: a new session on the first message (or when `expire` says so),
    the message, one bot answer, then Rasa's save at the end."""

    expire = False

    async def fetch_tracker_and_update_session(self, sender_id, output_channel=None, metadata=None):
        # as Rasa's processor gets it (no initial action_listen)
        tracker = await self.tracker_store.get_or_create_tracker(
            sender_id, append_action_listen=False
        )
        if not tracker.events or self.expire:
            # as Rasa logs it: action_session_start first, its SessionStarted after it
            tracker.update(ActionExecuted("action_session_start"))
            tracker.update(SessionStarted())
            tracker.update(ActionExecuted("action_listen"))
        return tracker

    async def run_action_extract_slots(self, output_channel, tracker):
        return tracker

    async def _run_prediction_loop(self, output_channel, tracker) -> None:
        tracker.update(ActionExecuted("utter_greet"))
        tracker.update(BotUttered("您好"))
        tracker.update(ActionExecuted("action_listen"))


def stored_rows(path: Path, sender: str) -> list[tuple[str, str | None]]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [(t, json.loads(d).get("text") or json.loads(d).get("name")) for t, d in rows]


@pytest.mark.parametrize("cache_size", [0, 10])
def test_two_saves_in_a_turn_store_every_event_once(tmp_path, cache_size):
    """Also when the turn starts a session (Rasa's count of stored events is off there)."""
    path = tmp_path / "tracker.db"
    store = ProjectSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(path), cache_size=cache_size
    )
    processor = FullTurn(store)

    def say(text: str) -> None:
        message = UserMessage(text, CollectingOutputChannel(), "customer")
        asyncio.run(processor.handle_message(message))

    turn_rows = [
        ("user", None),
        ("action", "utter_greet"),
        ("bot", "您好"),
        ("action", "action_listen"),
    ]
    session = [("action", "action_session_start"), ("session_started", None)]
    session += [("action", "action_listen")]

    def turn(text: str) -> list:
        return [("user", text), *turn_rows[1:]]

    say("你好")
    say("在吗")
    processor.expire = True  # the next message starts a new session
    say("还在吗")
    processor.expire = False
    say("好的")
    expected = [*session, *turn("你好"), *turn("在吗"), *session, *turn("还在吗"), *turn("好的")]
    assert stored_rows(path, "customer") == expected


def test_rasas_count_alone_would_store_the_first_message_twice(tmp_path, monkeypatch):
    """Why `after_saved_events` is there: the early save plus Rasa's count, a new session."""
    from rasa.core.tracker_store import SQLTrackerStore

    monkeypatch.setattr(
        SQLTrackerStore, "_additional_events", SQLTrackerStore._additional_events.__wrapped__
    )
    path = tmp_path / "tracker.db"
    store = ProjectSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path), cache_size=0)
    asyncio.run(FullTurn(store).handle_message(UserMessage("你好", None, "customer")))
    users = [text for kind, text in stored_rows(path, "customer") if kind == "user"]
    assert users == ["你好", "你好"]
