"""Replies to real shoppers' wording: close FAQ matches, annoyed questions, missed thanks."""

from __future__ import annotations

import yaml

from actions.fallback import ActionSuggestIntents
from actions.knowledge import ActionAnswerKnowledge, decide
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import PROJECT_ROOT
from tests.actions.test_orders import shop  # noqa: F401  (fixture)
from tests.actions.trackers import make_tracker, run_action, user_event


def _close_question() -> tuple[str, object]:
    """A question whose best FAQ match is strong but has a close runner-up (found, not
    assumed, so the test follows the knowledge base)."""
    policy = get_policy()
    heldout = yaml.safe_load((PROJECT_ROOT / "tests/knowledge/faq_heldout.yml").read_text())
    for question in (q for questions in heldout.values() for q in questions):
        decision = decide(question)
        if (
            decision.kind == "suggest"
            and decision.top.score >= policy["knowledge.answer_close_min_score"]
        ):
            return question, decision
    raise AssertionError("no held-out question has a strong match with a close runner-up")


def test_a_strong_match_with_close_neighbours_is_answered_and_the_others_offered(domain):
    question, decision = _close_question()
    tracker = make_tracker([user_event(question, "ask_faq", 0.9)])
    messages, _ = run_action(ActionAnswerKnowledge(), tracker, domain)
    answer, related = messages
    assert answer["response"] == "utter_knowledge_faq"
    assert answer["title"] == decision.top.entry.title
    assert related["response"] == "utter_knowledge_related"
    offered = [b["payload"] for b in related["buttons"]]
    assert offered and all(decision.top.entry.id not in p for p in offered)
    assert all(any(h.entry.id in p for h in decision.hits[1:]) for p in offered)


def test_an_annoyed_question_hears_empathy_before_the_answer(domain):
    text = "七天无理由退货怎么算的 别忽悠我"
    calm = make_tracker([user_event("七天无理由退货怎么算的", "ask_return_policy")], {"anger": 0})
    annoyed = make_tracker([user_event(text, "ask_return_policy")], {"anger": 1.0})
    calm_replies = [m["response"] for m in run_action(ActionAnswerKnowledge(), calm, domain)[0]]
    annoyed_replies = [
        m["response"] for m in run_action(ActionAnswerKnowledge(), annoyed, domain)[0]
    ]
    assert calm_replies[0] == "utter_knowledge_faq"
    assert annoyed_replies[0] == "utter_empathy_first"
    assert annoyed_replies[1:] == calm_replies


def test_an_annoyed_question_the_intent_model_missed_hears_empathy_too(shop, domain):  # noqa: F811
    # the fallback answers a clear knowledge match itself: with the same empathy line
    text = "七天无理由退货到底怎么算 别再忽悠我了"
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "ask_faq", "confidence": 0.3}]
    replies = {}
    for anger in (0, 1.0):
        tracker = make_tracker([user_event(text, "nlu_fallback", 0.4, ranking)], {"anger": anger})
        replies[anger] = [
            m["response"] for m in run_action(ActionSuggestIntents(), tracker, domain)[0]
        ]
    assert replies[0] == ["utter_knowledge_faq"]
    assert replies[1.0] == ["utter_empathy_first", "utter_knowledge_faq"]


def test_thanks_or_praise_the_model_missed_gets_thanks_not_suggestions(shop, domain):  # noqa: F811
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "rate_service", "confidence": 0.2},
        {"name": "ask_faq", "confidence": 0.15},
    ]
    for text, response in [
        ("多谢啦 给你们打五星", "utter_thanks_for_praise"),
        ("东西用着挺好的", "utter_thanks_for_praise"),
        ("辛苦了 麻烦你了", "utter_you_are_welcome"),
    ]:
        tracker = make_tracker(
            [
                {"event": "action", "name": "action_listen"},
                user_event(text, "nlu_fallback", 0.5, ranking),
            ]
        )
        messages, events = run_action(ActionSuggestIntents(), tracker, domain)
        assert [m["response"] for m in messages] == [response], text
        assert events == []
