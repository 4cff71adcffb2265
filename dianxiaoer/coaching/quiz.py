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
from functools import lru_cache

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.text import normalize
from dianxiaoer.knowledge.base import Entry, load_entries

OPTIONS = 4
#: Days until a question is due again, by Leitner box (0 = just missed).
BOX_DAYS = (0, 1, 3, 7, 21)


@dataclass(frozen=True)
class Question:
    """One quiz question."""

    id: str
    # term_to_meaning, meaning_to_term, explain, en_to_zh, zh_to_en, list_recall, true_false
    kind: str
    prompt: str
    answer: str  # the correct option's text, the list title, the key sentence, or "对"/"错"
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
    if entry.level == 3:
        # ★★★ 掌握: the trainee must be able to explain it, not only recognise it
        questions.append(
            Question(
                f"{entry.id}:explain",
                "explain",
                f"请用自己的话解释“{entry.title}”。",
                meaning(entry),
                (),
                reference,
                (),
                entry.id,
                entry.topic or "",
                weight(entry),
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
    if question.kind == "explain":
        return explanation_score(text, question.answer)
    return overlap(text, question.reference)


#: Share of the key sentence's character pairs an explanation must contain for full marks
#: (a paraphrase keeps about half of them; an unrelated answer almost none).
EXPLAIN_FULL_MARKS = 0.5


def explanation_score(answer: str, key: str) -> float:
    """0-1 for a free-text explanation: how much of the key definition it covers."""
    wanted = {b for b in _bigrams(key.replace("____", " ")) if len(b) == 2}
    if not wanted:
        return 0.0
    covered = len(wanted & _bigrams(answer)) / len(wanted)
    return round(min(1.0, covered / EXPLAIN_FULL_MARKS), 3)


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


@lru_cache(maxsize=1)
def bank() -> tuple[Question, ...]:
    """The question bank of the shipped knowledge files and policy (built once per process)."""
    return tuple(generate(load_entries(), get_policy()))


def question(question_id: str) -> Question | None:
    """A question of the bank by id (None when the knowledge changed under a running quiz)."""
    return _by_id().get(question_id)


@lru_cache(maxsize=1)
def _by_id() -> dict[str, Question]:
    return {q.id: q for q in bank()}


#: What a trainee may ask for, by words in the request, and the question kinds it means.
FOCUS_WORDS = (
    ("english", ("英文", "英语", "english", "翻译"), ("en_to_zh", "zh_to_en")),
    ("exam", ("考试", "考题", "试题", "考点", "exam"), None),
    ("list", ("列举", "背诵", "有哪些", "默写"), ("list_recall",)),
    ("policy", ("判断", "政策", "规则", "对错"), ("true_false",)),
    ("term", ("术语", "名词", "概念", "term"), ("term_to_meaning", "meaning_to_term", "explain")),
)


#: How a round is introduced, by focus.
FOCUS_NAMES = {
    "english": "英文术语测验",
    "exam": "考试要点测验",
    "list": "列举题练习",
    "policy": "政策判断题",
    "term": "术语测验",
    "mixed": "综合测验",
}
#: Topic shown for questions whose entry has none, by entry kind (policy facts: no entry).
DEFAULT_TOPICS = {
    "exam": "客服管理考点",
    "glossary": "双语术语",
    "term": "电商客服",
    "policy": "店铺政策",
}


def topic_of(q: Question) -> str:
    """The question's topic, or its kind's default (for mastery per topic)."""
    kind = q.entry_id.split(".", 1)[0] if q.entry_id else "policy"
    return q.topic or DEFAULT_TOPICS.get(kind, DEFAULT_TOPICS["term"])


STAR_NAMES = {1: "★了解", 2: "★★理解", 3: "★★★掌握"}


def level_of(q: Question) -> int:
    """The ★ level a question counts for.

    The seed's level for terms, 理解 (2) for exam points and glossary, 0 for the policy
    facts (their own mastery bucket).
    """
    return 0 if q.kind == "true_false" else q.weight


def stars(q: Question) -> str:
    """The ★ label shown with a question (policy facts are must-know: ★★★)."""
    return STAR_NAMES.get(level_of(q) or q.weight, STAR_NAMES[2])


def answer_text(q: Question) -> str:
    """The right answer as told after a miss: letter and option, the list, or 对/错."""
    if q.kind == "list_recall":
        return "、".join(q.items)
    if q.options and q.kind != "true_false":
        # the reply template ends the sentence itself
        return f"{chr(65 + q.options.index(q.answer))}. {q.answer.rstrip('。；;')}"
    return q.answer


def weak_topics(question_ids: list[str], scores: list[float]) -> list[str]:
    """Topics of the questions missed in a round, in order, without repeats."""
    topics: list[str] = []
    for qid, value in zip(question_ids, scores, strict=False):
        q = question(qid)
        if q is not None and not is_correct(value):
            topic = topic_of(q)
            if topic not in topics:
                topics.append(topic)
    return topics


def focus_of(text: str) -> str:
    """The quiz focus a trainee asked for ("mixed" when the request names none)."""
    lowered = normalize(text or "").text.lower()
    for focus, words, _kinds in FOCUS_WORDS:
        if any(word in lowered for word in words):
            return focus
    return "mixed"


def _in_focus(q: Question, focus: str) -> bool:
    if focus == "exam":
        return q.entry_id.startswith("exam.")
    for name, _words, kinds in FOCUS_WORDS:
        if name == focus and kinds:
            return q.kind in kinds
    return True


def new_round(progress: Progress, now: datetime, focus: str, length: int, seed: int) -> list[str]:
    """Question ids for one round: due misses first, then ★-weighted picks, no repeats."""
    rng = random.Random(seed)
    pool = [q for q in bank() if _in_focus(q, focus)] or list(bank())
    chosen: list[str] = []
    used_entries: set[str] = set()
    for _ in range(length * 4):
        if len(chosen) == length:
            break
        # one question per entry and round, so the options of one don't answer another
        candidates = [q for q in pool if q.id not in chosen and q.entry_id not in used_entries]
        if not candidates:
            break
        picked = pick(candidates, progress, now, rng)
        if picked is None:
            # everything is scheduled later: practise the earliest due anyway
            picked = min(candidates, key=lambda q: progress.due.get(q.id, now))
        chosen.append(picked.id)
        if picked.entry_id:
            used_entries.add(picked.entry_id)
    return chosen


def option_lines(q: Question) -> str:
    """The options as "A. …" lines (empty for free-text and list questions)."""
    if q.kind == "true_false" or not q.options:
        return ""
    return "\n".join(f"{chr(65 + i)}. {option}" for i, option in enumerate(q.options))


def option_payloads(q: Question) -> list[tuple[str, str]]:
    """(title, payload) per option button: letters for choices, 对/错 for true/false."""
    if q.kind == "true_false":
        return [("对", "对"), ("错", "错")]
    return [(chr(65 + i), chr(65 + i)) for i in range(len(q.options))]


def is_correct(value: float) -> bool:
    """Whether a score counts as right (policy `training.pass_score`)."""
    return value >= float(get_policy()["training.pass_score"])
