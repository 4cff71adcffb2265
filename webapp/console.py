"""The agent console: the page, the queue (ACD order), claim, transcript, reply, hand-back.

Agents (`X-Agent-Token`) see, read and claim only their skill groups' conversations
(`roster.sees_group`; a supervisor sees all); another group's conversation answers like a
missing one. Claiming pauses the bot and tells the customer who joined; handing back
resumes it and asks for a rating — those messages in the customer's script
(`webapp.replies`). The "agent is typing" signal lives in `app.ctx.agent_typing`, which
the widget's queue status (webapp/shop.py) reads.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import yaml
from sanic import Blueprint, response
from sanic.request import Request

from dianxiaoer.core import roster
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.shop import handoff
from dianxiaoer.store import handoffs, repository
from webapp.auth import AGENT, agents, requires
from webapp.replies import bot_event
from webapp.shared import (
    conversation_tracker,
    error,
    json_body,
    page,
    requested_conversation,
    send_to_customer,
    transcript,
)

CANNED_FILE = PROJECT_ROOT / "config" / "canned_replies.yml"
STARTED = datetime.now(timezone.utc)
#: How long one "agent is typing" signal shows in the widget (the console repeats it).
AGENT_TYPING_SECONDS = 6.0

bp = Blueprint("console")


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


def not_in_queue() -> response.HTTPResponse:
    """404 for another group's conversation, as for a missing one: nothing to learn."""
    return error("no such conversation in your queue", 404)


def _own_active(conversation_id: str, agent: dict) -> handoffs.HandoffView | None:
    entry = handoffs.current(conversation_id) if conversation_id else None
    if entry is None or entry.status != "active" or entry.agent_id != agent["id"]:
        return None
    return entry


def _claimed_at(entry: handoffs.HandoffView) -> str:
    """When an active entry was claimed (`handoffs.claim` sets it with the status)."""
    assert entry.claimed_at is not None
    return entry.claimed_at.isoformat()


@bp.get("/console")
async def console(request: Request):
    """The agent console page."""
    return await page("console.html")


@bp.get("/api/agent/me")
@requires(AGENT)
async def me(request: Request, agent: dict):
    """The logged-in agent: id, name, skill groups, supervisor or not."""
    return response.json(
        {
            **{k: agent[k] for k in ("id", "name", "skills")},
            "supervisor": roster.is_supervisor(agent),
        }
    )


@bp.get("/api/agent/queue")
@requires(AGENT)
async def queue(request: Request, agent: dict):
    """The waiting conversations the agent may see (ACD order) and their own active ones."""
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
        {"conversation_id": e.conversation_id, "claimed_at": _claimed_at(e)}
        for e in entries
        if e.status == "active" and e.agent_id == agent["id"]
    ]
    return response.json({"waiting": rows, "active": active})


@bp.post("/api/agent/claim")
@requires(AGENT)
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
            return error("nothing to claim", 404)
        conversation = nxt.conversation_id
    entry = handoffs.current(conversation)
    if entry is None or not roster.sees_group(agent, entry.skill_group):
        return not_in_queue()
    if entry.status != "waiting":
        return error("not waiting", 409)
    # before the claim: a conversation Rasa's API cannot address stays in the queue,
    # unpaused (the bot keeps answering), instead of being paused with no agent's reply
    tracker = await conversation_tracker(conversation)
    if not handoffs.claim(conversation, agent["id"], datetime.now(timezone.utc)):
        return error("not waiting", 409)
    # the human takes over: the bot stops predicting (escalations queued unpaused)
    await send_to_customer(
        conversation,
        [
            {"event": "pause"},
            {"event": "slot", "name": "agent_name", "value": agent["name"]},
            bot_event("utter_agent_joined", tracker, agent_name=agent["name"]),
        ],
    )
    return response.json({"conversation_id": conversation})


async def read_conversation(request: Request, agent: dict, in_path: str | None):
    """The transcript, what the bot knows, the ticket and the handoff of one conversation."""
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
    """Append the agent's message to their active conversation."""
    conversation_id = requested_conversation(request, in_path)
    text = str(json_body(request).get("text") or "").strip()[:1000]
    if not text:
        return error("empty reply", 400)
    if _own_active(conversation_id, agent) is None:
        return error("claim the conversation first", 409)
    await send_to_customer(
        conversation_id,
        [{"event": "bot", "text": text, "metadata": {"agent": agent["name"]}}],
    )
    handoffs.record_reply(conversation_id, agent["id"], datetime.now(timezone.utc))
    return response.json({"sent": True})


async def hand_back(request: Request, agent: dict, in_path: str | None):
    """Close the human part: resume the bot, note a summary, ask for a rating."""
    conversation_id = requested_conversation(request, in_path)
    summary = str(json_body(request).get("summary") or "").strip()
    if _own_active(conversation_id, agent) is None:
        return error("not your active conversation", 409)
    # checked before closing: the entry stays the agent's if Rasa cannot take it back
    tracker = await conversation_tracker(conversation_id)
    if not handoffs.close(conversation_id, agent["id"], summary, datetime.now(timezone.utc)):
        return error("not your active conversation", 409)
    await send_to_customer(
        conversation_id,
        [
            {"event": "resume"},
            {"event": "slot", "name": "handoff_requested", "value": False},
            {"event": "slot", "name": "last_journey", "value": "human"},
            bot_event("utter_handback", tracker),
            bot_event("utter_ask_rating", tracker),  # CSAT of the human part
            # the bot waits for the customer again (rules start after action_listen)
            {"event": "action", "name": "action_listen"},
        ],
    )
    return response.json({"closed": True})


# the id in the query string / JSON body (what the console sends) ...
@bp.get("/api/agent/conversation")
@requires(AGENT)
async def conversation(request: Request, agent: dict):
    """One conversation (`?id=`)."""
    return await read_conversation(request, agent, None)


@bp.post("/api/agent/reply")
@requires(AGENT)
async def reply(request: Request, agent: dict):
    """The agent's reply (`conversation_id`, `text`); it ends their typing signal."""
    request.app.ctx.agent_typing.pop(requested_conversation(request, None) or "", None)
    return await send_reply(request, agent, None)


@bp.post("/api/agent/typing")
@requires(AGENT)
async def typing(request: Request, agent: dict):
    """The agent is typing a reply: the widget shows it for a few seconds.

    Kept in this process's memory: with several web app processes a customer may
    miss the indicator, never a message.
    """
    conversation_id = requested_conversation(request, None)
    if _own_active(conversation_id, agent) is None:
        return error("not your active conversation", 409)
    agent_typing = request.app.ctx.agent_typing
    now = time.monotonic()
    for stale in [c for c, until in agent_typing.items() if until < now]:
        del agent_typing[stale]
    agent_typing[conversation_id] = now + AGENT_TYPING_SECONDS
    return response.json({"typing": True})


@bp.post("/api/agent/handback")
@requires(AGENT)
async def handback(request: Request, agent: dict):
    """Hand the conversation (`conversation_id`, `summary`) back to the bot."""
    return await hand_back(request, agent, None)


# ... and, for older clients, percent-encoded in the path (Sanic hands the segment over
# still encoded; "." and ".." cannot be sent this way: browsers drop dot segments)
@bp.get("/api/agent/conversation/<conversation_id>")
@requires(AGENT)
async def conversation_in_path(request: Request, agent: dict, conversation_id: str):
    """One conversation, its id percent-encoded in the path (older clients)."""
    return await read_conversation(request, agent, conversation_id)


@bp.post("/api/agent/conversation/<conversation_id>/reply")
@requires(AGENT)
async def reply_in_path(request: Request, agent: dict, conversation_id: str):
    """The agent's reply, the id in the path (older clients)."""
    return await send_reply(request, agent, conversation_id)


@bp.post("/api/agent/conversation/<conversation_id>/handback")
@requires(AGENT)
async def handback_in_path(request: Request, agent: dict, conversation_id: str):
    """Hand back, the id in the path (older clients)."""
    return await hand_back(request, agent, conversation_id)


@bp.get("/api/agent/canned")
@requires(AGENT)
async def canned(request: Request, agent: dict):
    """The canned replies (话术规范), signed with the agent's name."""
    data = yaml.safe_load(CANNED_FILE.read_text(encoding="utf-8"))
    return response.json(
        {k: [t.replace("{agent}", agent["name"]) for t in v] for k, v in data.items()}
    )
