"""The Rasa patches (dianxiaoer/rasa_plugins/rasa_patches.py) give Rasa's results, faster."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from dianxiaoer.rasa_plugins import rasa_patches as runtime

runtime.install()  # as the project's tracker store does in the Rasa server

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
    assert RemoteAction._validate_action_result.__module__ == "dianxiaoer.rasa_plugins.rasa_patches"


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

    from dianxiaoer.core.settings import PROJECT_ROOT
    from dianxiaoer.rasa_plugins.rasa_patches import fast_copy

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


# ------------------------------------------------ long sessions: states and action payload


def long_tracker(sender: str, repeats: int = 5):
    """One session of `repeats` times the conversation above (forms, rewinds, a pause)."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        AllSlotsReset,
        Restarted,
        SessionStarted,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    from dianxiaoer.core.settings import PROJECT_ROOT

    def starts_over(event) -> bool:
        return isinstance(event, (SessionStarted, Restarted, AllSlotsReset)) or (
            isinstance(event, ActionExecuted) and event.action_name == "action_session_start"
        )

    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    tracker = DialogueStateTracker(sender, domain.slots)
    one = conversation_events()
    events = one[:3] + [e for _ in range(repeats) for e in one[3:] if not starts_over(e)]
    return domain, tracker, events


RULE_ONLY = {"slots": ["requested_slot", "quiz_state"], "active_loops": ["verify_order_form"]}


def test_checkpointed_states_are_the_end_of_rasas_states_at_every_step():
    import copy

    domain, tracker, events = long_tracker("long-states")
    checked = 0
    for step, event in enumerate(events):
        tracker.update(copy.copy(event), domain)
        assert runtime.applied_events(tracker) == tracker.applied_events()
        if len(tracker.events) <= 2 * runtime.STATE_TAIL or step % 3:
            continue
        for flags in ({}, {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY}):
            fast = tracker.past_states(domain, **flags)
            full = domain.states_for_tracker_history(tracker, **flags)  # Rasa's own
            assert len(fast) >= min(len(full), 10)
            assert fast == full[-len(fast) :], (step, event, flags)
            checked += 1
    assert checked > 100
    # the checkpoint moved along: replays stay short however long the session gets
    assert len(tracker.past_states(domain)) < len(domain.states_for_tracker_history(tracker))


def test_policies_predict_the_same_with_checkpointed_states(trained_model, monkeypatch):
    import asyncio
    import copy

    from rasa.core.agent import Agent

    agent = asyncio.run(_load(Agent, trained_model))
    domain, tracker, events = long_tracker("long-predictions", repeats=7)
    domain = agent.domain
    compared = 0
    for step, event in enumerate(events):
        tracker.update(copy.copy(event), domain)
        if len(tracker.events) <= 2 * runtime.STATE_TAIL or step % 9:
            continue
        # on copies: a prediction consumes a pending followup action
        fast = agent.processor._predict_next_with_tracker(tracker.copy())
        with monkeypatch.context() as m:
            m.setattr(runtime, "STATE_TAIL", 10**9)  # Rasa's path: all states
            slow = agent.processor._predict_next_with_tracker(tracker.copy())
        assert (fast.policy_name, fast.max_confidence_index) == (
            slow.policy_name,
            slow.max_confidence_index,
        ), step
        assert fast.probabilities == pytest.approx(slow.probabilities, abs=1e-5)
        compared += 1
    assert compared > 20
    assert any(key[0] == "long-predictions" for key in runtime._checkpoints)  # the fast path ran


def test_ted_answers_the_same_before_and_after_its_graph_is_traced(trained_model):
    """The server predicts eagerly until the background trace is ready: same answers."""
    import asyncio
    import copy

    from rasa.core.agent import Agent
    from rasa.core.policies.ted_policy import TEDPolicy

    agent = asyncio.run(_load(Agent, trained_model))
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    (ted,) = [n._component for n in nodes if isinstance(n._component, TEDPolicy)]
    assert runtime.wait_for_traced_graphs(timeout=120)
    assert ted.model._tf_predict_step is not None and not ted.model.run_eagerly

    domain, tracker, events = long_tracker("eager-vs-traced", repeats=1)
    domain = agent.domain
    compared = 0
    for step, event in enumerate(events[:60]):
        tracker.update(copy.copy(event), domain)
        if step % 5:
            continue
        traced = ted.predict_action_probabilities(tracker.copy(), domain)
        ted.model.run_eagerly = True
        try:
            eager = ted.predict_action_probabilities(tracker.copy(), domain)
        finally:
            ted.model.run_eagerly = False
        assert traced.max_confidence_index == eager.max_confidence_index, step
        assert traced.probabilities == pytest.approx(eager.probabilities, abs=1e-5)
        compared += 1
    assert compared >= 10


async def _load(agent_class, model):
    return agent_class.load(str(model))


def test_action_server_gets_the_recent_turns_and_everything_else():
    import copy

    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    domain, tracker, events = long_tracker("long-payload", repeats=3)
    for event in events:
        tracker.update(copy.copy(event), domain)
    action = RemoteAction("action_answer_knowledge", EndpointConfig("http://127.0.0.1:1"))
    sent = action._action_call_format(tracker, domain)
    start = runtime.recent_events_start(tracker.events, runtime.ACTION_EVENT_TURNS)
    assert start > 0
    users = [e for e in sent["tracker"]["events"] if e["event"] == "user"]
    assert len(users) == runtime.ACTION_EVENT_TURNS
    assert sent["tracker"]["events"][0]["event"] == "action"  # a turn starts with the listen
    # all the rest is what Rasa sends
    rasa = runtime.action_call_format(action, tracker, domain, 0)
    rasa_events = rasa["tracker"].pop("events")
    assert rasa_events[start:] == sent["tracker"].pop("events")
    assert sent == rasa
    # a short conversation is sent whole
    assert runtime.recent_events_start(list(tracker.events)[:40], runtime.ACTION_EVENT_TURNS) == 0


def test_action_server_window_covers_what_the_actions_look_back_at():
    from dianxiaoer.core.text import SCRIPT_LOOKBACK

    assert runtime.ACTION_EVENT_TURNS >= SCRIPT_LOOKBACK


# ------------------------------------------ per-message session check and slot validation


def _rasas_session_expired(tracker, session_config, now: float) -> bool:
    """Rasa 3.6's `_has_session_expired`, on Rasa's full fold of the applied events."""
    from rasa.shared.core.events import UserUttered

    if not session_config.are_sessions_enabled():
        return False
    latest = tracker.get_last_event_for(UserUttered)
    if latest is None:
        return False
    return (now - latest.timestamp) / 60 > session_config.session_expiration_time


def test_session_check_equals_rasas_at_every_step():
    import copy

    from rasa.shared.core.domain import SessionConfig

    configs = [SessionConfig(60, True), SessionConfig(0, True), SessionConfig(1, False)]
    for name, events in (
        ("session-check", conversation_events()),  # with a restart and rewinds
        ("session-check-long", long_tracker("x")[2]),
    ):
        domain, tracker, _ = long_tracker(name)
        for event in events:
            tracker.update(copy.copy(event), domain)
            assert bool(runtime.applied_events(tracker)) == bool(tracker.applied_events())
            latest = tracker.latest_message.timestamp
            for config in configs:
                for now in (latest + 1, latest + 59 * 60, latest + 61 * 60):
                    assert runtime.session_expired(tracker, config, now) == (
                        _rasas_session_expired(tracker, config, now)
                    ), (event, config, now)


def test_validation_tracker_equals_rasas_replay_at_every_step():
    import copy

    from rasa.shared.core.events import ActiveLoop, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    domain, tracker, events = long_tracker("validation")
    extracted = [SlotSet("order_id", "202611020002"), ActiveLoop(None), SlotSet("anger", 2.0)]
    compared = 0
    for step, event in enumerate(events):
        tracker.update(copy.copy(event), domain)
        if step % 4:
            continue
        fast = runtime.validation_tracker(tracker, extracted, domain)
        slow = DialogueStateTracker.from_events(  # what Rasa 3.6 builds
            tracker.sender_id,
            tracker.events_after_latest_restart() + [e for e in extracted if type(e) is SlotSet],
            slots=domain.slots,
        )
        fast_state, slow_state = tracker_state(fast, domain), tracker_state(slow, domain)
        # a long session's states may come from a checkpoint: the end of the full list
        fast_states, slow_states = fast_state.pop("past_states"), slow_state.pop("past_states")
        tail = min(len(fast_states), len(slow_states))
        assert fast_states[-tail:] == slow_states[-tail:], step
        assert fast_state == slow_state, step
        compared += 1
    assert compared > 50
    # the tracker itself is left as it was
    assert tracker.get_slot("order_id") == "202611010001"
    # after a restart, or with another tracker kind, Rasa's own path runs
    restarted = DialogueStateTracker("restarted", domain.slots)
    for event in conversation_events():
        restarted.update(copy.copy(event), domain)
    assert runtime.validation_tracker(restarted, extracted, domain) is None
    tracker.is_rule_tracker = True
    assert runtime.validation_tracker(tracker, extracted, domain) is None


def test_a_turn_after_an_hour_of_silence_starts_a_new_session(trained_model):
    """The patched session check still starts sessions (processor path, not the helper)."""
    import asyncio
    import time

    from rasa.core.agent import Agent
    from rasa.shared.core.events import SessionStarted

    async def run():
        agent = Agent.load(str(trained_model))
        await agent.handle_text("你好", sender_id="expiry")
        tracker = await agent.tracker_store.retrieve("expiry")
        first = [e for e in tracker.events if isinstance(e, SessionStarted)]
        # an hour and a minute of silence: the latest user message is that old
        for event in tracker.events:
            event.timestamp -= 61 * 60
        await agent.tracker_store.save(tracker)
        await agent.handle_text("七天无理由退货怎么算", sender_id="expiry")
        tracker = await agent.tracker_store.retrieve_full_tracker("expiry")
        return first, [e for e in tracker.events if isinstance(e, SessionStarted)]

    first, after = asyncio.run(run())
    assert len(first) == 1 and len(after) == 2
    assert time.time() - after[-1].timestamp < 60
