"""A bare piece of information (order number, product, …) outside any form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# Most specific first: an order number says more about the customer's need than a
# courier name does.
RESPONSE_BY_ENTITY = (
    ("order_id", "utter_got_order_id"),
    ("tracking_number", "utter_got_tracking_number"),
    ("product", "utter_got_product"),
    ("payment_method", "utter_got_payment_method"),
    ("courier", "utter_got_courier"),
    ("phone_tail", "utter_got_phone_tail"),
)


class ActionHandleInform(Action):
    """Acknowledge what the customer gave and ask what they need it for."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_handle_inform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the response for the most specific entity found, else ask to rephrase."""
        entities = {
            e.get("entity"): e.get("value") for e in tracker.latest_message.get("entities") or []
        }
        for entity, response in RESPONSE_BY_ENTITY:
            if entities.get(entity):
                dispatcher.utter_message(response=response, value=entities[entity])
                return []
        dispatcher.utter_message(response="utter_got_info")
        return []
