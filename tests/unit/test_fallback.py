from dianxiaoer.shop.fallback import (
    extra_buttons,
    load_intent_questions,
    previous_turn_actions,
    suggest_intents,
)

QUESTIONS = load_intent_questions()


def test_top_three_suggestions_skip_unhelpful_intents():
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "affirm", "confidence": 0.3},
        {"name": "ask_return_policy", "confidence": 0.2},
        {"name": "inform", "confidence": 0.2},
        {"name": "ask_shipping_policy", "confidence": 0.1},
        {"name": "ask_payment_methods", "confidence": 0.08},
        {"name": "request_human", "confidence": 0.07},
    ]
    picked = suggest_intents(ranking, QUESTIONS, limit=3, min_confidence=0.05)
    assert [name for name, _ in picked] == [
        "ask_return_policy",
        "ask_shipping_policy",
        "ask_payment_methods",
    ]
    assert picked[0][1] == QUESTIONS["ask_return_policy"]


def test_low_confidence_and_unknown_intents_are_dropped():
    ranking = [{"name": "no_such_intent", "confidence": 0.9}, {"name": "greet", "confidence": 0.01}]
    assert suggest_intents(ranking, QUESTIONS, min_confidence=0.05) == []
    assert suggest_intents([], QUESTIONS) == []


def test_every_question_is_worded_in_chinese():
    assert QUESTIONS and all(any("\u4e00" <= c <= "\u9fff" for c in q) for q in QUESTIONS.values())


def test_extra_buttons_reenter_fallback_and_reach_a_human():
    payloads = [b["payload"] for b in extra_buttons()]
    assert payloads == ["/nlu_fallback", "/request_human"]


def test_previous_turn_actions():
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "abc"},
        {"event": "action", "name": "action_suggest_intents"},
        {"event": "bot", "text": "您是想问"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "xyz"},
    ]
    assert previous_turn_actions(events) == ["action_listen", "action_suggest_intents"]
    # before the first message, the session start counts as the previous turn
    assert previous_turn_actions(events[:2]) == ["action_listen"]
    assert previous_turn_actions([{"event": "user", "text": "x"}]) == []
