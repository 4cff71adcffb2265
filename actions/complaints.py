"""Complaints by psychology, emotion per turn, escalation, complaint status, win-back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from actions import orders
from actions.common import entity_values, survives_store_outage, user_texts
from actions.human import contact_human
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import get_settings
from dianxiaoer.shop import complaints
from dianxiaoer.shop.orders import format_local
from dianxiaoer.store import followups, repository
from webapp.sweeper import FOLLOWUP_INTENT


def _latest_text(tracker: Tracker) -> str:
    texts = user_texts(tracker, limit=1)
    return texts[0] if texts else str(tracker.latest_message.get("text") or "")


def followup_reminder(ticket: str, sender_id: str, now: datetime) -> ReminderScheduled:
    """A 回访 reminder for `ticket` after the policy's delay (env override for tests).

    Also recorded in the shop store: the reminder lives in the Rasa server's memory, and the
    web app's sweeper recovers it from there if that server stops (webapp.sweeper).
    """
    seconds = get_settings().followup_delay_seconds
    if seconds is None:
        seconds = 60 * float(get_policy()["followup.delay_minutes"])
    due = now + timedelta(seconds=seconds)
    followups.schedule(ticket, sender_id, due)
    return ReminderScheduled(
        FOLLOWUP_INTENT,
        trigger_date_time=due,
        entities=[{"entity": "ticket", "value": ticket}],
        name=f"followup_{ticket}",
        kill_on_user_message=False,
    )


class ValidateSlotMappings(ValidationAction):
    """Runs after every user message: the anger of the turn and angry turns in a row."""

    def name(self) -> str:
        """Rasa calls this action by this name on every turn."""
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Only the emotion slots are set here (no other slot needs this hook)."""
        values = await self.extract_anger(dispatcher, tracker, domain)
        return [SlotSet(slot, value) for slot, value in values.items()]

    async def extract_anger(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Score the message; button payloads and reminders leave the state as it is."""
        text = str(tracker.latest_message.get("text") or "")
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        if not text or text.startswith("/") or intent.startswith("EXTERNAL_"):
            return {}
        if tracker.get_slot("training_mode"):
            # a trainee's quiz answers and role-play replies are not a customer's mood
            return {}
        assessment = complaints.assess(_latest_text(tracker))
        previous = int(tracker.get_slot("angry_turns") or 0)
        level = get_policy()["complaints.angry_level"]
        return {
            "anger": float(assessment.anger),
            "angry_turns": float(complaints.angry_turns(previous, assessment.anger, level)),
        }


@survives_store_outage
class ActionHandleComplaint(Action):
    """Answer a complaint with the strategy of its psychology; ticket; escalate if due."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_handle_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Assess, reply per type, record the ticket, offer a remedy or escalate."""
        policy = get_policy()
        now = orders._now()
        assessment = complaints.assess(_latest_text(tracker))
        customer = tracker.get_slot("verified_customer")
        order = None
        if tracker.get_slot("verified_order"):
            order = repository.find_order(tracker.get_slot("verified_order"))
            if order is not None and order.customer_id != customer:
                order = None
        reason = complaints.escalation_reason(
            assessment,
            int(tracker.get_slot("angry_turns") or 0),
            turns_to_escalate=policy["complaints.angry_turns_to_escalate"],
        )
        ticket = repository.create_complaint(
            now,
            tracker.sender_id,
            assessment.primary,
            assessment.anger,
            complaints.priority(assessment, reason is not None),
            {
                "types": list(assessment.types),
                "threat": assessment.threat,
                "escalated": reason or "",
            },
            customer_id=customer,
            order_id=order.id if order else None,
            # the same complaint sent again (its answer was lost) is the same ticket
            key=orders.message_key(tracker, self.name()),
        )
        values = {
            **policy.reply_values(),
            "ticket": ticket,
            "psychology": complaints.TYPE_NAMES[assessment.primary],
        }
        primary = assessment.primary
        if primary == "respect" and order is not None and order.is_vip:
            dispatcher.utter_message(response="utter_complaint_respect_vip", **values)
        elif primary != "remedy" or reason:  # 补救 gets its options at once, below
            dispatcher.utter_message(response=f"utter_complaint_{primary}", **values)
        events: list[dict[str, Any]] = [
            SlotSet("last_ticket", ticket),
            SlotSet("last_journey", "complaint"),
            followup_reminder(ticket, tracker.sender_id, now),
        ]
        if reason:
            dispatcher.utter_message(response=f"utter_complaint_escalated_{reason}", **values)
            return events + contact_human(
                dispatcher,
                tracker,
                reason="revenge" if reason == "threat" else reason,
                psychology=primary,
            )
        if primary == "remedy":
            events += self._offer_remedy(dispatcher, order, ticket, values)
        else:
            dispatcher.utter_message(response="utter_complaint_ticket", **values)
            dispatcher.utter_message(response="utter_ask_rating")
        return events

    @staticmethod
    def _offer_remedy(dispatcher, order, ticket: str, values: dict) -> list[dict[str, Any]]:
        """补救: concrete options at once; a coupon on a verified order, after a yes."""
        if order is None:
            dispatcher.utter_message(response="utter_complaint_remedy", **values)
            return []
        policy = get_policy()
        amount = policy["complaints.vip_coupon_yuan" if order.is_vip else "complaints.coupon_yuan"]
        dispatcher.utter_message(
            response="utter_complaint_remedy_offer",
            order_id=order.id,
            amount=int(amount),
            **values,
        )
        return [SlotSet("pending_action", f"compensate:{order.id}:{ticket}")]


@survives_store_outage
class ActionComplaintStatus(Action):
    """Complaint status (我的投诉处理得怎么样了) for this conversation or verified customer."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_complaint_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Report each open complaint; unknown customers are verified first."""
        customer = tracker.get_slot("verified_customer")
        tickets = repository.complaints_of(tracker.sender_id, customer)
        if not tickets:
            if customer:
                dispatcher.utter_message(response="utter_complaint_none")
                return []
            # who is asking? the order form proves it, then this action runs again
            return [SlotSet("order_topic", "complaint"), FollowupAction("verify_order_form")]
        for ticket in tickets[:3]:
            dispatcher.utter_message(
                response=f"utter_complaint_status_{ticket.status}",
                ticket=ticket.number,
                filed_at=format_local(ticket.created_at),
                **get_policy().reply_values(),
            )
        return []


@survives_store_outage
class ActionFollowUp(Action):
    """The 回访 reminder: check back on a ticket and ask for a rating."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Say the ticket's state and ask how satisfied the customer is."""
        number = next(iter(entity_values(tracker, "ticket")), None) or tracker.get_slot(
            "last_ticket"
        )
        ticket = repository.ticket(number) if number else None
        if ticket is None:
            return []
        if not followups.finish(ticket.number, orders._now()):
            # the other firing (Rasa's reminder or the sweeper's recovery) came first
            return []
        response = "utter_followup_open" if ticket.status == "open" else "utter_followup_closed"
        dispatcher.utter_message(response=response, ticket=ticket.number)
        dispatcher.utter_message(response="utter_ask_rating")
        return [SlotSet("last_journey", "followup")]


@survives_store_outage
class ActionWinBack(Action):
    """Churn signal (再也不买了 / 取消会员): acknowledge, find the cause, remedy, follow up."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_win_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """First ask the cause; with the cause, the remedy, a ticket and a follow-up."""
        now = orders._now()
        cause = next(iter(entity_values(tracker, "churn_cause")), None)
        customer = tracker.get_slot("verified_customer")
        if cause not in complaints.CHURN_CAUSES:
            repository.record_churn_signal(
                tracker.sender_id, _latest_text(tracker), now, customer_id=customer
            )
            dispatcher.utter_message(response="utter_winback_ask_cause")
            return []
        repository.record_churn_signal(
            tracker.sender_id, _latest_text(tracker), now, cause=cause, customer_id=customer
        )
        ticket = repository.create_ticket(
            "retention",
            now,
            customer_id=customer,
            priority="high",
            details={"cause": cause},
            conversation_id=tracker.sender_id,
        )
        dispatcher.utter_message(
            response=f"utter_winback_{cause}", ticket=ticket, **get_policy().reply_values()
        )
        return [
            SlotSet("last_ticket", ticket),
            followup_reminder(ticket, tracker.sender_id, now),
        ]
