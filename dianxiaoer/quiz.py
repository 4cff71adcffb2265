"""Quiz questions generated from the knowledge files (training mode for new staff).

Nothing is written per question: every question comes from a knowledge entry or a policy
value, so a new term or a changed policy figure changes the quiz by itself.

Kinds: term → meaning and meaning → term (multiple choice, distractors from the same
topic, then the same kind), English ↔ Chinese for the glossary, list recall (scored by
the items recalled), true/false on policy facts. Weights follow the seed's ★ levels
(★★★ 掌握 3, ★★ 理解 2, ★ 了解 1; exam points and glossary 2). Misses come back sooner
(Leitner boxes per trainee and question).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dianxiaoer.knowledge import Entry
from dianxiaoer.text import normalize

OPTIONS = 4
#: Days until a question is due again, by Leitner box (0 = just missed).
BOX_DAYS = (0, 1, 3, 7, 21)


@dataclass(frozen=True)
class Question:
    """One quiz question."""

    id: str
    kind: str  # term_to_meaning, meaning_to_term, en_to_zh, zh_to_en, list_recall, true_false
    prompt: str
    answer: str  # the correct option's text, the list title, or "对"/"错"
    options: tuple[str, ...] = ()
    reference: str = ""  # shown after the answer
    items: tuple[str, ...] = ()  # list recall: the items to recall
    entry_id: str = ""
    topic: str = ""
    weight: int = 2


def first_sentence(text: str, limit: int = 60) -> str:
    """The first sentence of an explanation, for an option."""
    sentence = re.split(r"(?<=[。；;！？])", text.strip(), maxsplit=1)[0].strip()
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def masked(text: str, names: tuple[str, ...]) -> str:
    """The text with the entry's names blanked out (meaning → term must not give it away)."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "____")
    return text


def weight(entry: Entry) -> int:
    """★ level for terms; exam points and glossary count as 理解."""
    return entry.level or 2


def _distractors(entry: Entry, pool: list[Entry], value, rng: random.Random) -> list[str]:
    """Up to OPTIONS-1 different wrong options: same topic first, then the same kind."""
    right = value(entry)
    same_topic = [e for e in pool if e.id != entry.id and e.topic and e.topic == entry.topic]
    same_kind = [e for e in pool if e.id != entry.id and e.kind == entry.kind]
    picked: list[str] = []
    for group in (same_topic, same_kind):
        group = group[:]
        rng.shuffle(group)
        for other in group:
            text = value(other)
            if text and text != right and text not in picked:
                picked.append(text)
            if len(picked) == OPTIONS - 1:
                return picked
    return picked


def _choice(qid, kind, prompt, right, wrong, rng, entry, reference) -> Question:
    options = [right, *wrong]
    rng.shuffle(options)
    return Question(
        qid,
        kind,
        prompt,
        right,
        tuple(options),
        reference,
        (),
        entry.id,
        entry.topic or "",
        weight(entry),
    )


def entry_questions(entry: Entry, pool: list[Entry], rng: random.Random) -> list[Question]:
    """Every question an entry yields."""
    questions: list[Question] = []
    meaning = lambda e: first_sentence(masked(e.explanation, e.names))  # noqa: E731
    title = lambda e: e.title  # noqa: E731
    reference = f"【{entry.title}】{entry.explanation}"
    wrong = _distractors(entry, pool, meaning, rng)
    if len(wrong) >= 2:
        questions.append(
            _choice(
                f"{entry.id}:t2m",
                "term_to_meaning",
                f"“{entry.title}”指的是？",
                meaning(entry),
                wrong,
                rng,
                entry,
                reference,
            )
        )
    wrong = _distractors(entry, pool, title, rng)
    if len(wrong) >= 2:
        questions.append(
            _choice(
                f"{entry.id}:m2t",
                "meaning_to_term",
                f"下面说的是哪个概念？\n{meaning(entry)}",
                entry.title,
                wrong,
                rng,
                entry,
                reference,
            )
        )
    if entry.kind == "glossary" and entry.title_en:
        english = [e for e in pool if e.kind == "glossary"]
        wrong = _distractors(entry, english, title, rng)
        questions.append(
            _choice(
                f"{entry.id}:en2zh",
                "en_to_zh",
                f"“{entry.title_en}” 的中文术语是？",
                entry.title,
                wrong,
                rng,
                entry,
                reference,
            )
        )
        wrong = _distractors(entry, english, lambda e: e.title_en or "", rng)
        questions.append(
            _choice(
                f"{entry.id}:zh2en",
                "zh_to_en",
                f"“{entry.title}” 的英文是？",
                entry.title_en,
                wrong,
                rng,
                entry,
                reference,
            )
        )
    for n, lst in enumerate(entry.lists):
        items = tuple(i.name for i in lst.items if i.name)
        if len(items) >= 2:
            # a list titled "三种手段" needs its entry to make sense as a question
            if not lst.title:
                what = entry.title
            elif entry.title in lst.title:
                what = lst.title
            else:
                what = f"{entry.title}——{lst.title}"
            questions.append(
                Question(
                    f"{entry.id}:list{n}",
                    "list_recall",
                    f"{what}有哪{len(items)}项？请尽量写全。",
                    what,
                    (),
                    f"【{what}】" + "、".join(items),
                    items,
                    entry.id,
                    entry.topic or "",
                    weight(entry),
                )
            )
    return questions


def policy_questions(policy) -> list[Question]:
    """True/false questions on the shop's policy figures (a wrong variant for each)."""
    hours = policy["returns.no_reason_hours"]
    excluded = policy["returns.excluded_categories"]
    refund = policy["returns.refund_within_days"]
    ship = policy["shipping.ship_within_hours"]
    facts = [
        (
            "return_window",
            f"七天无理由退货从{policy['returns.window_starts']}起算，满{hours}小时为止。",
            f"七天无理由退货从签收当时起算，满{hours - 24}小时为止。",
        ),
        (
            "excluded",
            f"{excluded[0]}不适用七天无理由退货。",
            f"{excluded[0]}也可以七天无理由退货。",
        ),
        ("refund", f"退货仓库签收后{refund}天内退款。", f"退货仓库签收后{refund + 7}天内退款。"),
        ("ship", f"付款后{ship}小时内发货。", f"付款后{ship * 3}小时内发货。"),
    ]
    questions = []
    for key, true, false in facts:
        reference = f"正确说法：{true}"
        questions.append(
            Question(
                f"policy:{key}:t",
                "true_false",
                f"判断对错：{true}",
                "对",
                ("对", "错"),
                reference,
                weight=3,
            )
        )
        questions.append(
            Question(
                f"policy:{key}:f",
                "true_false",
                f"判断对错：{false}",
                "错",
                ("对", "错"),
                reference,
                weight=3,
            )
        )
    return questions


def generate(entries: list[Entry], policy, seed: int = 7) -> list[Question]:
    """The whole question bank (FAQ entries are shop answers, not terms: left out)."""
    rng = random.Random(seed)
    pool = [e for e in entries if e.kind != "faq"]
    questions = [q for e in pool for q in entry_questions(e, pool, rng)]
    return questions + policy_questions(policy)


def _bigrams(text: str) -> set[str]:
    chars = [c for c in normalize(text).text.lower() if c.isalnum()]
    return {"".join(chars[i : i + 2]) for i in range(len(chars) - 1)} | set(chars)


def overlap(answer: str, reference: str) -> float:
    """Character-bigram F1 between a free-text answer and the reference (0-1)."""
    a, r = _bigrams(answer), _bigrams(reference)
    if not a or not r:
        return 0.0
    common = len(a & r)
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(r)
    return 2 * precision * recall / (precision + recall)


def score(question: Question, answer: str) -> float:
    """0-1: exact for choices (option text or its letter A-D), items recalled for lists."""
    text = normalize(str(answer or "")).text.strip()
    if question.kind == "list_recall":
        found = sum(1 for item in question.items if overlap(text, item) >= 0.6 or item in text)
        return found / len(question.items)
    if question.options:
        letters = {chr(65 + i): option for i, option in enumerate(question.options)}
        chosen = letters.get(text.upper()[:1], text) if len(text) <= 2 else text
        if chosen == question.answer:
            return 1.0
        return 1.0 if overlap(chosen, question.answer) >= 0.8 else 0.0
    return overlap(text, question.reference)


@dataclass
class Progress:
    """A trainee's Leitner box and due time per question."""

    boxes: dict[str, int] = field(default_factory=dict)
    due: dict[str, datetime] = field(default_factory=dict)

    def record(self, question_id: str, correct: bool, now: datetime) -> None:
        """Up a box when right, back to 0 (due at once) when wrong."""
        box = min(self.boxes.get(question_id, 0) + 1, len(BOX_DAYS) - 1) if correct else 0
        self.boxes[question_id] = box
        self.due[question_id] = now + timedelta(days=BOX_DAYS[box])


def pick(questions: list[Question], progress: Progress, now: datetime, rng: random.Random):
    """The next question: due misses first, then new or due ones weighted by ★ level."""
    due = [q for q in questions if q.id in progress.due and progress.due[q.id] <= now]
    missed = [q for q in due if progress.boxes.get(q.id) == 0]
    if missed:
        return min(missed, key=lambda q: progress.due[q.id])
    candidates = due + [q for q in questions if q.id not in progress.due]
    if not candidates:
        return None
    return rng.choices(candidates, weights=[q.weight for q in candidates], k=1)[0]
