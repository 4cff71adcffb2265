"""Training mode actions on real trackers and a real SQLite store: quiz rounds, answers
stored with spaced repetition, role-play with a scorecard, leaving training."""

from __future__ import annotations

from actions.training import (
    ActionAskQuizAnswer,
    ActionAskRoleplayReply,
    ActionFinishQuiz,
    ActionFinishRoleplay,
    ActionStartQuiz,
    ActionStartRoleplay,
    ActionStartTraining,
    ActionStopTraining,
    ValidateQuizForm,
    ValidateRoleplayForm,
)
from dianxiaoer.coaching import quiz, roleplay
from dianxiaoer.core.auth import mint_trainee_token
from dianxiaoer.store import training as progress_store
from tests.actions.test_orders import shop, slots_of  # noqa: F401
from tests.actions.trackers import make_tracker, run_action, user_event
from tests.quiz_answers import right_answer, wrong_answer

CHAT_TRAINEE = "chat-test-user"


def start_quiz(domain, text="开始术语测验", metadata=None):
    event = user_event(text, "start_quiz")
    if metadata:
        event["parse_data"]["metadata"] = metadata
    messages, events = run_action(ActionStartQuiz(), make_tracker([event]), domain)
    return messages, slots_of(events)


def answer(domain, state, text, slots=None):
    extracted = {"event": "slot", "name": "quiz_answer", "value": text}
    tracker = make_tracker(
        [user_event(text, "inform"), extracted],
        slots={"quiz_state": state, "quiz_answer": text, "requested_slot": "quiz_answer"}
        | (slots or {}),
    )
    tracker.active_loop = {"name": "quiz_form"}
    messages, events = run_action(ValidateQuizForm(), tracker, domain)
    return messages, slots_of(events)


def letter(q):
    return "ABCD"[q.options.index(q.answer)]


def test_training_menu_remembers_the_trainee(shop, domain):  # noqa: F811
    messages, events = run_action(
        ActionStartTraining(),
        make_tracker([user_event("我是新来的客服", "start_training")]),
        domain,
    )
    assert [m["response"] for m in messages] == ["utter_training_menu"]
    assert slots_of(events) == {"training_mode": "menu", "trainee_id": CHAT_TRAINEE}


def test_a_quiz_round_is_asked_scored_stored_and_summarised(shop, domain):  # noqa: F811
    messages, slots = start_quiz(domain)
    assert messages[0]["response"] == "utter_quiz_intro" and messages[0]["total"] == 5
    state = slots["quiz_state"]
    assert slots["training_mode"] == "quiz" and len(state["ids"]) == 5 and state["i"] == 0

    asked, _ = run_action(ActionAskQuizAnswer(), make_tracker([], {"quiz_state": state}), domain)
    first = quiz.question(state["ids"][0])
    assert asked[0]["prompt"] == first.prompt
    if first.options:
        assert asked[0]["response"] == "utter_quiz_question"
        assert [b["payload"] for b in asked[0]["buttons"]] == list("ABCD"[: len(first.options)])
    else:  # a ★★★ term to explain in free text
        assert asked[0]["response"] == "utter_quiz_question_open" and not asked[0]["buttons"]

    # right, wrong, right, wrong, right
    for n in range(5):
        q = quiz.question(state["ids"][n])
        good = n % 2 == 0
        text = right_answer(q) if good else wrong_answer(q)
        messages, slots = answer(domain, state, text)
        expected = "utter_quiz_right" if good else "utter_quiz_wrong"
        assert [m["response"] for m in messages] == [expected]
        assert messages[0]["reference"] == q.reference
        if not good:
            assert messages[0]["answer"] == quiz.answer_text(q)
        state = slots["quiz_state"]
        assert state["i"] == n + 1
        # the form asks again until the last answer fills the slot
        assert slots["quiz_answer"] == (text if n == 4 else None)

    progress = progress_store.progress_of(CHAT_TRAINEE)
    assert [progress.boxes[i] for i in state["ids"]] == [1, 0, 1, 0, 1]
    messages, events = run_action(
        ActionFinishQuiz(), make_tracker([], {"quiz_state": state}), domain
    )
    summary = messages[0]
    assert summary["response"] == "utter_quiz_summary"
    assert (summary["right"], summary["total"], summary["percent"]) == (3, 5, 60)
    assert messages[1]["response"] == "utter_quiz_weak"
    assert slots_of(events) == {"quiz_state": None, "quiz_answer": None, "training_mode": "menu"}

    # the next round opens with the two misses
    _, slots = start_quiz(domain, "再来一轮")
    assert set(slots["quiz_state"]["ids"][:2]) == {state["ids"][1], state["ids"][3]}


def test_list_recall_is_scored_by_items_and_empty_answers_are_asked_again(shop, domain):  # noqa: F811
    q = next(q for q in quiz.bank() if q.kind == "list_recall" and len(q.items) == 4)
    state = {"ids": [q.id], "i": 0, "scores": []}
    messages, slots = answer(domain, state, "、".join(q.items[:2]))
    assert messages[0]["response"] == "utter_quiz_partial" and messages[0]["percent"] == 50
    assert slots["quiz_answer"] is not None  # a one-question round ends here
    messages, slots = answer(domain, state, "   ")
    assert messages == [] and slots == {"quiz_answer": None}


def test_a_logged_in_trainee_keeps_progress_under_their_id(shop, domain):  # noqa: F811
    token = mint_trainee_token("xiaoli", 3600)
    _, slots = start_quiz(domain, metadata={"trainee_token": token})
    assert slots["trainee_id"] == "xiaoli"
    state = slots["quiz_state"]
    q = quiz.question(state["ids"][0])
    answer(
        domain, state, q.answer if q.kind == "true_false" else letter(q), {"trainee_id": "xiaoli"}
    )
    assert progress_store.progress_of("xiaoli").boxes == {q.id: 1}
    assert progress_store.progress_of(CHAT_TRAINEE).boxes == {}
    # a forged token is not a login: the answer counts for the chat trainee
    forged = token[:-3] + "xyz"
    _, slots = start_quiz(domain, metadata={"trainee_token": forged})
    assert slots["trainee_id"] == CHAT_TRAINEE


def test_stop_training_summarises_and_clears_everything(shop, domain):  # noqa: F811
    q = next(q for q in quiz.bank() if q.kind == "true_false")
    state = {"ids": [q.id, q.id], "i": 1, "scores": [1.0]}
    messages, events = run_action(
        ActionStopTraining(),
        make_tracker([user_event("退出练习", "stop_training")], {"quiz_state": state}),
        domain,
    )
    assert [m["response"] for m in messages] == ["utter_quiz_summary", "utter_training_stopped"]
    assert all(value is None for value in slots_of(events).values())
    assert set(slots_of(events)) >= {"training_mode", "quiz_state", "roleplay_state"}


def roleplay_reply(domain, state, text):
    extracted = {"event": "slot", "name": "roleplay_reply", "value": text}
    tracker = make_tracker(
        [user_event(text, "inform"), extracted],
        slots={"roleplay_state": state, "roleplay_reply": text, "requested_slot": "roleplay_reply"},
    )
    tracker.active_loop = {"name": "roleplay_form"}
    _, events = run_action(ValidateRoleplayForm(), tracker, domain)
    return slots_of(events)


def start_roleplay(domain, text):
    tracker = make_tracker([user_event(text, "start_roleplay")])
    messages, events = run_action(ActionStartRoleplay(), tracker, domain)
    return messages, slots_of(events)


def test_a_good_trainee_resolves_the_delay_and_the_play_is_stored(shop, domain):  # noqa: F811
    messages, slots = start_roleplay(domain, "模拟一个快递延迟的买家")
    state = slots["roleplay_state"]
    assert state["scenario"].startswith("delay:") and slots["training_mode"] == "roleplay"
    assert messages[0]["response"] == "utter_roleplay_brief"
    assert roleplay.scenario(state["scenario"]).title == messages[0]["title"]
    asked, _ = run_action(
        ActionAskRoleplayReply(), make_tracker([], {"roleplay_state": state}), domain
    )
    assert asked[0]["response"] == "utter_roleplay_customer"
    assert asked[0]["line"] == roleplay.customer_line(state)

    good = roleplay.model_reply(state)
    slots = roleplay_reply(domain, state, good)
    assert slots["roleplay_reply"] == good  # resolved in one turn: the form ends
    state = slots["roleplay_state"]
    assert roleplay.outcome(state) == "resolved"

    messages, events = run_action(
        ActionFinishRoleplay(), make_tracker([], {"roleplay_state": state}), domain
    )
    responses = [m["response"] for m in messages]
    assert responses == ["utter_roleplay_customer", "utter_roleplay_scorecard"]
    assert int(messages[1]["total"]) >= 90
    assert slots_of(events)["training_mode"] == "menu"
    (stored,) = [a for a in progress_store.attempts(CHAT_TRAINEE) if a.type == "roleplay"]
    assert stored.outcome == "resolved" and stored.total >= 90


def test_a_rude_trainee_escalates_the_customer_and_sees_model_replies(shop, domain):  # noqa: F811
    _, slots = start_roleplay(domain, "模拟一个快递延迟的买家")
    state = slots["roleplay_state"]
    rude = "这是快递公司的问题，不关我们的事，是你自己选的快递。"
    for _ in range(6):
        slots = roleplay_reply(domain, state, rude)
        state = slots["roleplay_state"]
        if slots["roleplay_reply"] is not None:
            break
    assert roleplay.outcome(state) in {"escalated", "left"}
    messages, _ = run_action(
        ActionFinishRoleplay(), make_tracker([], {"roleplay_state": state}), domain
    )
    assert [m["response"] for m in messages][-1] == "utter_roleplay_model_replies"
    assert int(messages[1]["total"]) < 50
    assert "不关我们的事" in messages[1]["notes"]


def test_leaving_a_role_play_early_stores_an_abandoned_scorecard(shop, domain):  # noqa: F811
    _, slots = start_roleplay(domain, "模拟一个问尺码的顾客")
    state = roleplay_reply(domain, slots["roleplay_state"], "亲，您好，请问您平时穿什么尺码呢？")[
        "roleplay_state"
    ]
    messages, events = run_action(
        ActionStopTraining(),
        make_tracker([user_event("退出练习", "stop_training")], {"roleplay_state": state}),
        domain,
    )
    assert "utter_roleplay_scorecard" in [m["response"] for m in messages]
    assert messages[-1]["response"] == "utter_training_stopped"
    (stored,) = [a for a in progress_store.attempts(CHAT_TRAINEE) if a.type == "roleplay"]
    assert stored.outcome == "abandoned" and stored.scenario_id.startswith("size:")
