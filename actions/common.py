"""Helpers shared by the action adapters."""

from __future__ import annotations

import functools
import logging
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from dianxiaoer.core.resilience import store_apology
from dianxiaoer.core.text import SCRIPT_LOOKBACK, conversation_script, localize, recent_originals
from dianxiaoer.shop import form_answers

logger = logging.getLogger(__name__)

#: What "the shop store is unavailable" looks like: any driver error (connection refused,
#: database gone, locked, disk) and an exhausted connection pool.
STORE_ERRORS = (DBAPIError, PoolTimeoutError)


def user_texts(tracker: Tracker, limit: int = SCRIPT_LOOKBACK) -> list[str]:
    """Original texts of the latest user messages, newest first."""
    messages = (
        (e.get("parse_data"), e.get("text"))
        for e in reversed(tracker.events)
        if e.get("event") == "user"
    )
    return list(recent_originals(messages, limit))


def entity_values(tracker: Tracker, entity: str) -> list[Any]:
    """Values of one entity type in the latest message, in the order found."""
    return [
        e.get("value")
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity
    ]


def metadata_value(tracker: Tracker, key: str) -> Any:
    """A value of the latest message's metadata (None when absent or not a mapping)."""
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata.get(key) if isinstance(metadata, dict) else None


def reply_script(tracker: Tracker) -> str:
    """The script (simplified/traditional) to answer this conversation in."""
    return conversation_script(user_texts(tracker))


def localized_buttons(buttons: list[dict[str, Any]], tracker: Tracker) -> list[dict[str, Any]]:
    """Buttons built by an action bypass the NLG's conversion: convert their titles here."""
    script = reply_script(tracker)
    return [{**b, "title": localize(b["title"], script)} for b in buttons]


def survives_store_outage(cls):
    """Class decorator for actions that use the shop store: an outage gets an apology.

    Without it the action server answers Rasa with a 500, the action's events are lost and
    the customer hears nothing. With it the customer is told the order system is
    unreachable (`resilience.store_unavailable` in the policy file); the message stays in
    the tracker store. A form's validation also empties the slots it was checking, so the
    form asks for them again instead of going on with unchecked values (an order number
    that was never verified).
    """
    run = cls.run

    @functools.wraps(run)
    async def guarded(self, dispatcher, tracker: Tracker, domain):
        try:
            return await run(self, dispatcher, tracker, domain)
        except STORE_ERRORS:
            logger.exception("shop store unavailable in %s", self.name())
            dispatcher.utter_message(text=store_apology(reply_script(tracker)))
            if isinstance(self, FormValidationAction):
                return [SlotSet(slot, None) for slot in tracker.slots_to_validate()]
            return []

    cls.run = guarded
    return cls


def question_of(tracker: Tracker) -> str:
    """The latest message as typed (original script), or "" for a button payload."""
    message = tracker.latest_message
    text = (message.get("input") or {}).get("original") or message.get("text") or ""
    return "" if text.startswith("/") else text.strip()


def free_text_answer(tracker: Tracker, slot: str) -> dict[str, Any]:
    """`extract_<slot>` for a form's free-text slot: take an answer of the right shape.

    The slot's `from_text` mapping skips messages classified as questions or exits; a real
    answer misread that way (an address read as a shipping question) is taken here when
    it has the answer's shape (`dianxiaoer.shop.form_answers`). Only while `slot` is asked for
    and nothing filled it this turn.
    """
    if tracker.get_slot("requested_slot") != slot or tracker.get_slot(slot):
        return {}
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    ranking = [r for r in message.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    # nlu_fallback hides the classifier's guess; the exits are judged on that guess
    best = ranking[0] if intent.get("name") == "nlu_fallback" and ranking else intent
    value = form_answers.answer_for(
        slot, question_of(tracker), best.get("name"), best.get("confidence") or 0.0
    )
    return {slot: value} if value else {}
