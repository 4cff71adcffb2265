"""The figures: one pass over the conversations, accumulated into a JSON-ready dict.

Definitions (also in docs/analytics.md):

- conversation: a sender's session with at least one customer message, placed on the
  day (Asia/Shanghai) of its first customer message; staff-training sessions excluded;
- resolved (contained): no handoff, not ending with two fallbacks in a row, not only
  fallbacks, no rating at or below `satisfaction.low_score`;
- fallback turn: a bot-answered customer message with intent nlu_fallback or for which
  the fallback action (action_suggest_intents) ran;
- handoff: a queue row in the shop store during the conversation, or the
  `handoff_requested` slot set by an action;
- callback: a handoff asked outside service hours (status callback, callback_done once an
  agent contacted the customer); time to contact = contact time - request time.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Protocol

from dianxiaoer.analytics.conversations import Conversation, conversations
from dianxiaoer.analytics.similarity import group_similar
from dianxiaoer.analytics.sources import (
    Filters,
    customer_names,
    load_shop,
    stream_events,
    tracker_url,
)
from dianxiaoer.core.privacy import Masker

#: How many rows the ranked lists keep.
TOP = 15
#: The unanswered-question groups kept.
TOP_GROUPS = 20
#: Handoff reasons always listed (others appear when they occur).
REASONS = ("asked", "anger", "revenge", "fallback", "lockout")
#: Queue statuses of a callback request before and after the agent's contact.
CALLBACK_STATUSES = ("callback", "callback_done")
#: How agents reach the customer of a callback.
CONTACT_WAYS = ("phone", "message")
PSYCHOLOGY = ("venting", "respect", "remedy", "recognition", "showing", "revenge")
#: Replies that tell the customer a return is not possible, by cause.
RETURN_REFUSALS = {
    "utter_return_excluded_customized": "excluded_customized",
    "utter_return_excluded_perishable": "excluded_perishable",
    "utter_return_excluded_digital": "excluded_digital",
    "utter_return_excluded_periodical": "excluded_periodical",
    "utter_return_expired": "window_expired",
    "utter_return_not_signed": "not_signed",
}
DELAY_REPLIES = {"utter_delay_no_scan": "no_scan", "utter_delay_unshipped": "unshipped"}


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def duration_stats(seconds: Iterable[float]) -> dict:
    """Count, mean, median, 90th percentile (nearest rank) and max, in seconds (0.1 s)."""
    values = sorted(float(s) for s in seconds)
    if not values:
        return {"count": 0, "mean_s": None, "median_s": None, "p90_s": None, "max_s": None}
    p90 = values[max(0, math.ceil(0.9 * len(values)) - 1)]
    return {
        "count": len(values),
        "mean_s": round(statistics.fmean(values), 1),
        "median_s": round(statistics.median(values), 1),
        "p90_s": round(p90, 1),
        "max_s": round(values[-1], 1),
    }


def _ranked(counter: Counter, limit: int = TOP, key: str = "name") -> list[dict]:
    return [
        {key: name, "count": count}
        for name, count in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]
    ]


def _low_score() -> int:
    from dianxiaoer.core.policy import get_policy

    return int(get_policy()["satisfaction.low_score"])


def _by_count(counter: Counter) -> list[tuple]:
    """(key, count) pairs, most frequent first, ties by key."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _known_first(counter: Counter, known: Iterable[str]) -> dict[str, int]:
    """`known` keys in their order (0 when absent), then any others sorted."""
    known = tuple(known)
    return {
        **{k: counter.get(k, 0) for k in known},
        **{k: c for k, c in sorted(counter.items()) if k not in known},
    }


class Section(Protocol):
    """One part of the figures: counts what it needs of each conversation."""

    def add(self, c: Conversation) -> None:
        """Count one conversation."""


class Volume:
    """Conversations and messages, in total and per day."""

    def __init__(self) -> None:
        self.conversations = 0
        self.days: dict[str, Counter] = defaultdict(Counter)
        self.messages: Counter[str] = Counter()

    def add(self, c: Conversation) -> None:
        """Count one conversation and its messages on its day."""
        self.conversations += 1
        day = self.days[c.day.isoformat()]
        day["conversations"] += 1
        for key, value in (
            ("customer_messages", len(c.turns)),
            ("bot_messages", c.bot_messages),
            ("agent_messages", c.agent_messages),
        ):
            day[key] += value
            self.messages[key] += value

    def per_day(self) -> list[dict]:
        """One row per day, oldest first."""
        return [
            {
                "day": day,
                "conversations": c["conversations"],
                "customer_messages": c["customer_messages"],
                "bot_messages": c["bot_messages"],
                "agent_messages": c["agent_messages"],
            }
            for day, c in sorted(self.days.items())
        ]


class Resolution:
    """Resolved (contained) conversations and why the others were not."""

    CAUSES = ("handoff", "fallback_end", "only_fallbacks", "low_csat")

    def __init__(self, low_score: int) -> None:
        self.low_score = low_score
        self.resolved = 0
        self.causes: Counter[str] = Counter()

    def add(self, c: Conversation) -> None:
        """Count whether `c` was resolved and each cause that it was not."""
        self.resolved += int(c.resolved(self.low_score))
        for cause, hit in zip(
            self.CAUSES,
            (c.handed_off, c.fallback_end, c.only_fallbacks, c.low_csat(self.low_score)),
            strict=True,
        ):
            self.causes[cause] += int(hit)

    def result(self, n: int) -> dict:
        """The resolution section for `n` conversations."""
        return {
            "resolved": self.resolved,
            "unresolved": n - self.resolved,
            "rate": _rate(self.resolved, n),
            "causes": {k: self.causes.get(k, 0) for k in self.CAUSES},
        }


class Handoffs:
    """Handoff episodes: reasons, outcomes, waiting and first-reply times, callbacks."""

    def __init__(self) -> None:
        self.conversations = 0
        self.reasons: Counter[str] = Counter()
        self.status: Counter[str] = Counter()
        self.to_agent: list[float] = []
        self.first_reply: list[float] = []
        self.per_agent: dict[str, list[float]] = defaultdict(list)
        self.per_agent_handoffs: Counter[str] = Counter()
        self.callbacks: Counter[str] = Counter()
        self.callback_ways: Counter[str] = Counter()
        self.to_contact: list[float] = []

    def add(self, c: Conversation) -> None:
        """Count the handoff episodes of one conversation."""
        self.conversations += int(c.handed_off)
        for e in c.episodes():
            self.reasons[e.reason] += 1
            self.status["handed_back" if e.handed_back else e.status] += 1
            if e.claimed_at is not None and e.queued_at is not None:
                self.to_agent.append(e.claimed_at - e.queued_at)
                self.per_agent_handoffs[e.agent_id or "?"] += 1
            if e.first_reply_at is not None and e.claimed_at is not None:
                self.first_reply.append(e.first_reply_at - e.claimed_at)
                self.per_agent[e.agent_id or "?"].append(e.first_reply_at - e.claimed_at)
            if e.status in CALLBACK_STATUSES:
                self.callbacks[e.status] += 1
                if e.status == "callback_done" and e.closed_at is not None and e.queued_at:
                    self.to_contact.append(e.closed_at - e.queued_at)
                    self.callback_ways[e.contact_how or "?"] += 1

    def result(self, n: int) -> dict:
        """The handoffs section for `n` conversations."""
        return {
            "conversations": self.conversations,
            "rate": _rate(self.conversations, n),
            "episodes": sum(self.reasons.values()),
            "by_reason": _known_first(self.reasons, REASONS),
            "by_status": dict(sorted(self.status.items())),
            "time_to_agent": duration_stats(self.to_agent),
        }

    def callbacks_result(self) -> dict:
        """Callback requests made outside service hours and how they were answered."""
        return {
            "requested": sum(self.callbacks.values()),
            "contacted": self.callbacks["callback_done"],
            "open": self.callbacks["callback"],
            "by_way": {w: self.callback_ways.get(w, 0) for w in CONTACT_WAYS},
            "time_to_contact": duration_stats(self.to_contact),
        }

    def agents_result(self) -> dict:
        """First-reply times, overall and per agent."""
        return {
            "first_reply": duration_stats(self.first_reply),
            "per_agent": [
                {
                    "agent": agent,
                    "handoffs": self.per_agent_handoffs.get(agent, 0),
                    **{
                        k: v
                        for k, v in duration_stats(times).items()
                        if k in ("count", "mean_s", "median_s")
                    },
                }
                for agent, times in sorted(self.per_agent.items())
            ],
        }


class Understanding:
    """What was understood: intents, fallbacks, unanswered questions, knowledge used."""

    def __init__(self, mask: Masker) -> None:
        self.mask = mask
        self.bot_turns = 0
        self.fallback_turns = 0
        self.with_fallback = 0
        self.intent_turns: Counter[str] = Counter()
        self.intent_fallbacks: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, ...]] = Counter()
        self.intents: Counter[str] = Counter()
        self.knowledge: Counter[tuple[str, str]] = Counter()
        self.unanswered: Counter[str] = Counter()

    def add(self, c: Conversation) -> None:
        """Count the turns of one conversation."""
        fallbacks = 0
        for t in c.turns:
            self.intents[t.intent or "?"] += 1
            if t.human:
                continue
            self.bot_turns += 1
            guessed = t.guessed or "?"
            self.intent_turns[guessed] += 1
            if t.fallback:
                fallbacks += 1
                self.intent_fallbacks[guessed] += 1
                if t.guessed and t.runner_up:
                    self.pairs[tuple(sorted((t.guessed, t.runner_up)))] += 1
                if not t.payload and t.text.strip():
                    self.unanswered[self.mask(t.text.strip())] += 1
        self.fallback_turns += fallbacks
        self.with_fallback += int(fallbacks > 0)
        for kind, title in c.knowledge:
            self.knowledge[(kind, title)] += 1

    def fallbacks_result(self, n: int) -> dict:
        """The fallbacks section for `n` conversations."""
        misses = self.intent_fallbacks
        return {
            "bot_turns": self.bot_turns,
            "fallback_turns": self.fallback_turns,
            "rate": _rate(self.fallback_turns, self.bot_turns),
            "conversations": self.with_fallback,
            "conversation_rate": _rate(self.with_fallback, n),
            "per_intent": [
                {
                    "intent": intent,
                    "turns": turns,
                    "fallbacks": misses.get(intent, 0),
                    "rate": _rate(misses.get(intent, 0), turns),
                }
                for intent, turns in sorted(
                    self.intent_turns.items(),
                    key=lambda kv: (-misses.get(kv[0], 0), -kv[1], kv[0]),
                )[:TOP]
            ],
            "confused_pairs": [
                {"pair": list(pair), "count": count} for pair, count in _by_count(self.pairs)[:TOP]
            ],
        }

    def knowledge_result(self) -> list[dict]:
        """The knowledge entries answered most."""
        return [
            {"kind": kind, "title": title, "count": count}
            for (kind, title), count in _by_count(self.knowledge)[:TOP]
        ]

    def unanswered_result(self) -> dict:
        """Fallback messages, grouped by similarity."""
        return {
            "messages": sum(self.unanswered.values()),
            "distinct": len(self.unanswered),
            "groups": [g.as_dict() for g in group_similar(self.unanswered)[:TOP_GROUPS]],
        }


class Satisfaction:
    """Ratings, overall and per journey."""

    def __init__(self, low_score: int) -> None:
        self.low_score = low_score
        self.ratings: list[tuple[int, str]] = []

    def add(self, c: Conversation) -> None:
        """Keep the ratings of one conversation."""
        self.ratings += [(r.score, r.journey or "other") for r in c.ratings]

    def result(self) -> dict:
        """The csat section."""
        scores = [s for s, _ in self.ratings]
        journeys: dict[str, list[int]] = defaultdict(list)
        for score, journey in self.ratings:
            journeys[journey].append(score)
        return {
            "ratings": len(scores),
            "average": round(statistics.fmean(scores), 2) if scores else None,
            "distribution": {str(s): scores.count(s) for s in range(1, 6)},
            "low_score": self.low_score,
            "low": sum(1 for s in scores if s <= self.low_score),
            "per_journey": [
                {
                    "journey": journey,
                    "count": len(values),
                    "average": round(statistics.fmean(values), 2),
                }
                for journey, values in sorted(journeys.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            ],
        }


class Complaints:
    """Complaint tickets by psychology, escalation and priority, and the anger shown."""

    def __init__(self) -> None:
        self.psychology: Counter[str] = Counter()
        self.escalations: Counter[str] = Counter()
        self.priority: Counter[str] = Counter()
        self.anger: list[int] = []

    def add(self, c: Conversation) -> None:
        """Count the complaint tickets of one conversation."""
        for ticket in c.tickets:
            if ticket.kind != "complaint":
                continue
            self.psychology[ticket.psychology or "unknown"] += 1
            self.priority[ticket.priority] += 1
            if ticket.escalated:
                self.escalations[ticket.escalated] += 1
            if ticket.anger is not None:
                self.anger.append(int(ticket.anger))

    def result(self) -> dict:
        """The complaints section."""
        return {
            "tickets": sum(self.psychology.values()),
            "by_psychology": _known_first(self.psychology, PSYCHOLOGY),
            "escalated": sum(self.escalations.values()),
            "by_escalation": dict(sorted(self.escalations.items())),
            "by_priority": dict(sorted(self.priority.items())),
            "average_anger": round(statistics.fmean(self.anger), 2) if self.anger else None,
        }


class Delays:
    """Delivery delays detected, urge tickets and compensation offered."""

    def __init__(self) -> None:
        self.detected: Counter[str] = Counter()
        self.urge_priority: Counter[str] = Counter()
        self.compensated = 0

    def add(self, c: Conversation) -> None:
        """Count the delay replies and urge tickets of one conversation."""
        for ticket in c.tickets:
            if ticket.kind == "urge":
                self.urge_priority[ticket.priority] += 1
        for reply, count in c.replies.items():
            if reply in DELAY_REPLIES:
                self.detected[DELAY_REPLIES[reply]] += count
            elif reply == "utter_delay_compensation":
                self.compensated += count

    def result(self) -> dict:
        """The delays section."""
        return {
            "detected": {k: self.detected.get(k, 0) for k in DELAY_REPLIES.values()},
            "urge_tickets": sum(self.urge_priority.values()),
            "by_priority": dict(sorted(self.urge_priority.items())),
            "compensated": self.compensated,
        }


class Returns:
    """Return requests by reason and status, and returns refused by cause."""

    def __init__(self, mask: Masker) -> None:
        self.mask = mask
        self.reasons: Counter[str] = Counter()
        self.status: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()

    def add(self, c: Conversation) -> None:
        """Count the returns and refusals of one conversation."""
        for reply, count in c.replies.items():
            if reply in RETURN_REFUSALS:
                self.refusals[RETURN_REFUSALS[reply]] += count
        for r in c.returns:
            # a return reason may be the customer's own words (from_text)
            self.reasons[self.mask(r.reason) if r.reason else "?"] += 1
            self.status[r.status] += 1

    def result(self) -> dict:
        """The returns section."""
        return {
            "requests": sum(self.reasons.values()),
            "by_reason": dict(_by_count(self.reasons)),
            "by_status": dict(sorted(self.status.items())),
            "refused": {k: self.refusals.get(k, 0) for k in RETURN_REFUSALS.values()},
        }


class Accumulator:
    """Adds conversations one by one to each section; `result()` gives the metrics dict."""

    def __init__(self, filters: Filters, low_score: int, masker: Masker | None = None) -> None:
        """Empty totals for `filters`; ratings <= `low_score` are low CSAT.

        `masker` masks personal data in the unanswered questions and return reasons shown.
        """
        mask = masker or Masker()
        self.filters = filters
        self.channels: Counter[str] = Counter()
        self.excluded_training = 0
        self.volume = Volume()
        self.resolution = Resolution(low_score)
        self.handoffs = Handoffs()
        self.understanding = Understanding(mask)
        self.satisfaction = Satisfaction(low_score)
        self.complaints = Complaints()
        self.delays = Delays()
        self.returns = Returns(mask)
        self.sections: tuple[Section, ...] = (
            self.volume,
            self.resolution,
            self.handoffs,
            self.understanding,
            self.satisfaction,
            self.complaints,
            self.delays,
            self.returns,
        )

    def add(self, c: Conversation) -> None:
        """Count one conversation (training sessions and other channels are skipped)."""
        if c.training:
            self.excluded_training += 1
            return
        self.channels[c.channel_name] += 1
        if self.filters.channel and c.channel_name != self.filters.channel:
            return
        for section in self.sections:
            section.add(c)

    def result(self) -> dict:
        """The metrics as a JSON-ready dict (stable key and list order)."""
        n = self.volume.conversations
        messages = self.volume.messages
        return {
            "filters": self.filters.as_dict(),
            "channels": sorted(self.channels),
            "totals": {
                "conversations": n,
                "customer_messages": messages["customer_messages"],
                "bot_messages": messages["bot_messages"],
                "agent_messages": messages["agent_messages"],
                "excluded_training": self.excluded_training,
            },
            "per_day": self.volume.per_day(),
            "resolution": self.resolution.result(n),
            "handoffs": self.handoffs.result(n),
            "callbacks": self.handoffs.callbacks_result(),
            "fallbacks": self.understanding.fallbacks_result(n),
            "intents": _ranked(self.understanding.intents, key="intent"),
            "knowledge": self.understanding.knowledge_result(),
            "unanswered": self.understanding.unanswered_result(),
            "csat": self.satisfaction.result(),
            "complaints": self.complaints.result(),
            "delays": self.delays.result(),
            "returns": self.returns.result(),
            "agents": self.handoffs.agents_result(),
        }


def compute_metrics(
    filters: Filters = Filters(),
    tracker: str | None = None,
    shop: str | None = None,
    low_score: int | None = None,
) -> dict:
    """All figures for `filters`, from the tracker store and the shop store.

    `tracker` is an SQLAlchemy URL (default `sources.tracker_url()`), `shop` the shop
    store's (default DATABASE_URL / SHOP_DB); `low_score` defaults to the policy's
    `satisfaction.low_score`.
    """
    url = tracker or tracker_url()
    shop_data = load_shop(shop, filters)
    acc = Accumulator(
        filters, _low_score() if low_score is None else low_score, Masker(customer_names(shop))
    )
    for c in conversations(stream_events(url, filters), shop_data, filters):
        acc.add(c)
    result = acc.result()
    result["generated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return result
