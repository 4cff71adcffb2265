"""Speed-ups of the Rasa server's per-turn work that change no result.

Installed when the Rasa server loads the project's tracker store
(`dianxiaoer.tracker_store.ProjectSQLTrackerStore`, set in endpoints.yml), so only a server
started with the project's endpoints gets them. Each one was found by profiling the server
under load (`scripts/bench.py --profile`, docs/performance.md):

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
  is traced with them, as Rasa does after its training step (predictions are the same:
  tests/unit/test_runtime.py compares both loads).
- Loading a tracker looks up each stored event's class by walking all subclasses of
  `Event` for every event (`Event.resolve_by_type`); the class per type name is cached.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_installed = False


def install() -> None:
    """Install the speed-ups once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    _cache_action_response_validator()
    _fast_tracker_copy()
    _cache_event_types()
    _load_models_without_training_step()
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
        if finetune_mode or not predict_data_example:
            # fine-tuning needs the optimizer state that the training step creates
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
    """A Rasa TF model ready to predict, its variables built without a training step."""
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY

    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    run_eagerly = config.get(RUN_EAGERLY)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
        run_eagerly=run_eagerly,
    )
    # one eager prediction creates every variable inference uses (no graph is traced)
    model.run_eagerly = True
    model.run_inference(predict_data_example)
    model.run_eagerly = run_eagerly
    status = model.load_weights(model_file_name)
    # the optimizer's and the training losses' variables are not needed to predict
    if hasattr(status, "expect_partial"):
        status.expect_partial()
    # label embeddings etc. were prepared from the initial weights: prepare again, and
    # trace the prediction graph with the trained ones (Rasa's warm-up prediction)
    model.prepared_for_prediction = False
    model._tf_predict_step = None
    model.run_inference(predict_data_example)
    return model


__all__ = ["fast_copy", "install", "load_for_inference"]
