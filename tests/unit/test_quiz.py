"""Quiz generation from the knowledge files, scoring and spaced repetition."""

import random
from datetime import datetime, timedelta

import pytest

from dianxiaoer import quiz
from dianxiaoer.knowledge import load_entries
from dianxiaoer.policy import get_policy


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
