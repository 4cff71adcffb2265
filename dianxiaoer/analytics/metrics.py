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


class Accumulator:
    """Adds conversations one by one; `result()` gives the metrics dict."""

    def __init__(self, filters: Filters, low_score: int, masker: Masker | None = None) -> None:
        """Empty totals for `filters`; ratings <= `low_score` are low CSAT.

        `masker` masks personal data in the unanswered questions shown.
        """
        self.filters = filters
        self.low_score = low_score
        self.mask = masker or Masker()
        self.channels: Counter = Counter()
        self.excluded_training = 0
        self.conversations = 0
        self.days: dict[str, Counter] = defaultdict(Counter)
        self.messages: Counter[str] = Counter()
        self.resolved = 0
        self.causes: Counter[str] = Counter()
        self.handed_off = 0
        self.reasons: Counter[str] = Counter()
        self.episode_status: Counter[str] = Counter()
        self.to_agent: list[float] = []
        self.first_reply: list[float] = []
        self.per_agent: dict[str, list[float]] = defaultdict(list)
        self.per_agent_handoffs: Counter[str] = Counter()
        self.callbacks: Counter[str] = Counter()
        self.callback_ways: Counter[str] = Counter()
        self.to_contact: list[float] = []
        self.bot_turns = 0
        self.fallback_turns = 0
        self.with_fallback = 0
        self.intent_turns: Counter[str] = Counter()
        self.intent_fallbacks: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, ...]] = Counter()
        self.intents: Counter[str] = Counter()
        self.knowledge: Counter[tuple[str, str]] = Counter()
        self.unanswered: Counter[str] = Counter()
        self.ratings: list[tuple[int, str]] = []
        self.complaints: Counter[str] = Counter()
        self.escalations: Counter[str] = Counter()
        self.complaint_priority: Counter[str] = Counter()
        self.anger: list[int] = []
        self.delays: Counter[str] = Counter()
        self.urge_priority: Counter[str] = Counter()
        self.compensated = 0
        self.return_reasons: Counter[str] = Counter()
        self.return_status: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()

    def add(self, c: Conversation) -> None:
        """Count one conversation (training sessions and other channels are skipped)."""
        if c.training:
            self.excluded_training += 1
            return
        self.channels[c.channel_name] += 1
        if self.filters.channel and c.channel_name != self.filters.channel:
            return
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

        # resolution
        if c.resolved(self.low_score):
            self.resolved += 1
        for cause, hit in (
            ("handoff", c.handed_off),
            ("fallback_end", c.fallback_end),
            ("only_fallbacks", c.only_fallbacks),
            ("low_csat", c.low_csat(self.low_score)),
        ):
            self.causes[cause] += int(hit)

        # handoffs and agents
        if c.handed_off:
            self.handed_off += 1
        for e in c.episodes():
            self.reasons[e.reason] += 1
            status = "handed_back" if e.handed_back else e.status
            self.episode_status[status] += 1
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

        # fallbacks and intents
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

        # satisfaction
        self.ratings += [(r.score, r.journey or "other") for r in c.ratings]

        # complaints, delays, returns
        for ticket in c.tickets:
            if ticket.kind == "complaint":
                self.complaints[ticket.psychology or "unknown"] += 1
                self.complaint_priority[ticket.priority] += 1
                if ticket.escalated:
                    self.escalations[ticket.escalated] += 1
                if ticket.anger is not None:
                    self.anger.append(int(ticket.anger))
            elif ticket.kind == "urge":
                self.urge_priority[ticket.priority] += 1
        for reply, count in c.replies.items():
            if reply in DELAY_REPLIES:
                self.delays[DELAY_REPLIES[reply]] += count
            elif reply in RETURN_REFUSALS:
                self.refusals[RETURN_REFUSALS[reply]] += count
            elif reply == "utter_delay_compensation":
                self.compensated += count
        for r in c.returns:
            # a return reason may be the customer's own words (from_text)
            self.return_reasons[self.mask(r.reason) if r.reason else "?"] += 1
            self.return_status[r.status] += 1

    def result(self) -> dict:
        """The metrics as a JSON-ready dict (stable key and list order)."""
        n = self.conversations
        scores = [s for s, _ in self.ratings]
        journeys: dict[str, list[int]] = defaultdict(list)
        for score, journey in self.ratings:
            journeys[journey].append(score)
        reasons = {r: self.reasons.get(r, 0) for r in REASONS}
        reasons.update({r: c for r, c in sorted(self.reasons.items()) if r not in reasons})
        return {
            "filters": self.filters.as_dict(),
            "channels": sorted(self.channels),
            "totals": {
                "conversations": n,
                "customer_messages": self.messages["customer_messages"],
                "bot_messages": self.messages["bot_messages"],
                "agent_messages": self.messages["agent_messages"],
                "excluded_training": self.excluded_training,
            },
            "per_day": [
                {
                    "day": day,
                    "conversations": c["conversations"],
                    "customer_messages": c["customer_messages"],
                    "bot_messages": c["bot_messages"],
                    "agent_messages": c["agent_messages"],
                }
                for day, c in sorted(self.days.items())
            ],
            "resolution": {
                "resolved": self.resolved,
                "unresolved": n - self.resolved,
                "rate": _rate(self.resolved, n),
                "causes": {k: self.causes.get(k, 0) for k in self._causes()},
            },
            "handoffs": {
                "conversations": self.handed_off,
                "rate": _rate(self.handed_off, n),
                "episodes": sum(self.reasons.values()),
                "by_reason": reasons,
                "by_status": dict(sorted(self.episode_status.items())),
                "time_to_agent": duration_stats(self.to_agent),
            },
            "callbacks": {
                "requested": sum(self.callbacks.values()),
                "contacted": self.callbacks["callback_done"],
                "open": self.callbacks["callback"],
                "by_way": {w: self.callback_ways.get(w, 0) for w in CONTACT_WAYS},
                "time_to_contact": duration_stats(self.to_contact),
            },
            "fallbacks": {
                "bot_turns": self.bot_turns,
                "fallback_turns": self.fallback_turns,
                "rate": _rate(self.fallback_turns, self.bot_turns),
                "conversations": self.with_fallback,
                "conversation_rate": _rate(self.with_fallback, n),
                "per_intent": [
                    {
                        "intent": intent,
                        "turns": turns,
                        "fallbacks": self.intent_fallbacks.get(intent, 0),
                        "rate": _rate(self.intent_fallbacks.get(intent, 0), turns),
                    }
                    for intent, turns in sorted(
                        self.intent_turns.items(),
                        key=lambda kv: (-self.intent_fallbacks.get(kv[0], 0), -kv[1], kv[0]),
                    )[:TOP]
                ],
                "confused_pairs": [
                    {"pair": list(pair), "count": count}
                    for pair, count in sorted(self.pairs.items(), key=lambda kv: (-kv[1], kv[0]))[
                        :TOP
                    ]
                ],
            },
            "intents": _ranked(self.intents, key="intent"),
            "knowledge": [
                {"kind": kind, "title": title, "count": count}
                for (kind, title), count in sorted(
                    self.knowledge.items(), key=lambda kv: (-kv[1], kv[0])
                )[:TOP]
            ],
            "unanswered": {
                "messages": sum(self.unanswered.values()),
                "distinct": len(self.unanswered),
                "groups": [g.as_dict() for g in group_similar(self.unanswered)[:TOP_GROUPS]],
            },
            "csat": {
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
                    for journey, values in sorted(
                        journeys.items(), key=lambda kv: (-len(kv[1]), kv[0])
                    )
                ],
            },
            "complaints": {
                "tickets": sum(self.complaints.values()),
                "by_psychology": {
                    **{p: self.complaints.get(p, 0) for p in PSYCHOLOGY},
                    **{p: c for p, c in sorted(self.complaints.items()) if p not in PSYCHOLOGY},
                },
                "escalated": sum(self.escalations.values()),
                "by_escalation": dict(sorted(self.escalations.items())),
                "by_priority": dict(sorted(self.complaint_priority.items())),
                "average_anger": round(statistics.fmean(self.anger), 2) if self.anger else None,
            },
            "delays": {
                "detected": {k: self.delays.get(k, 0) for k in DELAY_REPLIES.values()},
                "urge_tickets": sum(self.urge_priority.values()),
                "by_priority": dict(sorted(self.urge_priority.items())),
                "compensated": self.compensated,
            },
            "returns": {
                "requests": sum(self.return_reasons.values()),
                "by_reason": dict(
                    sorted(self.return_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
                ),
                "by_status": dict(sorted(self.return_status.items())),
                "refused": {k: self.refusals.get(k, 0) for k in RETURN_REFUSALS.values()},
            },
            "agents": {
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
            },
        }

    @staticmethod
    def _causes() -> tuple[str, ...]:
        return ("handoff", "fallback_end", "only_fallbacks", "low_csat")


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
