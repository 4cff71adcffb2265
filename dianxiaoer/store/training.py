"""Staff training progress in the shop store: quiz answers, Leitner boxes, role-plays.

The actions record what a trainee does in the chat; the report (`dianxiaoer.coaching.report`)
and the training page read it back. Trainee ids are roster ids (config/trainees.yml) or
"chat-<…>" for someone training in the chat without logging in. Every function takes an
optional `url` (default: the store's database) and returns plain snapshots, no ORM objects.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from dianxiaoer.coaching.quiz import DEFAULT_TOPICS, Progress, is_correct
from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import QuizAttempt, QuizBox, RoleplayAttempt

#: Mastery buckets: the ★ levels of knowledge questions, and the policy true/false facts.
LEVELS = ("1", "2", "3", "policy")
LEVEL_NAMES = {"1": "★ 了解", "2": "★★ 理解", "3": "★★★ 掌握", "policy": "政策判断题"}
OTHER_TOPIC = "未分类"


def level_bucket(kind: str, question_id: str, level: int) -> str:
    """The mastery bucket: "policy" for the true/false policy facts, else ★ level "1"-"3"."""
    if kind == "true_false" or question_id.startswith("policy:"):
        return "policy"
    return str(min(max(int(level), 1), 3))


@dataclass(frozen=True)
class QuizAttemptView:
    """One quiz answer."""

    type: ClassVar[str] = "quiz"
    id: int
    trainee_id: str
    question_id: str
    kind: str
    topic: str
    level: int
    score: float
    correct: bool
    time: datetime

    @property
    def bucket(self) -> str:
        """The mastery bucket: ★ level "1"-"3" or "policy"."""
        return level_bucket(self.kind, self.question_id, self.level)

    @property
    def topic_name(self) -> str:
        """The topic, or a name for questions without one."""
        return self.topic or (DEFAULT_TOPICS["policy"] if self.bucket == "policy" else OTHER_TOPIC)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO time)."""
        return {
            "type": self.type,
            "id": self.id,
            "trainee_id": self.trainee_id,
            "question_id": self.question_id,
            "kind": self.kind,
            "topic": self.topic_name,
            "level": self.bucket,
            "score": self.score,
            "correct": self.correct,
            "time": self.time.isoformat(),
        }


@dataclass(frozen=True)
class RoleplayAttemptView:
    """One role-play session with its scorecard."""

    type: ClassVar[str] = "roleplay"
    id: int
    trainee_id: str
    scenario_id: str
    outcome: str
    total: int
    dimensions: dict[str, int]
    turns: int
    time: datetime
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO time)."""
        return {
            "type": self.type,
            "id": self.id,
            "trainee_id": self.trainee_id,
            "scenario_id": self.scenario_id,
            "outcome": self.outcome,
            "total": self.total,
            "dimensions": dict(self.dimensions),
            "turns": self.turns,
            "details": dict(self.details),
            "time": self.time.isoformat(),
        }


Attempt = QuizAttemptView | RoleplayAttemptView


@dataclass(frozen=True)
class TraineeSummary:
    """What a trainer sees per trainee."""

    trainee_id: str
    attempts: int
    quiz_answered: int
    quiz_correct: int
    quiz_accuracy: float | None
    roleplay_sessions: int
    roleplay_average: float | None
    last_active: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO time)."""
        return {
            "trainee_id": self.trainee_id,
            "attempts": self.attempts,
            "quiz_answered": self.quiz_answered,
            "quiz_correct": self.quiz_correct,
            "quiz_accuracy": self.quiz_accuracy,
            "roleplay_sessions": self.roleplay_sessions,
            "roleplay_average": self.roleplay_average,
            "last_active": self.last_active.isoformat(),
        }


def _check_id(name: str, value: str, limit: int) -> None:
    # the column limits hold on PostgreSQL only; check here so both backends agree
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"{name} must be a non-empty string of at most {limit} characters")


def _check_time(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")


def record_quiz_answer(
    trainee_id: str,
    question_id: str,
    kind: str,
    topic: str,
    level: int,
    score: float,
    now: datetime,
    url: str | None = None,
) -> None:
    """Store a quiz answer (score 0-1) and move the question's Leitner box.

    Correct (score ≥ policy `training.pass_score`): one box up, due after that box's days;
    wrong: back to box 0, due at once (`quiz.Progress.record`).
    """
    _check_id("trainee_id", trainee_id, 64)
    _check_id("question_id", question_id, 128)
    _check_time(now)
    score = float(score)
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"score must be between 0 and 1, got {score}")
    correct = is_correct(score)
    # two answers to a new question at once would both insert its box: the loser retries
    for retry in (False, True):
        try:
            with session_scope(url) as session:
                session.add(
                    QuizAttempt(
                        trainee_id=trainee_id,
                        question_id=question_id,
                        kind=kind[:24],
                        topic=(topic or "")[:32],
                        level=int(level),
                        score=score,
                        correct=correct,
                        created_at=now,
                    )
                )
                row = session.scalar(
                    select(QuizBox).where(
                        QuizBox.trainee_id == trainee_id, QuizBox.question_id == question_id
                    )
                )
                progress = Progress({question_id: row.box} if row else {})
                progress.record(question_id, correct, now)
                box, due = progress.boxes[question_id], progress.due[question_id]
                if row is None:
                    session.add(
                        QuizBox(
                            trainee_id=trainee_id,
                            question_id=question_id,
                            box=box,
                            due_at=due,
                            updated_at=now,
                        )
                    )
                else:
                    row.box, row.due_at, row.updated_at = box, due, now
            return
        except IntegrityError:
            if retry:
                raise


def progress_of(trainee_id: str, url: str | None = None) -> Progress:
    """The trainee's Leitner boxes and due times (aware UTC) per question."""
    with session_scope(url) as session:
        rows = session.execute(
            select(QuizBox.question_id, QuizBox.box, QuizBox.due_at).where(
                QuizBox.trainee_id == trainee_id
            )
        ).all()
    return Progress({q: box for q, box, _ in rows}, {q: due for q, _, due in rows})


def _number(value: float) -> int | float:
    value = float(value)
    return int(value) if value.is_integer() else value


def record_roleplay(
    trainee_id: str,
    scenario_id: str,
    outcome: str,
    total: int,
    dimensions: dict[str, int],
    turns: int,
    now: datetime,
    details: dict | None = None,
    url: str | None = None,
) -> int:
    """Store a finished role-play's scorecard; returns its id."""
    _check_id("trainee_id", trainee_id, 64)
    _check_time(now)
    with session_scope(url) as session:
        attempt = RoleplayAttempt(
            trainee_id=trainee_id,
            scenario_id=str(scenario_id or "")[:64],  # a play is kept even without one
            outcome=str(outcome)[:24],
            total=round(total),
            dimensions={str(k): _number(v) for k, v in (dimensions or {}).items()},
            turns=int(turns),
            # whatever the scorecard holds must fit a JSON column (times become text)
            details=json.loads(json.dumps(dict(details or {}), ensure_ascii=False, default=str)),
            created_at=now,
        )
        session.add(attempt)
        session.flush()
        return attempt.id


def _quiz_views(session, trainee_id: str | None) -> list[QuizAttemptView]:
    query = select(QuizAttempt).order_by(QuizAttempt.created_at, QuizAttempt.id)
    if trainee_id is not None:
        query = query.where(QuizAttempt.trainee_id == trainee_id)
    return [
        QuizAttemptView(
            a.id,
            a.trainee_id,
            a.question_id,
            a.kind,
            a.topic,
            a.level,
            a.score,
            a.correct,
            a.created_at,
        )
        for a in session.scalars(query)
    ]


def _roleplay_views(session, trainee_id: str | None) -> list[RoleplayAttemptView]:
    query = select(RoleplayAttempt).order_by(RoleplayAttempt.created_at, RoleplayAttempt.id)
    if trainee_id is not None:
        query = query.where(RoleplayAttempt.trainee_id == trainee_id)
    return [
        RoleplayAttemptView(
            r.id,
            r.trainee_id,
            r.scenario_id,
            r.outcome,
            r.total,
            dict(r.dimensions or {}),
            r.turns,
            r.created_at,
            dict(r.details or {}),
        )
        for r in session.scalars(query)
    ]


def attempts(trainee_id: str | None = None, url: str | None = None) -> list[Attempt]:
    """Quiz answers and role-plays of one trainee (or everyone), oldest first."""
    with session_scope(url) as session:
        merged: list[Attempt] = [*_quiz_views(session, trainee_id)]
        merged += _roleplay_views(session, trainee_id)
    # quiz before role-play at the same instant, then insertion order
    return sorted(merged, key=lambda a: (a.time, a.type != "quiz", a.id))


def _bucket(answers: list[QuizAttemptView]) -> dict[str, Any]:
    answered = len(answers)
    correct = sum(1 for a in answers if a.correct)
    return {
        "answered": answered,
        "correct": correct,
        "share": correct / answered if answered else None,
        "average_score": sum(a.score for a in answers) / answered if answered else None,
    }


def mastery(trainee_id: str | None = None, url: str | None = None) -> dict[str, Any]:
    """Quiz mastery and role-play averages of one trainee (or everyone together).

    Quiz figures count answers (a question answered twice counts twice): `answered`,
    `correct`, `share` (correct / answered, None without answers) and `average_score`,
    overall (`quiz`), per bucket (`levels`: ★ levels "1"-"3" and "policy" true/false
    facts, always all four) and per topic (`topics`; policy facts without a topic are
    店铺政策). Role-play: `sessions`, `average_total`, the average of each scorecard
    dimension over the sessions that scored it, and the count of each outcome.
    """
    with session_scope(url) as session:
        quiz = _quiz_views(session, trainee_id)
        plays = _roleplay_views(session, trainee_id)
    by_level: dict[str, list[QuizAttemptView]] = {level: [] for level in LEVELS}
    by_topic: dict[str, list[QuizAttemptView]] = defaultdict(list)
    for answer in quiz:
        by_level[answer.bucket].append(answer)
        by_topic[answer.topic_name].append(answer)
    dimensions: dict[str, list[int]] = defaultdict(list)
    outcomes: dict[str, int] = defaultdict(int)
    for play in plays:
        outcomes[play.outcome] += 1
        for name, value in play.dimensions.items():
            dimensions[name].append(value)
    return {
        "trainee_id": trainee_id,
        "quiz": _bucket(quiz),
        "levels": {level: _bucket(answers) for level, answers in by_level.items()},
        "topics": {topic: _bucket(by_topic[topic]) for topic in sorted(by_topic)},
        "roleplay": {
            "sessions": len(plays),
            "average_total": sum(p.total for p in plays) / len(plays) if plays else None,
            "dimensions": {name: sum(v) / len(v) for name, v in sorted(dimensions.items())},
            "outcomes": dict(sorted(outcomes.items())),
        },
    }


def trainees(url: str | None = None) -> list[TraineeSummary]:
    """Every trainee with any activity, the most recently active first."""
    with session_scope(url) as session:
        quiz = session.execute(
            select(
                QuizAttempt.trainee_id,
                func.count(),
                func.sum(case((QuizAttempt.correct, 1), else_=0)),
                func.max(QuizAttempt.created_at),
            ).group_by(QuizAttempt.trainee_id)
        ).all()
        plays = session.execute(
            select(
                RoleplayAttempt.trainee_id,
                func.count(),
                func.avg(RoleplayAttempt.total),
                func.max(RoleplayAttempt.created_at),
            ).group_by(RoleplayAttempt.trainee_id)
        ).all()
    quiz_of = {row[0]: row[1:] for row in quiz}
    plays_of = {row[0]: row[1:] for row in plays}
    summaries = []
    for trainee_id in set(quiz_of) | set(plays_of):
        answered, correct, quiz_last = quiz_of.get(trainee_id, (0, 0, None))
        sessions, average, play_last = plays_of.get(trainee_id, (0, None, None))
        answered, correct, sessions = int(answered), int(correct or 0), int(sessions)
        summaries.append(
            TraineeSummary(
                trainee_id,
                answered + sessions,
                answered,
                correct,
                correct / answered if answered else None,
                sessions,
                float(average) if average is not None else None,
                max(t for t in (quiz_last, play_last) if t is not None),
            )
        )
    return sorted(summaries, key=lambda s: (-s.last_active.timestamp(), s.trainee_id))
