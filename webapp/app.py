"""The demo shop page, the chat widget's files and the agent console (one Sanic process).

Runs in the action server's environment (SQLAlchemy 2 for the shop store). It talks to
Rasa only server-side, through Rasa's HTTP API with `RASA_API_TOKEN`: the token never
reaches a browser. Agent messages, the
agent-joined and hand-back messages reach the customer's widget through Rasa
(`POST /conversations/<id>/tracker/events?output_channel=socketio&execute_side_effects=true`),
so they are in the tracker like every other message.

Conversation ids are whatever the customer's channel sent (`conversation_path` quotes
them for Rasa's API, and every call checks that Rasa answered for that very id); the
console sends them in the query string or the JSON body, never as a path segment.
Agents see, read and claim only their skill groups' conversations (`roster.sees_group`;
a supervisor sees all). Headers, body limit and login attempt limits: webapp/security.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import requests
import yaml
from sanic import Sanic, response
from sanic.request import Request

from dianxiaoer import conversation_ids, followups, handoff, roster
from dianxiaoer.auth import mint_token, verify_customer_token
from dianxiaoer.policy import get_policy
from dianxiaoer.settings import PROJECT_ROOT, is_production
from dianxiaoer.store import handoffs, repository
from webapp import security
from webapp.training import register as register_training

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
AGENTS_FILE = PROJECT_ROOT / "config" / "agents.yml"
CANNED_FILE = PROJECT_ROOT / "config" / "canned_replies.yml"
DEMO_CUSTOMERS = {"C1001": "张伟", "C1002": "李娜"}
STARTED = datetime.now(timezone.utc)
MAX_CONVERSATION_ID = 255  # Rasa's tracker store column


class ConversationUnreachable(Exception):
    """Rasa's API answered for another conversation id than the one asked for."""


def rasa_url() -> str:
    """Where Rasa's HTTP API is (server-side only)."""
    return os.environ.get("RASA_URL", f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}")


def public_rasa_url(request: Request) -> str:
    """The socket.io address the widget connects to (the browser's view of Rasa)."""
    configured = os.environ.get("PUBLIC_RASA_URL")
    if configured:
        return configured
    host = request.host.split(":")[0]
    return f"{request.scheme}://{host}:{os.environ.get('RASA_PORT', '5005')}"


def agents() -> list[dict]:
    """Configured agents with their console tokens (environment, else the demo token)."""
    return roster.agents(AGENTS_FILE)


def agent_for(request: Request) -> dict | None:
    """The agent whose token the request carries (looked up in constant time).

    The app's request middleware has already looked it up under the login attempt limits
    (`security.check_login`); outside a request cycle it is looked up here.
    """
    if hasattr(request.ctx, "agent"):
        return request.ctx.agent
    return roster.find_by_token(agents(), request.headers.get("x-agent-token"))


def agent_required(handler):
    """Route decorator: 401 without a valid agent token, else `handler(request, agent, ...)`."""

    async def wrapper(request: Request, *args, **kwargs):
        agent = agent_for(request)
        if agent is None:
            return response.json({"error": "agent token required"}, status=401)
        return await handler(request, agent, *args, **kwargs)

    wrapper.__name__ = handler.__name__
    return wrapper


def may_read(agent: dict, entry: handoffs.HandoffView | None) -> bool:
    """Whether `agent` may read this conversation.

    A supervisor always; an agent while it waits or is handled in one of their skill
    groups, or is their own.
    """
    if roster.is_supervisor(agent):
        return True
    return entry is not None and (
        entry.agent_id == agent["id"] or roster.sees_group(agent, entry.skill_group)
    )


def conversation_path(conversation_id: str, suffix: str) -> str:
    """`/conversations/<id>/<suffix>` with the id quoted as one path segment.

    Rasa 3.6 does not percent-decode the id (`dianxiaoer.conversation_ids`): ids of plain
    path characters (letters, digits, "-._~:@" …) reach it as they are; others ("/", "%",
    spaces, Chinese) name another id unless Rasa's app decodes them, which
    `conversation_tracker` notices before anything is sent.
    """
    return f"/conversations/{conversation_ids.path_segment(conversation_id)}/{suffix}"


def _rasa_call(method: str, path: str, params: dict | None = None, timeout: float = 15, **kw):
    params = {**(params or {}), "token": os.environ.get("RASA_API_TOKEN", "")}
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
        json={"name": followups.FOLLOWUP_INTENT, "entities": {"ticket": ticket}},
        timeout=60,
    )


async def send_to_customer(conversation_id: str, events: list[dict]) -> None:
    """Append events (agent messages, pause/resume) and deliver bot messages live.

    Checked first: the events go to this conversation id or nowhere.
    """
    await conversation_tracker(conversation_id)
    tracker = await rasa(
        "POST",
        conversation_path(conversation_id, "tracker/events"),
        params={"output_channel": "socketio", "execute_side_effects": "true"},
        json=events,
    )
    _same_conversation(conversation_id, tracker)


def requested_conversation(request: Request, in_path: str | None = None) -> str:
    """The conversation id a console request names ("" when none, or too long).

    From `?id=`, the JSON body's `conversation_id`, or (older clients) a percent-encoded
    path segment.
    """
    body = request.json if isinstance(request.json, dict) else {}
    value = request.args.get("id") or body.get("conversation_id") or ""
    if not value and in_path:
        value = unquote(in_path)
    return value if isinstance(value, str) and len(value) <= MAX_CONVERSATION_ID else ""


@lru_cache(maxsize=1)
def _domain_responses() -> dict:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"]


def bot_event(response_name: str, **values: Any) -> dict:
    """A `bot` event with a domain response's wording (first variation) filled in.

    The web app appends these together with pause/resume in one request, under Rasa's
    conversation lock, so a customer message cannot slip in between.
    """
    variation = _domain_responses()[response_name][0]
    filled = {**get_policy().reply_values(), **values}
    event: dict[str, Any] = {"event": "bot", "text": variation["text"].format(**filled)}
    if variation.get("buttons"):
        event["data"] = {"buttons": variation["buttons"]}
    return event


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
    facts = {
        k: slots.get(k)
        for k in (
            "verified_customer",
            "verified_order",
            "anger",
            "angry_turns",
            "last_ticket",
            "last_journey",
            "handoff_requested",
        )
    }
    return messages, facts


#: How long one "agent is typing" signal shows in the widget (the console repeats it).
AGENT_TYPING_SECONDS = 6.0


def create_app() -> Sanic:
    """The Sanic application."""
    app = Sanic("dianxiaoer_web")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    agent_typing: dict[str, float] = {}  # conversation -> monotonic time the signal ends
    security.install(app, public_rasa_url)  # headers, CSP, body limit (webapp/security.py)

    @app.on_request
    async def agent_login(request: Request):
        # every request with an agent token is a login attempt (console, analytics,
        # trainer view, callbacks): looked up once, under the attempt limits
        token = request.headers.get("x-agent-token") or ""
        request.ctx.agent = None
        if token:
            agent, refused = security.check_login(
                request, token, lambda t: roster.find_by_token(agents(), t)
            )
            if refused is not None:
                return refused
            request.ctx.agent = agent

    @app.exception(ConversationUnreachable)
    async def unreachable(request: Request, error: ConversationUnreachable):
        return response.json(
            {"error": "Rasa's API cannot address this conversation id; nothing was sent"},
            status=409,
        )

    @app.exception(requests.RequestException)
    async def rasa_down(request: Request, error: requests.RequestException):
        log.error("Rasa API call failed: %s", error)
        return response.json({"error": "the chat server is not reachable"}, status=502)

    @app.listener("after_server_start")
    async def start_followup_sweeper(app: Sanic, _loop) -> None:
        # 回访 that a stopped Rasa server took with it (dianxiaoer.followups)
        app.add_task(followups.sweep_forever(trigger_followup))

    @app.get("/")
    async def shop(request: Request):
        return await response.file(STATIC / "shop.html")

    @app.get("/orders")
    async def orders_page(request: Request):
        return await response.file(STATIC / "shop.html")

    @app.get("/console")
    async def console(request: Request):
        return await response.file(STATIC / "console.html")

    app.static("/static", str(STATIC))
    register_training(app)  # /training and /api/training/* (webapp/training.py)

    @app.get("/widget.js")
    async def widget(request: Request):
        built = STATIC / "widget.js"
        if not built.exists():
            return response.text("widget not built: run `make widget`", status=503)
        return await response.file(built, mime_type="application/javascript")

    @app.get("/api/config")
    async def config(request: Request):
        return response.json(
            {
                "rasa": public_rasa_url(request),
                "shop": get_policy()["shop.name"],
                # the shop page offers the demo login only when there is one
                "demo": not is_production(),
            }
        )

    @app.get("/api/products")
    async def products(request: Request):
        return response.json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "category": p.category,
                    "price": f"{p.price:.2f}",
                    "in_stock": sum(p.stock.values()) > 0,
                    "attributes": p.attributes,
                }
                for p in repository.catalogue()
            ]
        )

    if not is_production():
        # demo mode only: in production this route does not exist (404), so no one can
        # mint a customer token without the shop's real login

        @app.post("/api/login")
        async def login(request: Request):
            """Demo login: mints the signed customer token the bot verifies."""
            body = request.json if isinstance(request.json, dict) else {}
            customer = body.get("customer")
            if not isinstance(customer, str) or customer not in DEMO_CUSTOMERS:
                return response.json({"error": "unknown demo customer"}, status=400)
            ttl = get_policy()["verification.token_ttl_seconds"]
            return response.json(
                {
                    "customer": customer,
                    "name": DEMO_CUSTOMERS[customer],
                    "token": mint_token(customer, ttl),
                }
            )

    @app.get("/api/orders")
    async def my_orders(request: Request):
        auth = request.headers.get("authorization", "")
        customer = verify_customer_token(auth.removeprefix("Bearer ").strip())
        if not customer:
            return response.json({"error": "login required"}, status=401)
        return response.json(
            [
                {"id": o.id, "status": o.status, "items": o.items, "total": o.total}
                for o in repository.orders_of(customer)
            ]
        )

    @app.get("/api/handoff/status")
    async def handoff_status(request: Request):
        """Queue position for the widget (no personal data)."""
        conversation = request.args.get("conversation") or ""
        entry = handoffs.current(conversation) if conversation else None
        if entry is None:
            return response.json({"status": "none"})
        if entry.status == "active":
            name = next((a["name"] for a in agents() if a["id"] == entry.agent_id), "")
            typing = agent_typing.get(conversation, 0.0) > time.monotonic()
            return response.json({"status": "active", "agent": name, "typing": typing})
        place, minutes = handoff.queue_estimate(
            handoffs.waiting(), conversation, handoff.load_agents(str(AGENTS_FILE))
        )
        return response.json({"status": "waiting", "position": place, "wait_minutes": minutes})

    # --- agent console API (X-Agent-Token) -------------------------------------------

    def not_in_queue() -> response.HTTPResponse:
        # another group's conversation answers like a missing one: nothing to learn
        return response.json({"error": "no such conversation in your queue"}, status=404)

    @app.get("/api/agent/me")
    @agent_required
    async def me(request: Request, agent: dict):
        return response.json(
            {
                **{k: agent[k] for k in ("id", "name", "skills")},
                "supervisor": roster.is_supervisor(agent),
            }
        )

    @app.get("/api/agent/queue")
    @agent_required
    async def queue(request: Request, agent: dict):
        entries = handoffs.entries()
        waiting = [e.as_waiting() for e in entries if e.status == "waiting"]
        ordered = handoff.queue_order(waiting)
        by_id = {e.conversation_id: e for e in entries}
        # ACD distribution: each waiting conversation is offered to the longest-idle
        # available agent of its skill group with spare capacity
        states = handoffs.agent_states(agents(), STARTED)
        names = {a["id"]: a["name"] for a in agents()}
        rows = [
            {
                "conversation_id": w.conversation_id,
                "skill_group": handoff.SKILL_NAMES[w.skill_group],
                "reason": by_id[w.conversation_id].reason,
                "tier": w.tier,
                # the place in the whole queue (what the customer is told)
                "position": handoff.position(waiting, w.conversation_id),
                "queued_at": w.queued_at.isoformat(),
                "mine": w.skill_group in agent["skills"],
                "offered_to": names.get(handoff.choose_agent(w, states) or "", ""),
            }
            for w in ordered
            if roster.sees_group(agent, w.skill_group)
        ]
        active = [
            {"conversation_id": e.conversation_id, "claimed_at": e.claimed_at.isoformat()}
            for e in entries
            if e.status == "active" and e.agent_id == agent["id"]
        ]
        return response.json({"waiting": rows, "active": active})

    @app.post("/api/agent/claim")
    @agent_required
    async def claim(request: Request, agent: dict):
        """Claim a conversation of one's skill groups, or the next one ACD gives this agent."""
        conversation = requested_conversation(request)
        if not conversation:
            states = handoffs.agent_states(agents(), STARTED)
            me_state = next(s for s in states if s.agent_id == agent["id"])
            waiting = handoffs.waiting()
            # first what ACD offers this agent, else the first they can serve
            offered = [w for w in waiting if handoff.choose_agent(w, states) == agent["id"]]
            nxt = handoff.queue_order(offered)[0] if offered else None
            nxt = nxt or handoff.next_for_agent(me_state, waiting)
            if nxt is None:
                return response.json({"error": "nothing to claim"}, status=404)
            conversation = nxt.conversation_id
        entry = handoffs.current(conversation)
        if entry is None or not roster.sees_group(agent, entry.skill_group):
            return not_in_queue()
        if entry.status != "waiting":
            return response.json({"error": "not waiting"}, status=409)
        # before the claim: a conversation Rasa's API cannot address stays in the queue,
        # unpaused (the bot keeps answering), instead of being paused with no agent's reply
        await conversation_tracker(conversation)
        if not handoffs.claim(conversation, agent["id"], datetime.now(timezone.utc)):
            return response.json({"error": "not waiting"}, status=409)
        # the human takes over: the bot stops predicting (escalations queued unpaused)
        await send_to_customer(
            conversation,
            [
                {"event": "pause"},
                {"event": "slot", "name": "agent_name", "value": agent["name"]},
                bot_event("utter_agent_joined", agent_name=agent["name"]),
            ],
        )
        return response.json({"conversation_id": conversation})

    async def read_conversation(request: Request, agent: dict, in_path: str | None):
        conversation_id = requested_conversation(request, in_path)
        entry = handoffs.current(conversation_id) if conversation_id else None
        if not conversation_id or not may_read(agent, entry):
            return not_in_queue()
        tracker = await conversation_tracker(conversation_id)
        messages, facts = transcript(tracker)
        ticket = facts.get("last_ticket")
        return response.json(
            {
                "conversation_id": conversation_id,
                "messages": messages,
                "facts": facts,
                "ticket": repository.ticket_details(ticket) if ticket else None,
                "handoff": None
                if entry is None
                else {
                    "status": entry.status,
                    "reason": entry.reason,
                    "skill_group": handoff.SKILL_NAMES[entry.skill_group],
                    "agent": entry.agent_id,
                },
            }
        )

    async def send_reply(request: Request, agent: dict, in_path: str | None):
        conversation_id = requested_conversation(request, in_path)
        body = request.json if isinstance(request.json, dict) else {}
        text = str(body.get("text") or "").strip()[:1000]
        entry = handoffs.current(conversation_id) if conversation_id else None
        if not text:
            return response.json({"error": "empty reply"}, status=400)
        if entry is None or entry.status != "active" or entry.agent_id != agent["id"]:
            return response.json({"error": "claim the conversation first"}, status=409)
        await send_to_customer(
            conversation_id,
            [{"event": "bot", "text": text, "metadata": {"agent": agent["name"]}}],
        )
        handoffs.record_reply(conversation_id, agent["id"], datetime.now(timezone.utc))
        return response.json({"sent": True})

    async def hand_back(request: Request, agent: dict, in_path: str | None):
        """Close the human part: resume the bot, note a summary, ask for a rating."""
        conversation_id = requested_conversation(request, in_path)
        body = request.json if isinstance(request.json, dict) else {}
        summary = str(body.get("summary") or "").strip()
        entry = handoffs.current(conversation_id) if conversation_id else None
        if entry is None or entry.status != "active" or entry.agent_id != agent["id"]:
            return response.json({"error": "not your active conversation"}, status=409)
        # checked before closing: the entry stays the agent's if Rasa cannot take it back
        await conversation_tracker(conversation_id)
        if not handoffs.close(conversation_id, agent["id"], summary, datetime.now(timezone.utc)):
            return response.json({"error": "not your active conversation"}, status=409)
        await send_to_customer(
            conversation_id,
            [
                {"event": "resume"},
                {"event": "slot", "name": "handoff_requested", "value": False},
                {"event": "slot", "name": "last_journey", "value": "human"},
                bot_event("utter_handback"),
                bot_event("utter_ask_rating"),  # CSAT of the human part
                # the bot waits for the customer again (rules start after action_listen)
                {"event": "action", "name": "action_listen"},
            ],
        )
        return response.json({"closed": True})

    # the id in the query string / JSON body (what the console sends) ...
    @app.get("/api/agent/conversation")
    @agent_required
    async def conversation(request: Request, agent: dict):
        return await read_conversation(request, agent, None)

    @app.post("/api/agent/reply")
    @agent_required
    async def reply(request: Request, agent: dict):
        agent_typing.pop(requested_conversation(request, None) or "", None)
        return await send_reply(request, agent, None)

    @app.post("/api/agent/typing")
    @agent_required
    async def typing(request: Request, agent: dict):
        """The agent is typing a reply: the widget shows it for a few seconds.

        Kept in this process's memory: with several web app processes a customer may
        miss the indicator, never a message.
        """
        conversation_id = requested_conversation(request, None)
        entry = handoffs.current(conversation_id) if conversation_id else None
        if entry is None or entry.status != "active" or entry.agent_id != agent["id"]:
            return response.json({"error": "not your active conversation"}, status=409)
        now = time.monotonic()
        for stale in [c for c, until in agent_typing.items() if until < now]:
            del agent_typing[stale]
        agent_typing[conversation_id] = now + AGENT_TYPING_SECONDS
        return response.json({"typing": True})

    @app.post("/api/agent/handback")
    @agent_required
    async def handback(request: Request, agent: dict):
        return await hand_back(request, agent, None)

    # ... and, for older clients, percent-encoded in the path (Sanic hands the segment over
    # still encoded; "." and ".." cannot be sent this way: browsers drop dot segments)
    @app.get("/api/agent/conversation/<conversation_id>")
    @agent_required
    async def conversation_in_path(request: Request, agent: dict, conversation_id: str):
        return await read_conversation(request, agent, conversation_id)

    @app.post("/api/agent/conversation/<conversation_id>/reply")
    @agent_required
    async def reply_in_path(request: Request, agent: dict, conversation_id: str):
        return await send_reply(request, agent, conversation_id)

    @app.post("/api/agent/conversation/<conversation_id>/handback")
    @agent_required
    async def handback_in_path(request: Request, agent: dict, conversation_id: str):
        return await hand_back(request, agent, conversation_id)

    @app.get("/api/agent/canned")
    @agent_required
    async def canned(request: Request, agent: dict):
        data = yaml.safe_load(CANNED_FILE.read_text(encoding="utf-8"))
        return response.json(
            {k: [t.replace("{agent}", agent["name"]) for t in v] for k, v in data.items()}
        )

    from webapp.analytics import register as register_analytics  # /analytics, /api/analytics/*

    register_analytics(app)
    from webapp.callbacks import register as register_callbacks  # /api/agent/callbacks...

    register_callbacks(app)
    return app


def main() -> None:
    """Run the web app (WEB_PORT, default 8080; WEB_HOST, default loopback)."""
    from dianxiaoer.startup_check import require

    require("web")  # production refuses demo secrets; demo says so
    port = int(os.environ.get("WEB_PORT", "8080"))
    create_app().run(host=os.environ.get("WEB_HOST", "127.0.0.1"), port=port, access_log=False)


if __name__ == "__main__":
    main()
