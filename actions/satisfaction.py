"""Satisfaction: a 1-5 rating after a journey, an optional comment, low scores followed up."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import orders
from actions.common import free_text_answer, survives_store_outage
from dianxiaoer.core.policy import get_policy
from dianxiaoer.shop.complaints import rating_from_text
from dianxiaoer.store import repository


@survives_store_outage
class ActionRecordRating(Action):
    """Store the rating of the journey just finished; a low one opens a feedback ticket."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Record, thank or apologize, then ask for an optional comment."""
        raw = tracker.get_slot("rating")
        score = int(raw) if str(raw or "").isdigit() else None
        score = score or rating_from_text(str(tracker.latest_message.get("text") or ""))
        if score is None or not 1 <= score <= 5:
            dispatcher.utter_message(response="utter_ask_rating")
            return [SlotSet("rating", None)]
        now = orders._now()
        customer = tracker.get_slot("verified_customer")
        rating_id = repository.record_rating(
            tracker.sender_id,
            score,
            tracker.get_slot("last_journey") or "",
            now,
            customer_id=customer,
        )
        if score <= get_policy()["satisfaction.low_score"]:
            ticket = repository.create_ticket(
                "feedback",
                now,
                customer_id=customer,
                priority="high",
                details={"score": score, "journey": tracker.get_slot("last_journey") or ""},
                conversation_id=tracker.sender_id,
            )
            repository.update_rating(rating_id, ticket_number=ticket)
            dispatcher.utter_message(
                response="utter_rating_low", ticket=ticket, **get_policy().reply_values()
            )
        else:
            dispatcher.utter_message(response="utter_rating_thanks", score=score)
        return [
            SlotSet("rating", None),
            SlotSet("rating_id", float(rating_id)),
            FollowupAction("feedback_form"),
        ]


class ValidateFeedbackForm(FormValidationAction):
    """The optional comment after a rating."""

    def name(self) -> str:
        """Validation action of feedback_form."""
        return "validate_feedback_form"

    async def extract_feedback_comment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """An answer the intent classifier misread (see common.free_text_answer)."""
        return free_text_answer(tracker, "feedback_comment")

    async def validate_feedback_comment(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Any text, trimmed to what the store keeps."""
        return {"feedback_comment": str(value or "").strip()[:500]}


@survives_store_outage
class ActionRecordFeedback(Action):
    """Attach the comment (if any) to the rating and thank the customer."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Store the comment; "没有" (the form cancelled) stores nothing."""
        comment = tracker.get_slot("feedback_comment")
        rating_id = tracker.get_slot("rating_id")
        if comment and rating_id:
            repository.update_rating(int(rating_id), comment=comment)
        dispatcher.utter_message(response="utter_feedback_thanks")
        return [SlotSet("feedback_comment", None), SlotSet("rating_id", None)]
