"""Quiz generation from the knowledge files, scoring and spaced repetition."""

import random
from datetime import datetime, timedelta

import pytest

from dianxiaoer.coaching import quiz
from dianxiaoer.core.policy import get_policy
from dianxiaoer.knowledge.base import load_entries


@pytest.fixture(scope="module")
def bank():
    return quiz.generate(load_entries(), get_policy())


def test_every_three_star_item_and_every_list_is_asked(bank):
    entries = load_entries()
    asked = {q.entry_id for q in bank}
    for entry in entries:
        if entry.level == 3:
            assert entry.id in asked, entry.id
    listed = {q.entry_id for q in bank if q.kind == "list_recall"}
    assert {e.id for e in entries if e.lists and e.kind != "faq"} <= listed


def test_distractors_are_never_the_right_answer_and_differ(bank):
    choices = [q for q in bank if q.options and q.kind != "true_false"]
    assert len(choices) > 150
    for q in choices:
        assert q.options.count(q.answer) == 1, q.id
        assert len(set(q.options)) == len(q.options), q.id


def test_meaning_options_do_not_give_the_term_away(bank):
    for q in bank:
        if q.kind == "meaning_to_term":
            assert q.answer not in q.prompt, q.id


def test_glossary_is_asked_both_ways_and_policy_facts_true_and_false(bank):
    kinds = {q.kind for q in bank}
    assert {"en_to_zh", "zh_to_en", "list_recall", "true_false"} <= kinds
    window = [q for q in bank if q.id.startswith("policy:return_window")]
    assert {q.answer for q in window} == {"对", "错"}
    assert any("168" in q.prompt for q in window)


def test_scoring_choices_lists_and_free_text(bank):
    q = next(q for q in bank if q.kind == "meaning_to_term")
    letter = "ABCD"[q.options.index(q.answer)]
    assert quiz.score(q, letter) == 1.0 and quiz.score(q, q.answer) == 1.0
    wrong = next(o for o in q.options if o != q.answer)
    assert quiz.score(q, wrong) == 0.0
    lst = next(q for q in bank if q.kind == "list_recall" and len(q.items) >= 4)
    half = "、".join(lst.items[: len(lst.items) // 2])
    assert quiz.score(lst, "、".join(lst.items)) == 1.0
    assert 0.3 <= quiz.score(lst, half) <= 0.7
    assert quiz.score(lst, "不知道") == 0.0
    free = quiz.Question(
        "x", "free", "什么是转换成本？", "", reference="客户从一个商家换到另一个商家要付出的代价"
    )
    assert quiz.score(free, "顾客换一家店时要付出的代价") > quiz.score(free, "今天天气不错")


def test_misses_come_back_first_and_stars_weigh(bank):
    now = datetime(2026, 11, 25, 10)
    progress = quiz.Progress()
    missed = bank[5]
    progress.record(missed.id, False, now)
    progress.record(bank[6].id, True, now)
    assert quiz.pick(bank, progress, now, random.Random(1)) == missed
    progress.record(missed.id, True, now)
    assert progress.due[missed.id] == now + timedelta(days=1)
    rng = random.Random(3)
    picks = [quiz.pick(bank, quiz.Progress(), now, rng) for _ in range(600)]
    three = sum(q.weight == 3 for q in picks) / sum(q.weight == 3 for q in bank)
    one = sum(q.weight == 1 for q in picks) / max(1, sum(q.weight == 1 for q in bank))
    assert three > one


def test_a_round_follows_the_focus_and_asks_each_entry_once():
    now = datetime(2026, 11, 25, 10)
    english = quiz.new_round(quiz.Progress(), now, "english", 5, seed=1)
    assert len(english) == 5
    questions = [quiz.question(i) for i in english]
    assert {q.kind for q in questions} <= {"en_to_zh", "zh_to_en"}
    assert len({q.entry_id for q in questions}) == 5
    exam = [quiz.question(i) for i in quiz.new_round(quiz.Progress(), now, "exam", 5, seed=2)]
    assert all(q.entry_id.startswith("exam.") for q in exam)
    policy = [quiz.question(i) for i in quiz.new_round(quiz.Progress(), now, "policy", 3, seed=3)]
    assert {q.kind for q in policy} == {"true_false"}


def test_a_missed_question_opens_the_next_round():
    now = datetime(2026, 11, 25, 10)
    progress = quiz.Progress()
    missed = next(q for q in quiz.bank() if q.kind == "meaning_to_term")
    progress.record(missed.id, False, now - timedelta(hours=1))
    assert quiz.new_round(progress, now, "mixed", 5, seed=4)[0] == missed.id


def test_focus_words_and_feedback_texts():
    assert quiz.focus_of("开始术语测验") == "term"
    assert quiz.focus_of("來幾道考試題") == "exam"
    assert quiz.focus_of("英文术语测验") == "english"
    assert quiz.focus_of("来几道判断题") == "policy"
    assert quiz.focus_of("考考我") == "mixed"
    choice = next(q for q in quiz.bank() if q.kind == "term_to_meaning")
    letter = "ABCD"[choice.options.index(choice.answer)]
    assert quiz.answer_text(choice) == f"{letter}. {choice.answer.rstrip('。；;')}"
    assert quiz.option_lines(choice).splitlines()[0].startswith("A. ")
    listed = next(q for q in quiz.bank() if q.kind == "list_recall")
    assert quiz.answer_text(listed) == "、".join(listed.items)
    assert quiz.option_lines(listed) == "" and quiz.option_payloads(
        next(q for q in quiz.bank() if q.kind == "true_false")
    ) == [("对", "对"), ("错", "错")]
    three = next(q for q in quiz.bank() if q.entry_id.startswith("term.") and q.weight == 3)
    assert quiz.stars(three) == "★★★掌握" and quiz.level_of(three) == 3


def test_weak_topics_are_the_missed_ones_in_order():
    qs = [q for q in quiz.bank() if q.topic][:40]
    first = qs[0]
    other = next(q for q in qs if q.topic != first.topic)
    ids = [first.id, other.id, qs[1].id]
    assert quiz.weak_topics(ids, [0.0, 1.0, 0.0]) == [first.topic] + (
        [] if qs[1].topic == first.topic else [qs[1].topic]
    )
    assert quiz.weak_topics(ids, [1.0, 0.7, 0.6]) == []


def test_three_star_terms_are_explained_in_free_text_and_scored_by_coverage(bank):
    explain = {q.entry_id: q for q in bank if q.kind == "explain"}
    three_star = [e for e in load_entries() if e.level == 3]
    assert set(explain) == {e.id for e in three_star}
    q = explain.get("term.有效沟通") or next(iter(explain.values()))
    assert q.answer and q.answer not in q.prompt and "____" not in q.prompt
    # the key sentence itself, a paraphrase keeping its substance, an unrelated answer
    assert quiz.score(q, q.answer.replace("____", q.reference.split("】")[0][1:])) == 1.0
    words = q.answer.replace("____", "").rstrip("…。")
    half = words[: len(words) // 2]
    assert 0.3 <= quiz.score(q, half) <= 1.0
    assert quiz.score(q, "今天天气不错，我们去吃饭吧") < 0.3
    assert quiz.score(q, "") == 0.0
    assert quiz.answer_text(q) == q.answer and quiz.option_lines(q) == ""
