"""Conversations from the tracker store's event stream, joined to their shop-store rows.

A conversation is one session of a sender: Rasa's `session_started` event begins a new
one (events before the first, e.g. of trackers from before sessions, form a session of
their own). Only sessions with at least one customer message count; sessions in which
the `training_mode` slot was set to a value are staff training, not shop conversations.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from dianxiaoer.analytics.sources import (
    Filters,
    HandoffRow,
    RatingRow,
    ReturnRow,
    Row,
    ShopData,
    TicketRow,
)
from dianxiaoer.core.service_hours import SHANGHAI

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_suggest_intents"
#: Rasa's prefix of messages injected by reminders and external events.
EXTERNAL_PREFIX = "EXTERNAL: "
KNOWLEDGE_PREFIX = "utter_knowledge_"
KNOWLEDGE_SUGGEST = "utter_knowledge_suggest"

#: Which action set `handoff_requested`: the reason when the shop store has no queue row.
REASON_OF_ACTION = {
    "action_request_human": "asked",
    "action_suggest_intents": "fallback",
    "action_answer_order": "lockout",
    "action_handle_complaint": "complaint",
}


@dataclass
class Turn:
    """One customer message and what the bot did with it.

    `guessed` is the model's best intent other than nlu_fallback; `human` is true when
    the conversation was paused (an agent, not the bot, answers); `fallback` when the
    intent was nlu_fallback or the fallback action ran for it.
    """

    ts: float
    text: str
    intent: str | None
    guessed: str | None
    confidence: float | None
    runner_up: str | None
    payload: bool
    human: bool
    fallback: bool = False


@dataclass
class Episode:
    """A handoff: from the shop store's queue row, else from the tracker's events."""

    reason: str
    status: str
    agent_id: str | None = None
    queued_at: float | None = None
    claimed_at: float | None = None
    first_reply_at: float | None = None
    closed_at: float | None = None
    handed_back: bool = False
    contact_how: str | None = None  # a callback's: phone or message


@dataclass
class Conversation:
    """A sender's session, summarized."""

    sender_id: str
    start: float
    end: float = float("inf")  # the next session's start
    channel: str | None = None
    training: bool = False
    turns: list[Turn] = field(default_factory=list)
    bot_messages: int = 0
    agent_messages: int = 0
    replies: Counter = field(default_factory=Counter)
    knowledge: list[tuple[str, str]] = field(default_factory=list)
    numbers: set[str] = field(default_factory=set)
    flagged: list[tuple[float, str]] = field(default_factory=list)
    resumes: int = 0
    # matched shop-store rows
    handoffs: list[HandoffRow] = field(default_factory=list)
    ratings: list[RatingRow] = field(default_factory=list)
    tickets: list[TicketRow] = field(default_factory=list)
    returns: list[ReturnRow] = field(default_factory=list)
    # parser state
    _paused: bool = False
    _flag_open: bool = False
    _last_action: str | None = None

    @property
    def first_message(self) -> float:
        """Time of the first customer message."""
        return self.turns[0].ts

    @property
    def day(self) -> date:
        """The day (Asia/Shanghai) the conversation started: its first customer message."""
        return datetime.fromtimestamp(self.first_message, SHANGHAI).date()

    @property
    def channel_name(self) -> str:
        """The input channel of the first customer message ("unknown" if none)."""
        return self.channel or "unknown"

    @property
    def bot_turns(self) -> list[Turn]:
        """Customer messages the bot (not an agent) answered."""
        return [t for t in self.turns if not t.human]

    @property
    def fallback_end(self) -> bool:
        """The last two bot-answered turns were both fallbacks."""
        turns = self.bot_turns
        return len(turns) >= 2 and turns[-1].fallback and turns[-2].fallback

    @property
    def only_fallbacks(self) -> bool:
        """Every bot-answered turn was a fallback (at least one)."""
        turns = self.bot_turns
        return bool(turns) and all(t.fallback for t in turns)

    def episodes(self) -> list[Episode]:
        """Handoffs: one per shop-store queue row; without rows, one per flag in events."""
        if self.handoffs:
            return [
                Episode(
                    h.reason,
                    h.status,
                    h.agent_id,
                    h.queued_at,
                    h.claimed_at,
                    h.first_reply_at,
                    h.closed_at,
                    # a contacted callback is closed too, but was never the bot's to resume
                    h.closed_at is not None and not h.status.startswith("callback"),
                    h.contact_how,
                )
                for h in self.handoffs
            ]
        episodes = [Episode(reason, "unknown") for _, reason in self.flagged]
        for episode in episodes[: self.resumes]:
            episode.handed_back = True
        return episodes

    @property
    def handed_off(self) -> bool:
        """A handoff was requested (by the customer or the bot) in this conversation."""
        return bool(self.handoffs or self.flagged)

    def low_csat(self, low_score: int) -> bool:
        """A rating at or below `low_score` was given in this conversation."""
        return any(r.score <= low_score for r in self.ratings)

    def resolved(self, low_score: int) -> bool:
        """Contained: no handoff, not ending in two fallbacks, not only fallbacks, no low CSAT."""
        return not (
            self.handed_off or self.fallback_end or self.only_fallbacks or self.low_csat(low_score)
        )

    # --- event parsing --------------------------------------------------------------

    def add(self, type_name: str, ts: float, intent: str | None, action: str | None, data):
        """Apply one event of this session (data: the JSON text, or None if not read)."""
        if type_name == "user":
            self._user(ts, intent, json.loads(data) if data else {})
        elif type_name == "action":
            if action == FALLBACK_ACTION and self.turns and not self.turns[-1].human:
                self.turns[-1].fallback = True
            if action and action != "action_listen":
                self._last_action = action
        elif type_name == "bot":
            self._bot(json.loads(data) if data else {})
        elif type_name == "slot":
            self._slot(ts, action, json.loads(data).get("value") if data else None)
        elif type_name == "pause":
            self._paused = True
        elif type_name == "resume":
            self._paused = False
            self._flag_open = False
            self.resumes += 1

    def _user(self, ts: float, intent_name: str | None, data: dict) -> None:
        text = str(data.get("text") or "")
        parse = data.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name") or intent_name
        metadata = data.get("metadata") or {}
        if (intent or "").startswith("EXTERNAL_") or text.startswith(EXTERNAL_PREFIX):
            return  # a reminder, not the customer
        if (isinstance(metadata, dict) and metadata.get("is_external")) or not (text or intent):
            return
        ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
        if ranking:
            guessed, confidence = ranking[0].get("name"), ranking[0].get("confidence")
        else:
            guessed, confidence = intent, (parse.get("intent") or {}).get("confidence")
        turn = Turn(
            ts,
            text,
            intent,
            guessed,
            float(confidence) if confidence is not None else None,
            ranking[1].get("name") if len(ranking) > 1 else None,
            text.startswith("/"),
            self._paused,
            fallback=intent == FALLBACK_INTENT and not self._paused,
        )
        if not self.turns:
            self.channel = data.get("input_channel")
        self.turns.append(turn)
        self._last_action = None

    def _bot(self, data: dict) -> None:
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            metadata = {}
        if metadata.get("agent"):
            self.agent_messages += 1
            return
        self.bot_messages += 1
        utter = metadata.get("utter_action")
        if not utter:
            return
        self.replies[utter] += 1
        if utter.startswith(KNOWLEDGE_PREFIX) and utter != KNOWLEDGE_SUGGEST:
            if metadata.get("title"):
                kind = utter[len(KNOWLEDGE_PREFIX) :].split("_")[0]
                self.knowledge.append((kind, str(metadata["title"])))
        for key in ("ticket", "rma"):
            if metadata.get(key):
                self.numbers.add(str(metadata[key]))

    def _slot(self, ts: float, name: str | None, value) -> None:
        if name == "training_mode" and value is not None:
            self.training = True
        elif name == "last_ticket" and value:
            self.numbers.add(str(value))
        elif name == "handoff_requested":
            if value is True and not self._flag_open:
                reason = REASON_OF_ACTION.get(self._last_action or "", "other")
                self.flagged.append((ts, reason))
                self._flag_open = True
            elif value is False:
                self._flag_open = False


def _in_window(times: list[float], start: float, end: float) -> tuple[int, int]:
    return bisect_left(times, start), bisect_left(times, end)


def _match(sessions: list[Conversation], shop: ShopData) -> None:
    """Give each session the shop-store rows recorded during it."""
    sender = sessions[0].sender_id
    handoffs = shop.handoffs.get(sender, [])
    ratings = shop.ratings.get(sender, [])
    tickets = shop.tickets_of.get(sender, [])
    h_times = [h.queued_at for h in handoffs]
    r_times = [r.created_at for r in ratings]
    t_times = [t.created_at for t in tickets]
    for i, s in enumerate(sessions):
        # rows recorded before the first session started belong to it
        start = s.start if i else float("-inf")
        a, b = _in_window(h_times, start, s.end)
        s.handoffs = handoffs[a:b]
        a, b = _in_window(r_times, start, s.end)
        s.ratings = ratings[a:b]
        a, b = _in_window(t_times, start, s.end)
        found = {t.number: t for t in tickets[a:b]}
        for number in s.numbers:
            if number in shop.tickets:
                found.setdefault(number, shop.tickets[number])
        s.tickets = sorted(found.values(), key=lambda t: (t.created_at, t.number))
        s.returns = sorted(
            (shop.returns[n] for n in s.numbers if n in shop.returns), key=lambda x: x.rma
        )


def sessions_of_sender(sender: str, rows: Iterable[Row]) -> list[Conversation]:
    """Split one sender's events (in id order) into sessions."""
    sessions: list[Conversation] = []
    current: Conversation | None = None
    for _, type_name, ts, intent, action, data in rows:
        ts = float(ts or 0.0)
        if action == "action_session_start" and type_name == "action":
            continue  # bookkeeping just before session_started, of neither session
        if type_name == "session_started":
            current = Conversation(sender, ts)
            if sessions:
                sessions[-1].end = ts
            sessions.append(current)
            continue
        if current is None:
            current = Conversation(sender, ts)
            sessions.append(current)
        current.add(type_name, ts, intent, action, data)
    return sessions


def conversations(
    rows: Iterable[Row], shop: ShopData, filters: Filters = Filters()
) -> Iterator[Conversation]:
    """Conversations with customer messages, started in the date range, in any channel.

    Training-mode sessions and the channel filter are left to the caller, which counts
    what it excludes. Holds one sender's events at a time.
    """
    batch: list[Row] = []
    sender = None
    for row in rows:
        if row[0] != sender:
            if batch:
                yield from _finish(batch[0][0], batch, shop, filters)  # batch[0][0] == sender
            sender, batch = row[0], []
        batch.append(row)
    if batch:
        yield from _finish(batch[0][0], batch, shop, filters)


def _finish(sender: str, rows: list[Row], shop: ShopData, filters: Filters):
    sessions = sessions_of_sender(sender, rows)
    if not sessions:
        return
    _match(sessions, shop)
    for s in sessions:
        if s.turns and filters.contains_day(s.day):
            yield s
