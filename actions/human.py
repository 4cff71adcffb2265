"""Human handoff (ACD queue) and questions about service hours.

A request for a human, or a bot escalation, puts the conversation in the handoff queue
of the shop store with its skill group and priority (`dianxiaoer.shop.handoff`). A customer
who asked is told their position and the wait and the conversation is paused
(`ConversationPaused`) until an agent hands it back from the console; an escalation by
the bot (fallback, lockout) queues without pausing, so the bot keeps helping until an
agent takes over. Outside service hours a callback request is recorded instead.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import survives_store_outage
from dianxiaoer.core import roster
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.service_hours import humans_on_duty, shanghai_now
from dianxiaoer.shop import handoff
from dianxiaoer.store import handoffs, repository


def _on_duty() -> bool:
    policy = get_policy()
    return humans_on_duty(policy["service.hours.weekdays"], policy["service.hours.weekends"])


def _recent_intents(tracker: Tracker, limit: int = 6) -> list[str]:
    names = [
        (e.get("parse_data") or {}).get("intent", {}).get("name")
        for e in reversed(tracker.events)
        if e.get("event") == "user"
    ]
    return [n for n in names if n][:limit]


def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    psychology: str | None = None,
    pause: bool = True,
) -> list[dict[str, Any]]:
    """Queue the conversation for a human (or a callback off duty) and tell the customer."""
    policy = get_policy()
    customer = tracker.get_slot("verified_customer")
    group = handoff.skill_group(_recent_intents(tracker), reason, psychology)
    tier = handoff.priority_tier(reason, psychology, repository.customer_is_vip(customer))
    details = {"psychology": psychology, "ticket": tracker.get_slot("last_ticket")}
    events: list[dict[str, Any]] = [SlotSet("handoff_requested", True)]
    if not _on_duty():
        handoffs.enqueue(
            tracker.sender_id, group, reason, tier, shanghai_now(), customer, details, "callback"
        )
        dispatcher.utter_message(response="utter_human_off_duty", **policy.reply_values())
        return events
    handoffs.enqueue(tracker.sender_id, group, reason, tier, shanghai_now(), customer, details)
    place, minutes = handoff.queue_estimate(
        handoffs.waiting(), tracker.sender_id, roster.load_agents()
    )
    dispatcher.utter_message(
        response="utter_handoff_queued" if pause else "utter_handoff_queued_by_bot",
        skill=handoff.SKILL_NAMES[group],
        position=place,
        wait_minutes=minutes,
        **policy.reply_values(),
    )
    return events + ([ConversationPaused()] if pause else [])


def contact_human(dispatcher: CollectingDispatcher, tracker: Tracker, **kwargs) -> list:
    """The customer asked (or must get) a human: queue and pause."""
    return hand_over(dispatcher, tracker, **{"reason": "asked", **kwargs})


@survives_store_outage
class ActionRequestHuman(Action):
    """The customer asks for a human: queue position and wait, or a callback off duty."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Queue the conversation for the right skill group."""
        return contact_human(dispatcher, tracker)


class ActionAnswerServiceHours(Action):
    """Service hours and hotline, saying whether humans are on duty right now."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_answer_service_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the hours with the current on-duty state."""
        response = "utter_service_hours_on_duty" if _on_duty() else "utter_service_hours_off_duty"
        dispatcher.utter_message(response=response, **get_policy().reply_values())
        return []
