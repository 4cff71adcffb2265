"""The runtime speed-ups (dianxiaoer/runtime.py) give Rasa's results, only faster."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import dianxiaoer.tracker_store  # noqa: F401  (installs the speed-ups, as endpoints.yml does)
from dianxiaoer import runtime

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "anger", "value": 2, "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [{"response": "utter_greet"}, {"text": "您好", "buttons": []}],
    },
]
INVALID = [
    {"events": [{"event": "slot"}], "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
]


def rasa_original(result) -> None:
    """What Rasa 3.6 does: jsonschema.validate with the schema check on every call."""
    from jsonschema import validate

    validate(result, RemoteAction.action_response_format_spec())


def test_installed_and_idempotent():
    runtime.install()
    assert RemoteAction._validate_action_result.__module__ == "dianxiaoer.runtime"


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(result):
    rasa_original(result)
    assert RemoteAction("action_x", None)._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_fail_with_rasas_error(result):
    with pytest.raises(ValidationError) as original:
        rasa_original(result)
    with pytest.raises(ValidationError) as cached:
        RemoteAction("action_x", None)._validate_action_result(result)
    assert cached.value.message.startswith(original.value.message)
    assert "Failed to validate Action server response" in cached.value.message


# ---------------------------------------------------------------- the fast tracker copy


def conversation_events():
    """A conversation with forms, interruptions, fallbacks (rewinds), a pause and a restart."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        AllSlotsReset,
        BotUttered,
        ConversationPaused,
        ConversationResumed,
        FollowupAction,
        LoopInterrupted,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )

    def user(text, intent):
        return UserUttered(text, {"name": intent, "confidence": 0.9}, [], {"text": text})

    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ]
    for turn in range(3):
        events += [
            user("查一下订单", "check_order_status"),
            SlotSet("anger", 0.0),
            ActionExecuted("verify_order_form"),
            ActiveLoop("verify_order_form"),
            SlotSet("requested_slot", "order_id"),
            BotUttered("请提供订单号", {"buttons": []}),
            ActionExecuted("action_listen"),
            user("什么是花呗", "ask_term"),
            ActionExecuted("verify_order_form"),
            LoopInterrupted(True),
            ActionExecuted("action_answer_knowledge"),
            BotUttered("花呗是…"),
            ActionExecuted("verify_order_form"),
            ActionExecuted("action_listen"),
            user("202611010001", "inform"),
            SlotSet("order_id", "202611010001"),
            SlotSet("quiz_state", {"round": turn, "asked": [1, 2]}),
            ActionExecuted("verify_order_form"),
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            ActionExecuted("action_listen"),
            user("嗯嗯啊", "nlu_fallback"),
            FollowupAction("action_suggest_intents"),
            ActionExecuted("action_suggest_intents"),
            BotUttered("您是想问："),
            ActionExecuted("action_default_fallback"),
            BotUttered("抱歉"),
            UserUtteranceReverted(),
            ActionExecuted("action_listen"),
            user("谢谢", "thank"),
            ActionExecuted("utter_you_are_welcome"),
            ActionReverted(),
            ConversationPaused(),
            ConversationResumed(),
            SlotSet("handoff_requested", True),
            ActionExecuted("action_listen"),
        ]
        if turn == 1:
            events += [AllSlotsReset(), Restarted(), ActionExecuted("action_session_start")]
    return events


def tracker_state(tracker, domain) -> dict:
    """Everything a copy carries, comparable across copies."""
    from rasa.shared.core.trackers import EventVerbosity

    return {
        "events": [id(e) for e in tracker.events],
        "slots": {
            n: (type(s), s.value, s.has_been_set, s.initial_value) for n, s in tracker.slots.items()
        },
        "paused": tracker._paused,
        "followup": tracker.followup_action,
        "latest_action": tracker.latest_action,
        # an empty placeholder (no message yet) is created with the time of the copy
        "latest_message": {**tracker.latest_message.as_dict(), "timestamp": None},
        "latest_message_is_event": any(e is tracker.latest_message for e in tracker.events),
        "latest_bot": (tracker.latest_bot_utterance.text, tracker.latest_bot_utterance.data),
        "latest_bot_is_event": any(e is tracker.latest_bot_utterance for e in tracker.events),
        "active_loop": tracker.active_loop,
        "ids": (tracker.sender_id, tracker.sender_source, tracker.model_id, tracker.assistant_id),
        "flags": (tracker.is_rule_tracker, tracker._max_event_history),
        "current_state": tracker.current_state(EventVerbosity.ALL),
        "past_states": tracker.past_states(domain),
    }


def test_fast_copy_equals_rasas_replayed_copy_at_every_step():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from dianxiaoer.runtime import fast_copy
    from dianxiaoer.settings import PROJECT_ROOT

    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    tracker = DialogueStateTracker("conv", domain.slots)
    tracker.model_id, tracker.assistant_id = "model", "dianxiaoer"
    for event in conversation_events():
        tracker.update(event, domain)
        replayed = tracker.travel_back_in_time(float("inf"))  # what Rasa's copy does
        fast = fast_copy(tracker)
        assert tracker_state(fast, domain) == tracker_state(replayed, domain), event
        # the copy is independent: changing it leaves the original alone
        fast.update(SlotSet("anger", 3.0), domain)
        fast.slots["order_id"].value = "changed"
        assert tracker.slots["order_id"].value != "changed"
        assert len(tracker.events) == len(fast.events) - 1
    # and the installed method is the fast one
    assert tracker.copy().events == tracker.events
