"""Invoice requests: the title form (invoice_form) and recording the request."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import orders
from actions.common import free_text_answer, survives_store_outage
from dianxiaoer.core.policy import get_policy
from dianxiaoer.shop import journeys
from dianxiaoer.store import repository


class ValidateInvoiceForm(FormValidationAction):
    """The invoice title: "个人", a name, or an organisation with its tax id."""

    def name(self) -> str:
        """Validation action of invoice_form."""
        return "validate_invoice_form"

    async def extract_invoice_title(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """An answer the intent classifier misread (see common.free_text_answer)."""
        return free_text_answer(tracker, "invoice_title")

    async def validate_invoice_title(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Keep a usable title; re-ask with the hint that fits what is missing."""
        parsed = journeys.parse_invoice_title(value)
        if parsed.problem == "need_tax_id":
            dispatcher.utter_message(response="utter_invoice_need_tax_id")
            return {"invoice_title": None}
        if parsed.problem:
            dispatcher.utter_message(response="utter_invalid_invoice_title")
            return {"invoice_title": None}
        return {"invoice_title": parsed.title, "invoice_tax_id": parsed.tax_id}


@survives_store_outage
class ActionRequestInvoice(Action):
    """Record the invoice request on the order and open a ticket for the finance staff."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_request_invoice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Record it for the verified customer's pending order only."""
        args = orders.owned_pending(tracker, "invoice")
        title = tracker.get_slot("invoice_title")
        tax_id = tracker.get_slot("invoice_tax_id")
        events = [
            SlotSet("pending_action", None),
            SlotSet("invoice_title", None),
            SlotSet("invoice_tax_id", None),
        ]
        if args is None or not title:
            dispatcher.utter_message(response="utter_ok_deny")
            return events
        ticket = repository.request_invoice(args[0], title, tax_id, orders._now())
        if ticket is None:
            dispatcher.utter_message(response="utter_invoice_not_cancelled", order_id=args[0])
            return events
        dispatcher.utter_message(
            response="utter_invoice_recorded_company" if tax_id else "utter_invoice_recorded",
            order_id=args[0],
            title=title,
            tax_id=tax_id or "",
            ticket=ticket,
            **get_policy().reply_values(),
        )
        return events
