"""Staff training progress in the shop store (SQLite and, when reachable, PostgreSQL)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import inspect

from dianxiaoer.coaching import quiz
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.store import training
from dianxiaoer.store.db import get_engine
from tests.store.conftest import NOW

M, D = timedelta(minutes=1), timedelta(days=1)

#: (trainee, question id, kind, topic, level, score, time) — pass score 0.6
QUIZ = [
    ("xiaoli", "term.a:t2m", "term_to_meaning", "退换货", 3, 1.0, NOW),
    ("xiaoli", "term.a:m2t", "meaning_to_term", "退换货", 3, 0.0, NOW + M),
    ("xiaoli", "term.b:list0", "list_recall", "购买心理", 2, 0.75, NOW + 2 * M),
    ("xiaoli", "term.b:list0", "list_recall", "购买心理", 2, 0.5, NOW + D),
    ("xiaoli", "term.c:t2m", "term_to_meaning", "岗位认知", 1, 0.6, NOW + D + M),
    ("xiaoli", "policy:refund:t", "true_false", "", 3, 1.0, NOW + D + 2 * M),
    ("xiaoli", "policy:ship:f", "true_false", "", 3, 0.0, NOW + D + 3 * M),
    ("chat-abc123", "term.b:t2m", "term_to_meaning", "购买心理", 2, 1.0, NOW + 2 * D),
]
#: (trainee, scenario, outcome, total, dimensions, turns, time)
ROLEPLAYS = [
    # recorded before the earlier one: attempts() must order by time, not by insertion
    ("xiaoli", "presale_size", "escalated", 60, {"共情": 2, "方案": 4}, 4, NOW + D + 10 * M),
    (
        "xiaoli",
        "complaint_venting",
        "resolved",
        80,
        {"共情": 4, "方案": 3, "话术": 5},
        6,
        NOW + 30 * M,
    ),
    ("chat-abc123", "complaint_venting", "resolved", 90, {"共情": 5}, 5, NOW + 2 * D + 5 * M),
]


def _record_all(url):
    for trainee, qid, kind, topic, level, score, time in QUIZ:
        training.record_quiz_answer(trainee, qid, kind, topic, level, score, time, url=url)
    return [
        training.record_roleplay(t, s, o, total, dims, turns, time, {"scenario": s}, url=url)
        for t, s, o, total, dims, turns, time in ROLEPLAYS
    ]


def _bucket(answered, correct, average):
    return {
        "answered": answered,
        "correct": correct,
        "share": pytest.approx(correct / answered),
        "average_score": pytest.approx(average),
    }


def test_migration_creates_the_training_tables(store_url):
    tables = set(inspect(get_engine(store_url)).get_table_names())
    assert {"quiz_attempts", "quiz_boxes", "roleplay_attempts"} <= tables


def test_recording_and_leitner_boxes(store_url):
    _record_all(store_url)
    progress = training.progress_of("xiaoli", store_url)
    assert isinstance(progress, quiz.Progress)
    assert progress.boxes == {
        "term.a:t2m": 1,
        "term.a:m2t": 0,
        "term.b:list0": 0,  # right, then wrong: back to box 0
        "term.c:t2m": 1,  # 0.6 is exactly the pass score
        "policy:refund:t": 1,
        "policy:ship:f": 0,
    }
    assert progress.due == {
        "term.a:t2m": NOW + D,
        "term.a:m2t": NOW + M,
        "term.b:list0": NOW + D,
        "term.c:t2m": NOW + D + M + D,
        "policy:refund:t": NOW + D + 2 * M + D,
        "policy:ship:f": NOW + D + 3 * M,
    }
    assert all(due.tzinfo is not None for due in progress.due.values())
    assert training.progress_of("chat-abc123", store_url).boxes == {"term.b:t2m": 1}
    assert training.progress_of("nobody", store_url) == quiz.Progress()


def test_boxes_climb_to_the_last_and_due_times_follow_box_days(store_url):
    time = NOW
    for expected_box in (1, 2, 3, 4, 4):
        training.record_quiz_answer(
            "xiaozhao", "q:1", "term_to_meaning", "退款", 2, 1, time, store_url
        )
        progress = training.progress_of("xiaozhao", store_url)
        assert progress.boxes["q:1"] == expected_box
        assert progress.due["q:1"] == time + timedelta(days=quiz.BOX_DAYS[expected_box])
        time = progress.due["q:1"]
    training.record_quiz_answer(
        "xiaozhao", "q:1", "term_to_meaning", "退款", 2, 0.2, time, store_url
    )
    assert training.progress_of("xiaozhao", store_url).boxes["q:1"] == 0
    # the Leitner state agrees with quiz.pick: the missed question comes first
    questions = [
        quiz.Question("q:1", "term_to_meaning", "?", "a"),
        quiz.Question("q:2", "x", "?", "b"),
    ]
    import random

    assert (
        quiz.pick(questions, training.progress_of("xiaozhao", store_url), time, random.Random(1)).id
        == "q:1"
    )


def test_attempts_are_time_ordered_views(store_url):
    ids = _record_all(store_url)
    assert ids[0] < ids[1] < ids[2]
    mine = training.attempts("xiaoli", store_url)
    assert [(a.type, a.time) for a in mine] == [
        ("quiz", NOW),
        ("quiz", NOW + M),
        ("quiz", NOW + 2 * M),
        ("roleplay", NOW + 30 * M),
        ("quiz", NOW + D),
        ("quiz", NOW + D + M),
        ("quiz", NOW + D + 2 * M),
        ("quiz", NOW + D + 3 * M),
        ("roleplay", NOW + D + 10 * M),
    ]
    first_play = mine[3]
    assert isinstance(first_play, training.RoleplayAttemptView)
    assert (first_play.scenario_id, first_play.outcome, first_play.total, first_play.turns) == (
        "complaint_venting",
        "resolved",
        80,
        6,
    )
    assert first_play.dimensions == {"共情": 4, "方案": 3, "话术": 5}
    assert first_play.details == {"scenario": "complaint_venting"}
    answer = mine[2]
    assert isinstance(answer, training.QuizAttemptView)
    assert (answer.question_id, answer.score, answer.correct, answer.bucket) == (
        "term.b:list0",
        0.75,
        True,
        "2",
    )
    assert mine[6].bucket == "policy" and mine[6].as_dict()["topic"] == "店铺政策"
    with pytest.raises(AttributeError):
        answer.score = 0  # frozen
    everyone = training.attempts(url=store_url)
    assert len(everyone) == len(QUIZ) + len(ROLEPLAYS)
    assert [a.time for a in everyone] == sorted(a.time for a in everyone)
    assert everyone[-1].trainee_id == "chat-abc123" and everyone[-1].as_dict()["type"] == "roleplay"


def test_mastery_figures(store_url):
    _record_all(store_url)
    m = training.mastery("xiaoli", store_url)
    assert m["trainee_id"] == "xiaoli"
    assert m["quiz"] == _bucket(7, 4, 3.85 / 7)
    assert m["levels"] == {
        "1": _bucket(1, 1, 0.6),
        "2": _bucket(2, 1, 0.625),
        "3": _bucket(2, 1, 0.5),
        "policy": _bucket(2, 1, 0.5),
    }
    assert m["topics"] == {
        "岗位认知": _bucket(1, 1, 0.6),
        "店铺政策": _bucket(2, 1, 0.5),
        "购买心理": _bucket(2, 1, 0.625),
        "退换货": _bucket(2, 1, 0.5),
    }
    assert m["roleplay"] == {
        "sessions": 2,
        "average_total": 70.0,
        "dimensions": {"共情": 3.0, "方案": 3.5, "话术": 5.0},
        "outcomes": {"escalated": 1, "resolved": 1},
    }
    everyone = training.mastery(url=store_url)
    assert everyone["quiz"] == _bucket(8, 5, 4.85 / 8)
    assert everyone["levels"]["2"] == _bucket(3, 2, 2.25 / 3)
    assert everyone["roleplay"]["sessions"] == 3
    assert everyone["roleplay"]["average_total"] == pytest.approx(230 / 3)
    assert everyone["roleplay"]["dimensions"]["共情"] == pytest.approx(11 / 3)


def test_mastery_without_attempts(store_url):
    m = training.mastery("xiaozhao", store_url)
    empty = {"answered": 0, "correct": 0, "share": None, "average_score": None}
    assert m["quiz"] == empty and m["topics"] == {}
    assert m["levels"] == {level: empty for level in ("1", "2", "3", "policy")}
    assert m["roleplay"] == {"sessions": 0, "average_total": None, "dimensions": {}, "outcomes": {}}


def test_trainees_summary(store_url):
    assert training.trainees(store_url) == []
    _record_all(store_url)
    summaries = training.trainees(store_url)
    assert [s.trainee_id for s in summaries] == ["chat-abc123", "xiaoli"]  # latest first
    chat, li = summaries
    assert (chat.attempts, chat.quiz_answered, chat.quiz_correct, chat.quiz_accuracy) == (
        2,
        1,
        1,
        1.0,
    )
    assert (chat.roleplay_sessions, chat.roleplay_average, chat.last_active) == (
        1,
        90.0,
        NOW + 2 * D + 5 * M,
    )
    assert (li.attempts, li.quiz_answered, li.quiz_correct) == (9, 7, 4)
    assert li.quiz_accuracy == pytest.approx(4 / 7)
    assert (li.roleplay_sessions, li.roleplay_average) == (2, 70.0)
    assert li.last_active == NOW + D + 10 * M and li.last_active.tzinfo is not None
    assert (
        li.as_dict()["last_active"]
        == (NOW + D + 10 * M).astimezone(li.last_active.tzinfo).isoformat()
    )
    training.record_roleplay("xiaozhao", "s", "resolved", 50, {}, 3, NOW, url=store_url)
    only_roleplay = next(s for s in training.trainees(store_url) if s.trainee_id == "xiaozhao")
    assert (only_roleplay.quiz_answered, only_roleplay.quiz_accuracy, only_roleplay.attempts) == (
        0,
        None,
        1,
    )


def test_pass_score_comes_from_the_policy(store_url, tmp_path, monkeypatch):
    policy = (PROJECT_ROOT / "config" / "policy.yml").read_text(encoding="utf-8")
    assert "pass_score: 0.6" in policy
    strict = tmp_path / "policy.yml"
    strict.write_text(policy.replace("pass_score: 0.6", "pass_score: 0.8"), encoding="utf-8")
    monkeypatch.setenv("SHOP_POLICY_FILE", str(strict))
    assert quiz.is_correct(0.8) and not quiz.is_correct(0.79)
    training.record_quiz_answer("xiaoli", "q:a", "list_recall", "t", 2, 0.75, NOW, store_url)
    assert training.attempts("xiaoli", store_url)[0].correct is False
    assert training.progress_of("xiaoli", store_url).boxes == {"q:a": 0}


def test_bad_input_is_refused(store_url):
    with pytest.raises(ValueError):
        training.record_quiz_answer("xiaoli", "q", "k", "t", 1, 1.5, NOW, store_url)
    with pytest.raises(ValueError):
        training.record_quiz_answer("", "q", "k", "t", 1, 1.0, NOW, store_url)
    with pytest.raises(ValueError):
        training.record_quiz_answer("x" * 65, "q", "k", "t", 1, 1.0, NOW, store_url)
    with pytest.raises(ValueError):  # naive times are refused like everywhere in the store
        training.record_roleplay(
            "xiaoli", "s", "resolved", 1, {}, 1, datetime(2026, 1, 1), url=store_url
        )
    assert training.attempts(url=store_url) == []


def test_roleplay_scorecards_are_kept_as_given(store_url):
    play = training.record_roleplay(
        "chat-x",
        "",  # a play without a scenario id is still recorded
        "abandoned",
        72.6,
        {"共情": 3.5, "方案": 4.0},
        2,
        NOW,
        details={"ended_at": NOW, "notes": ("a", "b")},
        url=store_url,
    )
    (view,) = training.attempts("chat-x", store_url)
    assert view.id == play and view.scenario_id == "" and view.total == 73
    assert view.dimensions == {"共情": 3.5, "方案": 4}
    assert view.details == {"ended_at": str(NOW), "notes": ["a", "b"]}
