"""The user message is in the tracker store before any action runs (dianxiaoer/runtime.py).

Rasa 3.6's `MessageProcessor.handle_message` saves the tracker only at the end of a turn;
a turn that dies after an action changed the shop lost the customer's message. Here the
turn dies right after the message was logged, before the first action.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.data import TrainingType

import dianxiaoer.tracker_store  # noqa: F401  (installs dianxiaoer.runtime, as endpoints.yml does)
from dianxiaoer import runtime


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
