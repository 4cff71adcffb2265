"""What every area of the web app shares: Rasa's HTTP API, transcripts, JSON errors.

The web app talks to Rasa only server-side, through Rasa's HTTP API with `RASA_API_TOKEN`:
the token never reaches a browser. Agent messages, the agent-joined and hand-back messages
and callback messages reach the customer's widget through Rasa
(`POST /conversations/<id>/tracker/events?output_channel=socketio&execute_side_effects=true`),
so they are in the tracker like every other message.

Conversation ids are whatever the customer's channel sent (`conversation_path` quotes them
for Rasa's API, and every call checks that Rasa answered for that very id); the console
sends them in the query string or the JSON body, never as a path segment.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import requests
from sanic import Sanic, response
from sanic.request import Request

from dianxiaoer.core import conversation_ids
from dianxiaoer.core.settings import get_settings
from webapp.sweeper import FOLLOWUP_INTENT

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_CONVERSATION_ID = 255  # Rasa's tracker store column


class ConversationUnreachable(Exception):
    """Rasa's API answered for another conversation id than the one asked for."""


def error(message: str, status: int) -> response.HTTPResponse:
    """The web app's JSON error: `{"error": message}` with `status`."""
    return response.json({"error": message}, status=status)


def json_body(request: Request) -> dict:
    """The request's JSON object ({} when there is none or it is not an object)."""
    return request.json if isinstance(request.json, dict) else {}


async def page(name: str, mime_type: str | None = None) -> response.HTTPResponse:
    """A static page of webapp/static."""
    if mime_type:
        return await response.file(STATIC / name, mime_type=mime_type)
    return await response.file(STATIC / name)


def rasa_url() -> str:
    """Where Rasa's HTTP API is (server-side only)."""
    return get_settings().rasa_url


def public_rasa_url(request: Request) -> str:
    """The socket.io address the widget connects to (the browser's view of Rasa)."""
    settings = get_settings()
    if settings.public_rasa_url:
        return settings.public_rasa_url
    host = request.host.split(":")[0]
    return f"{request.scheme}://{host}:{settings.rasa_port}"


def conversation_path(conversation_id: str, suffix: str) -> str:
    """`/conversations/<id>/<suffix>` with the id quoted as one path segment.

    Rasa 3.6 does not percent-decode the id (`dianxiaoer.core.conversation_ids`): ids of plain
    path characters (letters, digits, "-._~:@" …) reach it as they are; others ("/", "%",
    spaces, Chinese) name another id unless Rasa's app decodes them, which
    `conversation_tracker` notices before anything is sent.
    """
    return f"/conversations/{conversation_ids.path_segment(conversation_id)}/{suffix}"


def _rasa_call(method: str, path: str, params: dict | None = None, timeout: float = 15, **kw):
    params = {**(params or {}), "token": get_settings().rasa_api_token}
    r = requests.request(method, f"{rasa_url()}{path}", params=params, timeout=timeout, **kw)
    r.raise_for_status()
    return r.json()


async def rasa(method: str, path: str, **kwargs: Any) -> Any:
    """Call Rasa's HTTP API with the server-side token (`path` already quoted)."""
    return await asyncio.to_thread(_rasa_call, method, path, **kwargs)


def _same_conversation(conversation_id: str, tracker: dict) -> dict:
    if not isinstance(tracker, dict) or tracker.get("sender_id") != conversation_id:
        raise ConversationUnreachable(conversation_id)
    return tracker


def conversation_tracker_sync(conversation_id: str) -> dict:
    """The conversation's tracker; ConversationUnreachable if Rasa names another id."""
    tracker = _rasa_call("GET", conversation_path(conversation_id, "tracker"))
    return _same_conversation(conversation_id, tracker)


async def conversation_tracker(conversation_id: str) -> dict:
    """The conversation's tracker (async); ConversationUnreachable if Rasa names another id."""
    return await asyncio.to_thread(conversation_tracker_sync, conversation_id)


def trigger_followup(conversation_id: str, ticket: str) -> None:
    """Run a recovered 回访 in its conversation (Rasa's trigger_intent; the sweeper's call)."""
    conversation_tracker_sync(conversation_id)  # never another conversation's 回访
    _rasa_call(
        "POST",
        conversation_path(conversation_id, "trigger_intent"),
        params={"output_channel": "latest"},
        json={"name": FOLLOWUP_INTENT, "entities": {"ticket": ticket}},
        timeout=60,
    )


async def send_to_customer(
    conversation_id: str, events: list[dict], tracker: dict | None = None
) -> None:
    """Append events (agent messages, pause/resume) and deliver bot messages live.

    Checked first: the events go to this conversation id or nowhere. A `tracker` the
    caller has just read for this id is checked instead of reading it again.
    """
    if tracker is None:
        await conversation_tracker(conversation_id)
    else:
        _same_conversation(conversation_id, tracker)
    appended = await rasa(
        "POST",
        conversation_path(conversation_id, "tracker/events"),
        params={"output_channel": "socketio", "execute_side_effects": "true"},
        json=events,
    )
    _same_conversation(conversation_id, appended)


def requested_conversation(request: Request, in_path: str | None = None) -> str:
    """The conversation id a console request names ("" when none, or too long).

    From `?id=`, the JSON body's `conversation_id`, or (older clients) a percent-encoded
    path segment.
    """
    value = request.args.get("id") or json_body(request).get("conversation_id") or ""
    if not value and in_path:
        value = unquote(in_path)
    return value if isinstance(value, str) and len(value) <= MAX_CONVERSATION_ID else ""


#: The slots shown with a transcript (what the bot knows).
FACT_SLOTS = (
    "verified_customer",
    "verified_order",
    "anger",
    "angry_turns",
    "last_ticket",
    "last_journey",
    "handoff_requested",
)


def transcript(tracker: dict) -> tuple[list[dict], dict]:
    """Messages (who, text, time) and what the bot knows, from a tracker."""
    messages = []
    for e in tracker.get("events", []):
        if e.get("event") in {"user", "bot"} and (e.get("text") or "").strip():
            messages.append(
                {
                    "from": "customer" if e["event"] == "user" else "bot",
                    "text": e["text"],
                    "time": e.get("timestamp"),
                    "agent": (e.get("metadata") or {}).get("agent"),
                }
            )
    slots = tracker.get("slots", {})
    return messages, {k: slots.get(k) for k in FACT_SLOTS}


def install_errors(app: Sanic) -> None:
    """JSON answers for Rasa's API failures, whichever area's route met them."""

    @app.exception(ConversationUnreachable)
    async def unreachable(request: Request, exc: ConversationUnreachable):
        return error("Rasa's API cannot address this conversation id; nothing was sent", 409)

    @app.exception(requests.RequestException)
    async def rasa_down(request: Request, exc: requests.RequestException):
        log.error("Rasa API call failed: %s", exc)
        return error("the chat server is not reachable", 502)
