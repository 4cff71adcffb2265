"""Requests for a human agent and questions about service hours.

Until the handoff queue exists, a request gives the hotline and hours from the policy
file and flags the conversation (slot `handoff_requested`) for staff to pick up.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from dianxiaoer.policy import get_policy
from dianxiaoer.service_hours import humans_on_duty


def _on_duty() -> bool:
    policy = get_policy()
    return humans_on_duty(policy["service.hours.weekdays"], policy["service.hours.weekends"])


def contact_human(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """Tell the customer how and when a human answers, and flag the conversation."""
    response = "utter_human_on_duty" if _on_duty() else "utter_human_off_duty"
    dispatcher.utter_message(response=response, **get_policy().reply_values())
    return [SlotSet("handoff_requested", True)]


class ActionRequestHuman(Action):
    """Flag the conversation for a human and tell the customer how and when."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the on-duty or off-duty contact reply and set the flag."""
        return contact_human(dispatcher)


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
