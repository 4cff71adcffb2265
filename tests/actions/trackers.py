"""Builders for real rasa_sdk Tracker objects and a runner for actions."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def user_event(
    text: str,
    intent: str,
    confidence: float = 1.0,
    ranking=None,
    entities=None,
    original: str | None = None,
    script: str | None = "simplified",
) -> dict:
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
        "input": {
            "original": original or text,
            "script": script,
            "truncated": False,
            "meaningful": True,
        },
    }
    return {"event": "user", "text": original or text, "parse_data": parse_data}


def make_tracker(events: list[dict], slots: dict | None = None) -> Tracker:
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker("test-user", slots or {}, latest, events, False, None, {}, "action_listen")


def run_action(action, tracker: Tracker, domain: dict):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events
