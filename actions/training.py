"""Staff training mode: quizzes and role-play against a simulated customer, with a scorecard.

Thin adapters over dianxiaoer.coaching.quiz, dianxiaoer.coaching.roleplay and the
training tables of the shop store.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import orders
from actions.common import localized_buttons, metadata_value, survives_store_outage
from dianxiaoer.coaching import quiz, roleplay
from dianxiaoer.core.auth import verify_trainee_token
from dianxiaoer.core.policy import get_policy
from dianxiaoer.store import training as progress_store

#: Slots a training conversation uses; all cleared when the trainee leaves.
TRAINING_SLOTS = ("training_mode", "quiz_state", "quiz_answer", "roleplay_state", "roleplay_reply")


def trainee_of(tracker: Tracker) -> str:
    """The logged-in trainee (token from the training page), else one per chat."""
    return (
        verify_trainee_token(metadata_value(tracker, "trainee_token"))
        or tracker.get_slot("trainee_id")
        or f"chat-{tracker.sender_id[:40]}"
    )


def _text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "").strip()


def _seed(tracker: Tracker) -> int:
    """Different rounds and customers per conversation and turn, reproducible in tests."""
    return sum(map(ord, tracker.sender_id)) * 1000 + len(tracker.events)


class ActionStartTraining(Action):
    """Enter training mode: the menu of exercises."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_start_training"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Show the menu and remember who is training."""
        dispatcher.utter_message(response="utter_training_menu")
        return [SlotSet("training_mode", "menu"), SlotSet("trainee_id", trainee_of(tracker))]


# --- quiz -------------------------------------------------------------------------------


@survives_store_outage
class ActionStartQuiz(Action):
    """Pick a round of questions for this trainee (misses due first, ★★★ weighted)."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_start_quiz"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Choose the questions and introduce the round; quiz_form asks them."""
        trainee = trainee_of(tracker)
        focus = quiz.focus_of(_text(tracker))
        length = int(get_policy()["training.quiz_length"])
        progress = progress_store.progress_of(trainee)
        ids = quiz.new_round(progress, orders._now(), focus, length, _seed(tracker))
        dispatcher.utter_message(
            response="utter_quiz_intro", focus=quiz.FOCUS_NAMES[focus], total=len(ids)
        )
        return [
            SlotSet("training_mode", "quiz"),
            SlotSet("trainee_id", trainee),
            SlotSet("quiz_state", {"ids": ids, "i": 0, "scores": []}),
            SlotSet("quiz_answer", None),
        ]


def _current(state: dict[str, Any]) -> quiz.Question | None:
    ids, i = state.get("ids") or [], int(state.get("i") or 0)
    return quiz.question(ids[i]) if i < len(ids) else None


class ActionAskQuizAnswer(Action):
    """quiz_form's question: the current question with its options as buttons."""

    def name(self) -> str:
        """The form calls action_ask_<slot> to request the slot."""
        return "action_ask_quiz_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter question number i of the round."""
        state = tracker.get_slot("quiz_state") or {}
        question = _current(state)
        if question is None:
            return []
        buttons = [{"title": t, "payload": p} for t, p in quiz.option_payloads(question)]
        options = quiz.option_lines(question)
        dispatcher.utter_message(
            response="utter_quiz_question" if options else "utter_quiz_question_open",
            number=int(state["i"]) + 1,
            total=len(state["ids"]),
            stars=quiz.stars(question),
            topic=quiz.topic_of(question),
            prompt=question.prompt,
            options=options,
            buttons=localized_buttons(buttons, tracker) if question.options else [],
        )
        return []


@survives_store_outage
class ValidateQuizForm(FormValidationAction):
    """Score each answer, store it with the trainee's spaced-repetition box, show the key."""

    def name(self) -> str:
        """Validation action of quiz_form."""
        return "validate_quiz_form"

    async def validate_quiz_answer(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Feedback for this answer, then the next question (or the end of the round)."""
        answer = str(value or "").strip()
        state = dict(tracker.get_slot("quiz_state") or {})
        question = _current(state)
        if not answer:
            return {"quiz_answer": None}
        if question is None:  # the bank changed under a running round: end it
            return {"quiz_answer": answer}
        value = quiz.score(question, answer)
        progress_store.record_quiz_answer(
            trainee_of(tracker),
            question.id,
            question.kind,
            quiz.topic_of(question),
            quiz.level_of(question),
            value,
            orders._now(),
        )
        _feedback(dispatcher, question, value)
        state["scores"] = [*state.get("scores", []), round(value, 3)]
        state["i"] = int(state.get("i") or 0) + 1
        done = state["i"] >= len(state.get("ids") or [])
        return {"quiz_state": state, "quiz_answer": answer if done else None}


def _feedback(dispatcher: CollectingDispatcher, question: quiz.Question, value: float) -> None:
    if value >= 0.999:
        dispatcher.utter_message(response="utter_quiz_right", reference=question.reference)
    elif question.kind in ("list_recall", "explain") and value > 0:
        dispatcher.utter_message(
            response="utter_quiz_partial", percent=round(value * 100), reference=question.reference
        )
    else:
        dispatcher.utter_message(
            response="utter_quiz_wrong",
            answer=quiz.answer_text(question),
            reference=question.reference,
        )


def _quiz_summary(dispatcher: CollectingDispatcher, state: dict[str, Any]) -> None:
    scores = state.get("scores") or []
    if not scores:
        return
    right = sum(1 for s in scores if quiz.is_correct(s))
    dispatcher.utter_message(
        response="utter_quiz_summary",
        right=right,
        total=len(scores),
        percent=round(100 * sum(scores) / len(scores)),
    )
    weak = quiz.weak_topics(state.get("ids") or [], scores)
    if weak:
        dispatcher.utter_message(response="utter_quiz_weak", topics="、".join(weak))


class ActionFinishQuiz(Action):
    """The round's result and what to practise next."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_finish_quiz"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Summary; the trainee stays in training mode (menu)."""
        _quiz_summary(dispatcher, tracker.get_slot("quiz_state") or {})
        return [
            SlotSet("quiz_state", None),
            SlotSet("quiz_answer", None),
            SlotSet("training_mode", "menu"),
        ]


# --- role-play --------------------------------------------------------------------------


class ActionStartRoleplay(Action):
    """Choose a scenario from the request and brief the trainee."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_start_roleplay"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The customer's first line comes from roleplay_form's question."""
        scenario = roleplay.choose(_text(tracker), seed=_seed(tracker))
        state = roleplay.start(scenario.id, orders._now())
        dispatcher.utter_message(
            response="utter_roleplay_brief", title=scenario.title, brief=roleplay.brief_text(state)
        )
        return [
            SlotSet("training_mode", "roleplay"),
            SlotSet("trainee_id", trainee_of(tracker)),
            SlotSet("roleplay_state", state),
            SlotSet("roleplay_reply", None),
        ]


def _say_customer(dispatcher: CollectingDispatcher, state: dict[str, Any]) -> None:
    line = roleplay.customer_line(state)
    if line:
        dispatcher.utter_message(
            response="utter_roleplay_customer", mood=roleplay.mood_label(state), line=line
        )


class ActionAskRoleplayReply(Action):
    """roleplay_form's question: what the simulated customer says now."""

    def name(self) -> str:
        """The form calls action_ask_<slot> to request the slot."""
        return "action_ask_roleplay_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The customer's opening line or reaction."""
        _say_customer(dispatcher, tracker.get_slot("roleplay_state") or {})
        return []


class ValidateRoleplayForm(FormValidationAction):
    """The customer reacts to each reply; the form ends when the play is over."""

    def name(self) -> str:
        """Validation action of roleplay_form."""
        return "validate_roleplay_form"

    async def validate_roleplay_reply(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Update the simulated customer's state with the trainee's reply."""
        reply = str(value or "").strip()
        state = tracker.get_slot("roleplay_state")
        if not reply or not state:
            return {"roleplay_reply": None if state else reply or "-"}
        state = roleplay.react(state, reply)
        over = roleplay.is_over(state)
        return {"roleplay_state": state, "roleplay_reply": reply if over else None}


def _scorecard(dispatcher: CollectingDispatcher, tracker: Tracker, state: dict[str, Any]) -> None:
    """Say the scorecard and store the play."""
    card = roleplay.scorecard(state)
    progress_store.record_roleplay(
        trainee_of(tracker),
        state.get("scenario") or "",
        roleplay.outcome(state) or "abandoned",
        card.total,
        dict(card.dimensions),
        int(state.get("turn") or 0),
        orders._now(),
        details=card.as_dict(),
    )
    text = roleplay.scorecard_text(card)
    dispatcher.utter_message(
        response="utter_roleplay_scorecard",
        total=text["total"],
        grade=text["grade"],
        dimensions=text["dimensions"],
        notes=text["notes"],
    )
    if card.model_replies:
        dispatcher.utter_message(
            response="utter_roleplay_model_replies", model_replies=text["model_replies"]
        )


@survives_store_outage
class ActionFinishRoleplay(Action):
    """The customer's last words, then the scorecard."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_finish_roleplay"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Closing line, scorecard, back to the training menu."""
        state = tracker.get_slot("roleplay_state") or {}
        if state:
            _say_customer(dispatcher, state)
            _scorecard(dispatcher, tracker, state)
        return [
            SlotSet("roleplay_state", None),
            SlotSet("roleplay_reply", None),
            SlotSet("training_mode", "menu"),
        ]


@survives_store_outage
class ActionStopTraining(Action):
    """Leave training mode; an unfinished exercise is summarised and stored first."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_stop_training"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Quiz: the answers so far; role-play: a scorecard of the turns played."""
        _quiz_summary(dispatcher, tracker.get_slot("quiz_state") or {})
        state = tracker.get_slot("roleplay_state")
        if state and int(state.get("turn") or 0) > 0:
            _scorecard(dispatcher, tracker, roleplay.abandon(state))
        dispatcher.utter_message(response="utter_training_stopped")
        return [SlotSet(slot, None) for slot in TRAINING_SLOTS]
