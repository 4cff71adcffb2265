"""Callback requests on the agent console: the list, one request's detail, marking it done.

Outside service hours the bot records a callback (`actions/human.py`, status `callback`)
and promises that an agent replies once on duty. Agents see the open requests of their
skill groups (a supervisor sees all), oldest first; one request's detail adds what the bot
knows: the customer, the verified order and the phone to call (shown only there), the
reason, psychology and ticket, and the conversation's recent messages from Rasa's tracker.
Marking a request done records how the customer was reached: by phone, or by a message
appended to the conversation through Rasa's API. An open widget shows the message at once;
a widget opened later fetches it from `GET /api/callback/messages` (it has no other way to
learn what was said while it was closed).

API (agent token in `X-Agent-Token`, as on /console):

- `GET /api/agent/callbacks` → `{"callbacks": [...], "count": n}` (open, oldest first);
- `GET /api/agent/callbacks/<id>` → one request with what the bot knows;
- `POST /api/agent/callbacks/<id>/done` `{"how": "phone"|"message", "note": "...",
  "text": "..."}` → 200, 400 (how), 404 (unknown or another group's), 409 (done already),
  502 (the message could not be appended: the request stays open).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sanic import Blueprint, response
from sanic.request import Request

from dianxiaoer.core import roster
from dianxiaoer.shop import handoff
from dianxiaoer.store import handoffs, repository
from webapp.auth import AGENT, requires
from webapp.replies import render
from webapp.shared import conversation_tracker, error, json_body, send_to_customer, transcript

log = logging.getLogger(__name__)

#: The domain response whose variations word a callback message the agent did not write.
MESSAGE_RESPONSE = "utter_callback_message"
#: Recent conversation messages shown with a callback.
RECENT_MESSAGES = 20
MAX_NOTE, MAX_TEXT = 500, 1000


def can_see(agent: dict, group: str) -> bool:
    """Whether `agent` may see requests of skill group `group` (a supervisor sees all).

    The console's rule for live conversations (`roster.sees_group`), so both agree.
    """
    return roster.sees_group(agent, group)


def mask_phone(phone: str | None) -> str | None:
    """138****1234: enough to recognise a customer in a list, not to call them."""
    if not phone:
        return None
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:] if len(phone) > 7 else "****"


def callback_message(agent_name: str, tracker: dict | None = None) -> str:
    """The standard callback message: a random variation, in the customer's script."""
    return render(MESSAGE_RESPONSE, tracker, agent_name=agent_name)["text"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary(cb: handoffs.CallbackView, now: datetime) -> dict:
    """A list row: who, why, since when; the phone masked."""
    e = cb.entry
    return {
        "id": e.id,
        "conversation_id": e.conversation_id,
        "customer_id": e.customer_id,
        "customer_name": cb.customer_name,
        "vip": cb.customer_vip,
        "phone": mask_phone(cb.customer_phone),
        "skill_group": e.skill_group,
        "skill_name": handoff.SKILL_NAMES.get(e.skill_group, e.skill_group),
        "reason": e.reason,
        "tier": e.tier,
        "psychology": e.details.get("psychology"),
        "ticket": e.details.get("ticket"),
        "status": e.status,
        "queued_at": _iso(e.queued_at),
        "waiting_s": round((now - e.queued_at).total_seconds()),
    }


def _contact_phone(cb: handoffs.CallbackView, order_id: str | None) -> tuple[dict | None, dict]:
    """(the verified order, the number to call and where it comes from)."""
    order = repository.find_order(order_id) if order_id else None
    if order is not None:
        return (
            {"id": order.id, "status": order.status, "customer_name": order.customer_name},
            {"number": order.customer_phone, "source": "order"},
        )
    if cb.customer_phone:
        return None, {"number": cb.customer_phone, "source": "customer"}
    return None, {"number": None, "source": None}


bp = Blueprint("callbacks")


def visible(agent: dict, entry_id: int) -> handoffs.CallbackView | None:
    """The callback request if `agent` may see it (None: unknown or another group's)."""
    cb = handoffs.callback(entry_id)
    # another group's request answers like a missing one: nothing to learn from it
    return cb if cb is not None and can_see(agent, cb.entry.skill_group) else None


async def _tracker_or_none(conversation: str) -> dict | None:
    try:
        return await conversation_tracker(conversation)
    except Exception as exc:  # the caller goes on without what the tracker knows
        log.warning("tracker of %r unavailable: %s", conversation, exc)
        return None


@bp.get("/api/agent/callbacks")
@requires(AGENT)
async def callback_list(request: Request, agent: dict):
    """The open callback requests of the agent's skill groups, oldest first."""
    now = datetime.now(timezone.utc)
    rows = [summary(cb, now) for cb in handoffs.callbacks() if can_see(agent, cb.entry.skill_group)]
    return response.json({"callbacks": rows, "count": len(rows)}, ensure_ascii=False)


@bp.get("/api/agent/callbacks/<entry_id:int>")
@requires(AGENT)
async def callback_detail(request: Request, agent: dict, entry_id: int):
    """One request with what the bot knows and the phone to call."""
    cb = visible(agent, entry_id)
    if cb is None:
        return error("no such callback", 404)
    conversation = cb.entry.conversation_id
    messages: list[dict] = []
    facts: dict = {}
    tracker_error: str | None = None
    tracker = await _tracker_or_none(conversation)
    if tracker is None:  # the store's facts are still worth showing
        tracker_error = "会话记录暂时无法读取"
    else:
        messages, facts = transcript(tracker)
    order, phone = _contact_phone(cb, facts.get("verified_order"))
    ticket = cb.entry.details.get("ticket") or facts.get("last_ticket")
    return response.json(
        {
            **summary(cb, datetime.now(timezone.utc)),
            "phone": phone["number"],
            "phone_source": phone["source"],
            "verified_customer": facts.get("verified_customer"),
            "order": order,
            "anger": facts.get("anger"),
            "ticket_details": repository.ticket_details(ticket) if ticket else None,
            "messages": messages[-RECENT_MESSAGES:],
            "tracker_error": tracker_error,
            "agent_id": cb.entry.agent_id,
            "contacted_at": _iso(cb.entry.closed_at),
            "contact": cb.contact,
        },
        ensure_ascii=False,
    )


@bp.post("/api/agent/callbacks/<entry_id:int>/done")
@requires(AGENT)
async def callback_done(request: Request, agent: dict, entry_id: int):
    """Mark a request done: by phone, or with a message appended to the conversation."""
    body = json_body(request)
    how = body.get("how")
    if how not in handoffs.CONTACT_WAYS:
        return error("how: phone or message", 400)
    cb = visible(agent, entry_id)
    if cb is None:
        return error("no such callback", 404)
    note = str(body.get("note") or "").strip()[:MAX_NOTE]
    text = str(body.get("text") or "").strip()[:MAX_TEXT]
    message, tracker = None, None
    if how == "message":
        # the standard message in the customer's script; an agent's own text as written.
        # Without the tracker it stays simplified: sending then fails and reopens below.
        tracker = None if text else await _tracker_or_none(cb.entry.conversation_id)
        message = text or callback_message(agent["name"], tracker)
    now = datetime.now(timezone.utc)
    # recorded first (one conditional update): a second agent cannot send it again
    done = handoffs.mark_callback_done(entry_id, agent["id"], how, note, now, message)
    if done is None:
        return error("already done", 409)
    if message is not None:
        event = {
            "event": "bot",
            "text": message,
            "metadata": {"agent": agent["name"], "callback": entry_id},
        }
        try:
            # checked against the tracker's sender_id: this conversation or none
            await send_to_customer(done.conversation_id, [event], tracker)
        except Exception as exc:
            log.error("callback %s: message not appended: %s", entry_id, exc)
            handoffs.reopen_callback(entry_id, agent["id"])
            return error("message not delivered; try again", 502)
    return response.json(
        {"done": True, "how": how, "message": message, "contacted_at": _iso(now)},
        ensure_ascii=False,
    )


@bp.get("/api/callback/messages")
async def callback_messages(request: Request):
    """Agents' callback messages of one conversation, for the widget when it comes back.

    Like the queue status, keyed by the conversation id only the customer's browser
    holds; nothing but the messages themselves is returned.
    """
    conversation = (request.args.get("conversation") or "")[:128]
    if not conversation:
        return response.json([])
    done = handoffs.callbacks(statuses=(handoffs.CALLBACK_DONE,), conversation_id=conversation)
    return response.json(
        [
            {"id": cb.entry.id, "text": cb.contact["message"], "time": cb.contact.get("at")}
            for cb in done
            if cb.contact.get("how") == "message" and cb.contact.get("message")
        ],
        ensure_ascii=False,
    )
