"""Speed-ups of the Rasa server's per-turn work that change no result, and one durability fix.

Installed by `install()`, which the project's tracker store calls when Rasa creates it
(`dianxiaoer.rasa_plugins.tracker_store.ProjectSQLTrackerStore`, set in endpoints.yml), so
only a server started with the project's endpoints gets them. Each one was found by
profiling the server under load (`scripts/bench.py --profile`, docs/performance.md):

- Rasa validates every action server response with `jsonschema.validate`, which first
  checks the (constant) events schema against the JSON Schema meta-schema and builds a new
  validator: that check was about 37 % of the CPU of a turn. Here the validator is built
  once and the response is validated against the same schema with the same error.
- Before running each action Rasa copies the tracker (`DialogueStateTracker.copy`) by
  replaying every event of the conversation into a new tracker; a rewind event
  (`UserUtteranceReverted`, sent after every core fallback) replays the whole history
  again, so the copy grows with the length of the conversation and with the number of
  fallbacks in it (quadratic). Here the copy takes the replayed state directly from the
  tracker (the events are the same objects, as in Rasa's copy; slots and the active loop
  are copied). tests/unit/test_runtime.py checks it equals Rasa's copy event by event.
- Loading a TensorFlow model (DIET, TED) runs one training step on one example only to
  create its variables, then overwrites them with the trained weights: tracing that
  training graph was about 64 % of the server's start. Here the variables are created by
  one eager prediction instead, the trained weights are loaded, and the prediction graph
  is traced with them beside the server's start, as Rasa does after its training step;
  until the trace is ready (a few seconds) predictions run eagerly (the same answers:
  tests/unit/test_runtime.py compares the loads and both modes).
- Loading a tracker looks up each stored event's class by walking all subclasses of
  `Event` for every event (`Event.resolve_by_type`); the class per type name is cached.
- Every policy, on every prediction, builds the dialogue states of the whole session
  (`DialogueStateTracker.past_states`: replay every event into a new tracker, one state per
  action) and then keeps the last few (`max_history`; rules look back a few turns): on a
  conversation 400 turns long that was 30 % of a turn. For long sessions the replay here
  starts from a checkpoint, a copy of the replayed tracker some events back that is kept
  per conversation while the events before it stay the same, and the states from there
  on are returned: the last `STATE_TAIL` or more applied events' worth, the same states as
  the end of Rasa's list (tests/unit/test_runtime.py compares them, and the policies'
  predictions, at every step of long conversations).
- Every call of a custom action sends the whole session's events to the action server
  (30 % of a long turn went into building and encoding that JSON). The actions read the
  slots (sent in full) and look back at most `SCRIPT_LOOKBACK` user messages, so the
  events of the last `ACTION_EVENT_TURNS` user turns are sent.
- Before each message Rasa decides whether a new session starts from the applied events
  of the whole conversation, folded twice (`_update_tracker_session`, then
  `_has_session_expired` through `get_last_event_for`); and before filling slots it
  builds the tracker for `action_validate_slot_mappings` by replaying every event
  (`_execute_validation_action`). On a 400-turn conversation these three were about 20 ms
  of each turn and grew with every message. Here the applied events continue from the
  previous fold of the conversation (`applied_events`), and the validation tracker is a
  copy of the tracker (`fast_copy`) with the extracted slots applied.

Durability (not a speed-up; docs/survival.md): Rasa's `MessageProcessor.handle_message`
logs the user message on the tracker in memory and saves the tracker only at the end of
the turn, after the actions ran. A turn that dies in between (Rasa killed, the turn
cancelled by a timeout) has made its shop changes — a ticket, a coupon, a cancellation —
while the customer's message was never stored. Here the tracker is saved as soon as the
message is logged, before the first action is called (`_persist_user_message_first`);
the save at the end of the turn adds the rest. Rasa's SQL store finds the events still to
store by counting the stored ones since the latest session start, which is off for a
tracker saved twice in a turn that starts a session (Rasa logs `action_session_start`
before the `session_started` it returns, and would store the user message a second time);
so the second save takes the events after the ones the first save stored. The actions make
each change once per anchor (`dianxiaoer.store.repository.EffectKey`), so the turn can be
retried.
"""

from __future__ import annotations

import copy as copy_module
import itertools
import logging
import operator
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Rasa is imported lazily, when the patches are installed
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

_installed = False


# Each speed-up replaces a Rasa internal, checked against this release (tests/unit/
# test_runtime.py, scripts/verify_runtime.py); another release runs Rasa's own code until
# they are checked again.
VERIFIED_RASA = "3.6.21"


def install() -> None:
    """Install the speed-ups once per process (only on the Rasa release they were checked on)."""
    global _installed
    if _installed:
        return
    _installed = True
    import rasa

    if rasa.__version__ != VERIFIED_RASA:
        logger.warning(
            "Rasa %s is not %s: dianxiaoer.rasa_plugins.rasa_patches speed-ups not installed "
            "(re-run tests/unit/test_runtime.py and scripts/verify_runtime.py, then update "
            "VERIFIED_RASA)",
            rasa.__version__,
            VERIFIED_RASA,
        )
        return
    _cache_action_response_validator()
    _fast_tracker_copy()
    _cache_event_types()
    _load_models_without_training_step()
    _checkpointed_past_states()
    _bounded_action_payload()
    _incremental_session_check()
    _copied_validation_tracker()
    _persist_user_message_first()
    logger.info("dianxiaoer runtime speed-ups installed")


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    original = RemoteAction._validate_action_result
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    # checked once here, as jsonschema.validate would on every call
    cls.check_schema(schema)
    validator = cls(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        if not isinstance(error, ValidationError):  # pragma: no cover - defensive
            return original(self, result)
        # Rasa's own wording (rasa/core/actions/action.py), so logs read the same
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            "For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


def _fast_tracker_copy() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.copy

    def copy(self):
        # trackers without domain slots (AnySlotDict) are rare: Rasa's own path
        if type(self.slots) is not dict:
            return original(self)
        return fast_copy(self)

    DialogueStateTracker.copy = copy


def fast_copy(tracker):
    """The tracker Rasa's `DialogueStateTracker.copy` builds, without replaying events.

    Rasa's copy is `init_copy()` (same sender and slots, initial state, no model or
    assistant id) followed by `update(event)` for every event; a tracker's state is by
    Rasa's contract the result of exactly those updates, so it is taken from `tracker`.
    """
    import copy as copy_module

    new = tracker.init_copy()
    new.events = new._create_events(list(tracker.events))
    new.slots = {name: copy_module.copy(slot) for name, slot in tracker.slots.items()}
    new._paused = tracker._paused
    new.followup_action = tracker.followup_action
    new.latest_action = dict(tracker.latest_action) if tracker.latest_action else {}
    # the latest messages are the events themselves, or (none yet) fresh empty ones as
    # a replay would create
    if _is_event_of(tracker.latest_message, tracker.events):
        new.latest_message = tracker.latest_message
    if _is_event_of(tracker.latest_bot_utterance, tracker.events):
        new.latest_bot_utterance = tracker.latest_bot_utterance
    # a loop is changed in place (interrupted, rejected), so the copy gets its own
    new.active_loop = copy_module.copy(tracker.active_loop)
    return new


def _is_event_of(event, events) -> bool:
    """Whether `event` is one of `events` (identity; the latest ones are near the end)."""
    return event is not None and any(e is event for e in reversed(events))


def _cache_event_types() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    by_name: dict[str, type] = {}

    def resolve_by_type(type_name, default=None):
        cls = by_name.get(type_name)
        if cls is None:
            # the first lookup (or an unknown name) takes Rasa's path, errors included
            cls = original(type_name, default)
            # only real hits are cached; Event subclasses are all defined at import
            if cls is not None and cls is not default:
                by_name[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _load_models_without_training_step() -> None:
    from rasa.utils.tensorflow.constants import RUN_EAGERLY
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel.load.__func__

    def load(
        cls,
        model_file_name,
        model_data_example,
        predict_data_example=None,
        finetune_mode=False,
        *args,
        **kwargs,
    ):
        config = kwargs.get("config") or {}
        if finetune_mode or not predict_data_example or config.get(RUN_EAGERLY):
            # fine-tuning needs the optimizer state that the training step creates; an
            # eager model never traces the graph that creates the other variables
            return original(
                cls,
                model_file_name,
                model_data_example,
                predict_data_example,
                finetune_mode,
                *args,
                **kwargs,
            )
        return load_for_inference(cls, model_file_name, predict_data_example, *args, **kwargs)

    RasaModel.load = classmethod(load)


def load_for_inference(cls, model_file_name, predict_data_example, *args, **kwargs):
    """A Rasa TF model ready to predict, its variables built without a training step.

    Predictions are eager until the graph, traced in a background thread, replaces them.
    """
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY

    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    model.compile(
        optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
        run_eagerly=config.get(RUN_EAGERLY),
    )
    # one eager prediction creates the variables of the branches this example takes
    model.run_eagerly = True
    model.run_inference(predict_data_example)
    # The other branches' variables are created (and restored from the checkpoint, which
    # TF reads lazily) when the graph is traced. Rasa deletes the unpacked model once
    # loaded, so the checkpoint is read from a copy kept until the trace is done.
    weights = _copy_checkpoint(model_file_name)
    status = model.load_weights(str(weights))
    # the optimizer's and the training losses' variables are not needed to predict
    if hasattr(status, "expect_partial"):
        status.expect_partial()
    # label embeddings etc. were prepared from the initial weights: prepare again with the
    # trained ones (an eager prediction, a fraction of a second)
    model.prepared_for_prediction = False
    model._tf_predict_step = None
    model.run_inference(predict_data_example)
    # Tracing the prediction graph (Rasa's warm-up prediction) took 2.6 of the server's
    # 10 s start: it runs beside the rest of the start instead, and predictions are eager
    # (same weights, same operations) until the traced graph replaces them. Eager
    # predictions build layers the example did not reach (the transformer, on longer
    # dialogues) and so does the trace: one lock keeps them from building one layer twice.
    lock = threading.RLock()
    predict = model._rasa_predict

    def rasa_predict(batch_in):
        if not model.run_eagerly:  # the graph is ready, its variables all built
            return predict(batch_in)
        with lock:
            return predict(batch_in)

    model._rasa_predict = rasa_predict
    thread = threading.Thread(
        target=_trace_prediction_graph,
        args=(model, predict_data_example, weights.parent, lock),
        name=f"trace-{cls.__name__}",
        daemon=False,  # the interpreter waits for it: TF must not be torn down mid-trace
    )
    with _tracing_lock:
        _tracing.append(thread)
    thread.start()
    return model


_tracing: list = []
_tracing_lock = threading.Lock()


def _copy_checkpoint(model_file_name):
    """The TF checkpoint of `model_file_name` copied to a new temporary directory."""
    import shutil
    import tempfile
    from pathlib import Path

    source = Path(model_file_name)
    target = Path(tempfile.mkdtemp(prefix="dxe-weights-"))
    for path in source.parent.iterdir():
        if path.name == "checkpoint" or path.name.startswith(source.name + "."):
            shutil.copy2(path, target / path.name)
    return target / source.name


def _trace_prediction_graph(model, predict_data_example, weights_dir, lock) -> None:
    import shutil

    import tensorflow as tf
    from rasa.utils.train_utils import create_data_generators

    lock.acquire()
    try:
        generator, _ = create_data_generators(
            model_data=predict_data_example, batch_sizes=1, epochs=1, shuffle=False
        )
        batch_in = next(iter(generator))[0]
        # Without AutoGraph's source conversion the trace takes 40 % of the time: the
        # prediction step has no Python control flow on tensor values (a trace would
        # fail on it), and tests/unit/test_runtime.py compares the graph with eager.
        traced = tf.function(
            model.predict_step,
            input_signature=model._dynamic_signature(batch_in),
            autograph=False,
        )
        traced(batch_in)  # the trace itself
        # the graph first, then the switch: a prediction sees either state, both complete
        model._tf_predict_step = traced
        model.run_eagerly = False
    except Exception:  # noqa: BLE001 - predictions stay eager: slower, the same answers
        logger.exception("tracing the %s prediction graph failed", type(model).__name__)
    finally:
        lock.release()
        shutil.rmtree(weights_dir, ignore_errors=True)


def wait_for_traced_graphs(timeout: float | None = None) -> bool:
    """Wait until every model loaded so far predicts with its traced graph (tests, bench)."""
    with _tracing_lock:
        threads = list(_tracing)
    for thread in threads:
        thread.join(timeout)
    return not any(thread.is_alive() for thread in threads)


# ------------------------------------------------------------------ dialogue states

# a session longer than twice this many events gets its states from a checkpoint at least
# this many applied events back (rules and max_history look back far less)
STATE_TAIL = 60
_CHECKPOINTS_KEPT = 2000
_checkpoints: OrderedDict = OrderedDict()
_applied: OrderedDict = OrderedDict()


def _checkpointed_past_states() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.past_states

    def past_states(
        self, domain, omit_unset_slots=False, ignore_rule_only_turns=False, rule_only_data=None
    ):
        # training trackers (subclasses), trackers with a bounded event history and
        # short sessions take Rasa's path
        if (
            type(self) is not DialogueStateTracker
            or self._max_event_history
            or type(self.slots) is not dict
            or len(self.events) <= 2 * STATE_TAIL
        ):
            return original(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        return checkpointed_states(
            self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data
        )

    DialogueStateTracker.past_states = past_states


@dataclass
class _Checkpoint:
    prefix: list  # the applied events replayed into `tracker`
    tracker: Any
    domain: Any
    rule_only_data: Any
    last_ml_action: Any
    turn_was_hidden: bool
    previous_state: Any  # the last state before the checkpoint (None: none yet)


def remember(cache: OrderedDict, key, value, limit: int = _CHECKPOINTS_KEPT) -> None:
    """Put `value` in the LRU `cache` as its newest entry; drop the oldest beyond `limit`."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)


def applied_events(tracker) -> list:
    """Rasa's `tracker.applied_events()`, continued from the last call for this sender.

    `applied_events` is a left fold over the events, except that the names of all loops in
    the session decide how a loop's executions fold; when the events so far are the ones
    of the last call (same objects) and no new loop name came, the fold goes on from there.
    """
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    events = list(tracker.events)
    cached = _applied.get(tracker.sender_id)
    start, applied = 0, None
    loops: set[str] = set()  # replaced below: from the cache, or from the events
    if cached is not None:
        seen, loops_seen, applied_seen = cached
        if len(events) >= len(seen) and all(map(operator.is_, seen, events)):
            new_loops = {
                e.name for e in events[len(seen) :] if isinstance(e, ActiveLoop) and e.name
            }
            if new_loops <= loops_seen:
                start, applied, loops = len(seen), list(applied_seen), loops_seen
    if applied is None:
        applied = []
        loops = {e.name for e in events if isinstance(e, ActiveLoop) and e.name}
    for event in events[start:]:
        # Rasa's fold (rasa/shared/core/trackers.py, applied_events), step by step
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loops
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    remember(_applied, tracker.sender_id, (events, loops, list(applied)))
    return applied


def checkpointed_states(
    tracker: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> list:
    """The last states of Rasa's `domain.states_for_tracker_history(tracker, ...)`.

    The replay starts at this conversation's checkpoint when the applied events before it
    are unchanged (else at the start, returning all states), and moves the checkpoint to
    `STATE_TAIL` applied events before the end once it is twice that far behind. At least
    the states of the last `STATE_TAIL` applied events are returned.
    """
    from rasa.shared.core.constants import PREVIOUS_ACTION
    from rasa.shared.core.events import ActionExecuted

    applied = applied_events(tracker)
    key = (tracker.sender_id, bool(omit_unset_slots), bool(ignore_rule_only_turns))
    point = _checkpoints.get(key)
    if (
        point is not None
        and point.domain is domain
        and (point.rule_only_data is rule_only_data or point.rule_only_data == rule_only_data)
        and len(applied) >= len(point.prefix)
        and all(map(operator.is_, point.prefix, applied))
    ):
        start = len(point.prefix)
        replay = fast_copy(point.tracker)
        last_ml_action, turn_was_hidden = point.last_ml_action, point.turn_was_hidden
        previous = point.previous_state
    else:
        start, replay = 0, tracker.init_copy()
        last_ml_action, turn_was_hidden, previous = None, False, None
    move_to = len(applied) - STATE_TAIL if len(applied) - start >= 2 * STATE_TAIL else -1
    states: list = []

    def add_state(hide_rule_turn: bool) -> None:
        # Rasa's loop body (rasa/shared/core/domain.py, states_for_tracker_history)
        nonlocal last_ml_action, turn_was_hidden
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action = domain._get_prev_action_sub_state(replay)
            if not replay.followup_action and not (
                replay.latest_action_name == replay.active_loop_name
            ):
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                return
        state = domain.get_active_state(replay, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            before = states[-1] if states else previous
            if before is not None:
                domain._substitute_rule_only_user_input(state, before)
            if last_ml_action:
                state[PREVIOUS_ACTION] = last_ml_action
        states.append(domain._clean_state(state))

    for index in range(start, len(applied)):
        if index == move_to:
            remember(
                _checkpoints,
                key,
                _Checkpoint(
                    prefix=applied[:index],
                    tracker=fast_copy(replay),
                    domain=domain,
                    rule_only_data=rule_only_data,
                    last_ml_action=last_ml_action,
                    turn_was_hidden=turn_was_hidden,
                    # callers may change the states they get; the checkpoint keeps its own
                    previous_state=copy_module.deepcopy(states[-1] if states else previous),
                ),
            )
        event = applied[index]
        if isinstance(event, ActionExecuted):
            add_state(event.hide_rule_turn)
        replay.update(event)
    add_state(False)
    return states


# ------------------------------------------------------------- action server payload

# user turns whose events are sent to the action server (the actions look back at most
# dianxiaoer.core.text.SCRIPT_LOOKBACK = 20 user messages; everything else is in the slots)
ACTION_EVENT_TURNS = 20


def _bounded_action_payload() -> None:
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._action_call_format

    def _action_call_format(self, tracker, domain):
        start = recent_events_start(tracker.events, ACTION_EVENT_TURNS)
        if start == 0:
            return original(self, tracker, domain)
        return action_call_format(self, tracker, domain, start)

    RemoteAction._action_call_format = _action_call_format


def action_call_format(action, tracker, domain, start: int) -> dict[str, Any]:
    """Rasa 3.6's `RemoteAction._action_call_format` with the events from `start` on."""
    import rasa
    from rasa.shared.core.trackers import EventVerbosity

    # everything but the events, as Rasa sends it; then the recent events only
    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = [e.as_dict() for e in itertools.islice(tracker.events, start, None)]
    result = {
        "next_action": action._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state,
        "version": rasa.__version__,
    }
    if not action._is_selective_domain_enabled() or (
        domain.does_custom_action_explicitly_need_domain(action.name())
    ):
        result["domain"] = domain.as_dict()
    return result


def recent_events_start(events, user_turns: int) -> int:
    """Index of the first event of the last `user_turns` user messages (0: all of them)."""
    from rasa.shared.core.events import UserUttered

    seen = 0
    for offset, event in enumerate(reversed(events)):
        if isinstance(event, UserUttered):
            seen += 1
            if seen == user_turns:
                # from the action_listen before that message, as a turn starts
                index = len(events) - 1 - offset
                return max(0, index - 1)
    return 0


def _incremental_session_check() -> None:
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor._update_tracker_session

    async def _update_tracker_session(self, tracker, output_channel, metadata=None):
        # Rasa starts a session when there are no applied events or the session expired;
        # otherwise it does nothing, so only then is its own code needed
        if applied_events(tracker) and not self._has_session_expired(tracker):
            return None
        return await original(self, tracker, output_channel, metadata)

    def _has_session_expired(self, tracker) -> bool:
        return session_expired(tracker, self.domain.session_config)

    MessageProcessor._update_tracker_session = _update_tracker_session
    MessageProcessor._has_session_expired = _has_session_expired


def session_expired(tracker, session_config, now: float | None = None) -> bool:
    """Rasa 3.6's `MessageProcessor._has_session_expired`, on the continued applied events.

    Expired: sessions are enabled and the latest applied user message is older than the
    expiration time (no user message yet: not expired).
    """
    import time

    from rasa.shared.core.events import UserUttered

    if not session_config.are_sessions_enabled():
        return False
    latest = next(
        (e for e in reversed(applied_events(tracker)) if isinstance(e, UserUttered)), None
    )
    if latest is None:
        return False
    elapsed = (time.time() if now is None else now) - latest.timestamp
    return elapsed / 60 > session_config.session_expiration_time


def _copied_validation_tracker() -> None:
    from rasa.core.actions import action as action_module

    cls = action_module.ActionExtractSlots
    original = cls._execute_validation_action

    async def _execute_validation_action(
        self, extraction_events, output_channel, nlg, tracker, domain
    ):
        from rasa.shared.core.events import SlotSet

        # Rasa's own path when there is nothing to validate or no copy will do; the copy
        # is made only when it is sent
        if action_module.ACTION_VALIDATE_SLOT_MAPPINGS not in domain.user_actions:
            return await original(self, extraction_events, output_channel, nlg, tracker, domain)
        _tracker = validation_tracker(tracker, extraction_events, domain)
        if _tracker is None:
            return await original(self, extraction_events, output_channel, nlg, tracker, domain)
        # the rest as in Rasa 3.6 (rasa/core/actions/action.py)
        slot_events = [e for e in extraction_events if isinstance(e, SlotSet)]
        validate_events = await self._run_custom_action(
            action_module.ACTION_VALIDATE_SLOT_MAPPINGS, output_channel, nlg, _tracker, domain
        )
        validated = {e.key for e in validate_events if isinstance(e, SlotSet)}
        return validate_events + [e for e in slot_events if e.key not in validated]

    cls._execute_validation_action = _execute_validation_action


def validation_tracker(tracker, extraction_events, domain):
    """The tracker Rasa builds for `action_validate_slot_mappings`, without the replay.

    Rasa replays the events after the latest restart plus the extracted `SlotSet`s into a
    new tracker with the domain's slots. Without a restart in the conversation that is a
    copy of `tracker` with the `SlotSet`s applied; with one (rare), or slots that are not
    the domain's, None: Rasa's own path.
    """
    from rasa.shared.core.events import Restarted, SlotSet

    if type(tracker.slots) is not dict or set(tracker.slots) != {s.name for s in domain.slots}:
        return None
    if tracker._max_event_history or tracker.is_rule_tracker or tracker.sender_source:
        return None  # Rasa's tracker has no bound, is not a rule tracker and has no source
    if Restarted in map(type, tracker.events):  # C-speed scan; Restarted has no subclasses
        return None
    new = fast_copy(tracker)
    for event in extraction_events:
        if isinstance(event, SlotSet):
            new.update(event)
    # Rasa's new tracker has neither model nor assistant id
    new.model_id = new.assistant_id = None
    return new


# ------------------------------------------------------------ durability of a turn


# the number of a tracker's events its first save of the turn stored (set on the tracker)
SAVED_EVENTS = "_dianxiaoer_saved_events"


def _persist_user_message_first() -> None:
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore

    MessageProcessor.log_message = persisting_log_message(MessageProcessor.log_message)
    SQLTrackerStore._additional_events = after_saved_events(SQLTrackerStore._additional_events)
    SQLTrackerStore.save = marking_save(SQLTrackerStore.save)


def persisting_log_message(original):
    """Rasa's `MessageProcessor.log_message` that always saves the tracker it logged to.

    `handle_message` (and the HTTP API's message route) call it with
    `should_save_tracker=False` and save only after the actions ran; saving here puts the
    user message in the tracker store before any action changes the shop. The tracker
    remembers how many of its events are stored (`SAVED_EVENTS`) for the save at the end.
    """

    async def log_message(self, message, should_save_tracker: bool = True):
        tracker = await original(self, message, should_save_tracker=True)
        setattr(tracker, SAVED_EVENTS, len(tracker.events))
        return tracker

    log_message.__wrapped__ = original
    return log_message


def after_saved_events(original):
    """`SQLTrackerStore._additional_events` that continues after the turn's first save.

    A tracker saved earlier in this turn (`SAVED_EVENTS`) stores the events after those;
    any other (or one with a bounded event history, where the count is not an index) is
    Rasa's count of the stored events since the latest session start.
    """

    def _additional_events(self, session, tracker):
        saved = getattr(tracker, SAVED_EVENTS, None)
        if saved is None or tracker._max_event_history or saved > len(tracker.events):
            return original(self, session, tracker)
        return itertools.islice(tracker.events, saved, len(tracker.events))

    _additional_events.__wrapped__ = original
    return _additional_events


def marking_save(original):
    """`SQLTrackerStore.save` that keeps a marked tracker's `SAVED_EVENTS` current."""

    async def save(self, tracker) -> None:
        await original(self, tracker)
        if getattr(tracker, SAVED_EVENTS, None) is not None:
            setattr(tracker, SAVED_EVENTS, len(tracker.events))

    save.__wrapped__ = original
    return save


__all__ = [
    "applied_events",
    "checkpointed_states",
    "fast_copy",
    "install",
    "after_saved_events",
    "load_for_inference",
    "marking_save",
    "persisting_log_message",
    "remember",
    "session_expired",
    "validation_tracker",
    "wait_for_traced_graphs",
]
