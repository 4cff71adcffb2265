"""What a scripted trainee types for a quiz question: the right answer or a wrong one."""

from __future__ import annotations

from dianxiaoer.coaching import quiz


def right_answer(q: quiz.Question) -> str:
    """The answer that scores 1: the letter, the whole list, 对/错, or the key sentence."""
    if q.kind == "list_recall":
        return "、".join(q.items)
    if q.kind == "true_false":
        return q.answer
    if q.kind == "explain":
        return q.answer.replace("____", q.reference.split("】")[0][1:])
    return "ABCD"[q.options.index(q.answer)]


def wrong_answer(q: quiz.Question) -> str:
    """An answer that scores 0."""
    if q.kind in ("list_recall", "explain"):
        return "这个我还没背下来"
    if q.kind == "true_false":
        return "错" if q.answer == "对" else "对"
    return next("ABCD"[i] for i, option in enumerate(q.options) if option != q.answer)
