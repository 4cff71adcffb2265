"""Helpers shared by the action adapters."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from dianxiaoer.text import SCRIPT_LOOKBACK, conversation_script, localize, recent_originals


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


def reply_script(tracker: Tracker) -> str:
    """The script (simplified/traditional) to answer this conversation in."""
    return conversation_script(user_texts(tracker))


def localized_buttons(buttons: list[dict[str, Any]], tracker: Tracker) -> list[dict[str, Any]]:
    """Buttons built by an action bypass the NLG's conversion: convert their titles here."""
    script = reply_script(tracker)
    return [{**b, "title": localize(b["title"], script)} for b in buttons]
