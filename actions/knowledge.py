"""Answers from the knowledge base: glossary, exam points, term list and shop FAQ."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.common import localized_buttons, question_of
from dianxiaoer.core.policy import get_policy
from dianxiaoer.knowledge.base import (
    Decision,
    answer_response,
    decide_by_policy,
    get_knowledge_base,
    is_english_question,
)
from dianxiaoer.knowledge.unanswered import record_unanswered

#: What a bare intent (a menu button, no text) is answered with.
INTENT_DEFAULT_ENTRY = {
    "ask_return_policy": "faq.seven_day_return",
    "ask_payment_methods": "faq.payment_methods",
    "ask_shipping_policy": "faq.ship_time",
}


def answer_entry(
    dispatcher: CollectingDispatcher, entry, question: str, empathy: bool = False
) -> None:
    """Utter a knowledge entry's answer (English first for an English question).

    With `empathy` (an annoyed customer: "请不要忽悠我") a line of empathy comes first.
    """
    if empathy:
        dispatcher.utter_message(response="utter_empathy_first")
    response, values = answer_response(
        entry, get_policy().reply_values(), english=is_english_question(question)
    )
    dispatcher.utter_message(response=response, **values)


def is_annoyed(tracker: Tracker) -> bool:
    """Whether this message's mood (slot `anger`) calls for empathy before an answer."""
    return (tracker.get_slot("anger") or 0) >= get_policy()["complaints.empathy_level"]


def decide(question: str) -> Decision:
    """Answer, suggest or none for `question`, with the policy's thresholds."""
    return decide_by_policy(question)


def clear_answer(question: str):
    """The knowledge entry that clearly answers `question`, else None (policy thresholds)."""
    if not question:
        return None
    decision = decide(question)
    # an "answer" decision always has its hit
    return decision.hits[0].entry if decision.kind == "answer" else None


def _payload(intent: str, entry_id: str) -> str:
    """Button payload that re-asks `intent` with the chosen entry as an entity."""
    return f"/{intent}{json.dumps({'knowledge_id': entry_id})}"


class ActionAnswerKnowledge(Action):
    """Answer from the knowledge base.

    Rank the entries for the question: answer a clear top hit, offer close runners-up as
    buttons, or log the question as unanswered and fall back.
    """

    def name(self) -> str:
        """Action name used in rules."""
        return "action_answer_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Answer, suggest or fall back."""
        kb = get_knowledge_base()
        policy = get_policy()
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        question = question_of(tracker)

        chosen = next(
            (
                e.get("value")
                for e in message.get("entities") or []
                if e.get("entity") == "knowledge_id"
            ),
            None,
        )
        if not chosen and not question:
            chosen = INTENT_DEFAULT_ENTRY.get(intent) if intent else None
        if chosen and chosen in kb.by_id:
            answer_entry(dispatcher, kb.by_id[chosen], question)
            return []

        decision = decide(question)
        annoyed = is_annoyed(tracker)
        if decision.kind == "answer":
            answer_entry(dispatcher, decision.hits[0].entry, question, empathy=annoyed)
            return []
        if decision.kind == "suggest":
            buttons = [
                {
                    "title": hit.entry.display_title,
                    "payload": _payload(intent or "ask_term", hit.entry.id),
                }
                for hit in decision.hits
            ]
            # a "suggest" decision has at least one hit
            if decision.hits[0].score >= policy["knowledge.answer_close_min_score"]:
                # a strong match with close neighbours: answer it and offer the others,
                # as shop assistants do ("您可能还想问"), instead of a question back
                answer_entry(dispatcher, decision.hits[0].entry, question, empathy=annoyed)
                dispatcher.utter_message(
                    response="utter_knowledge_related",
                    buttons=localized_buttons(buttons[1:], tracker),
                )
                return []
            dispatcher.utter_message(
                response="utter_knowledge_suggest", buttons=localized_buttons(buttons, tracker)
            )
            return []
        record_unanswered(
            question,
            tracker.sender_id,
            intent,
            [(h.entry.id, h.score) for h in kb.search(question, limit=3)],
        )
        return [FollowupAction("action_suggest_intents")]
