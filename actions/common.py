"""Helpers shared by the action adapters."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from dianxiaoer.text import SCRIPT_LOOKBACK, conversation_script, localize


def user_texts(tracker: Tracker, limit: int = SCRIPT_LOOKBACK) -> list[str]:
    """Original texts of the latest user messages, newest first."""
    texts: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            info = (event.get("parse_data") or {}).get("input") or {}
            texts.append(info.get("original", event.get("text") or ""))
            if len(texts) >= limit:
                break
    return texts


def reply_script(tracker: Tracker) -> str:
    """The script (simplified/traditional) to answer this conversation in."""
    return conversation_script(user_texts(tracker))


def localized_buttons(buttons: list[dict[str, Any]], tracker: Tracker) -> list[dict[str, Any]]:
    """Buttons built by an action bypass the NLG's conversion: convert their titles here."""
    script = reply_script(tracker)
    return [{**b, "title": localize(b["title"], script)} for b in buttons]
