"""Two-stage fallback: suggest likely intents, then apologize and offer the menu."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import orders
from actions.common import localized_buttons, question_of, survives_store_outage, user_texts
from actions.human import hand_over
from actions.knowledge import answer_entry, clear_answer, is_annoyed
from dianxiaoer.core.policy import get_policy
from dianxiaoer.shop import problems
from dianxiaoer.shop.fallback import (
    extra_buttons,
    load_intent_questions,
    previous_turn_actions,
    suggest_intents,
    thanks_or_praise,
)
from dianxiaoer.store import repository

ACTION_NAME = "action_suggest_intents"
#: Small talk answered even below the NLU threshold (the same replies as data/rules/base.yml):
#: asking "您是想问：只是打个招呼？" back to a greeting helps nobody.
SMALL_TALK = {
    "greet": "utter_greet",
    "thank": "utter_you_are_welcome",
    "goodbye": "utter_goodbye",
}
CLOSING_REPLY = {"praise": "utter_thanks_for_praise", "thanks": "utter_you_are_welcome"}


@survives_store_outage
class ActionSuggestIntents(Action):
    """Two-stage fallback action.

    On low NLU confidence: offer the top intents as "您是想问…" buttons plus "都不是" and
    "转人工". On a second miss in a row: apologize, show the FAQ menu and the human contact,
    and escalate: a priority handoff ticket (the question stayed unresolved).
    """

    def name(self) -> str:
        """Action name used in rules."""
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the suggestion or the final fallback."""
        policy = get_policy()
        if ACTION_NAME in previous_turn_actions(tracker.events):
            dispatcher.utter_message(response="utter_fallback_final", **policy.reply_values())
            texts = user_texts(tracker, limit=2)
            ticket = repository.create_ticket(
                "handoff",
                orders._now(),
                customer_id=tracker.get_slot("verified_customer"),
                priority="high",
                details={"reason": "unresolved", "questions": [t[:200] for t in texts]},
                conversation_id=tracker.sender_id,
            )
            # queued for a human, but the bot keeps answering until an agent takes over
            return [
                SlotSet("last_ticket", ticket),
                *hand_over(dispatcher, tracker, reason="fallback", pause=False),
            ]
        # Before asking back: a message the intent model was unsure of may still be a
        # question the knowledge base answers clearly, or a plain greeting or thanks.
        question = question_of(tracker)
        entry = clear_answer(question)
        if entry is not None:
            answer_entry(dispatcher, entry, question, empathy=is_annoyed(tracker))
            return []
        kind = problems.problem_kind(question)
        if kind is not None:
            # a problem report the intent model missed ("做工粗糙", "运输中摔坏了"): the
            # order journey acknowledges it (action_ask_order_id) and asks for the order
            return [
                SlotSet("order_topic", problems.TOPIC[kind]),
                FollowupAction("verify_order_form"),
            ]
        closing = thanks_or_praise(question)
        if closing is not None:
            # thanks or praise the intent model missed ("多谢了 五星"): no "您是想问"
            dispatcher.utter_message(response=CLOSING_REPLY[closing])
            return []
        ranking = tracker.latest_message.get("intent_ranking") or []
        # the FallbackClassifier puts nlu_fallback first; the model's best guess follows
        top: dict[str, Any] = next((r for r in ranking if r.get("name") != "nlu_fallback"), {})
        if (
            top.get("name") in SMALL_TALK
            and (top.get("confidence") or 0.0) >= policy["nlu.fallback_small_talk_confidence"]
        ):
            dispatcher.utter_message(response=SMALL_TALK[top["name"]])
            return []
        suggestions = suggest_intents(
            tracker.latest_message.get("intent_ranking") or [],
            load_intent_questions(),
            limit=policy["nlu.fallback_suggestions"],
            min_confidence=policy["nlu.fallback_min_confidence"],
        )
        buttons = [{"title": question, "payload": f"/{intent}"} for intent, question in suggestions]
        # "都不是" sends /nlu_fallback, which re-enters this action as a second miss.
        buttons += extra_buttons()
        dispatcher.utter_message(
            response="utter_fallback_suggest", buttons=localized_buttons(buttons, tracker)
        )
        return []
