"""The NLU data sets: held-out never in training, coverage per intent, domain consistency.

Two held-out slices: `heldout.yml` (written in the training data's style) and
`heldout_colloquial.yml` (the register real shoppers use: typos, no punctuation,
语气词, several messages in one line). Neither may hold an example of the training
data (data/nlu/*.yml plus everything the knowledge files generate), exactly or nearly.
"""

import re
from collections import Counter, defaultdict
from functools import lru_cache

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.nlu.dataset import comparison_key, overlap, plain_text

HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
HELDOUT_COLLOQUIAL = PROJECT_ROOT / "tests" / "nlu" / "heldout_colloquial.yml"
HELDOUT_SLICES = {"heldout": HELDOUT, "heldout_colloquial": HELDOUT_COLLOQUIAL}

#: Two examples are near duplicates when their near keys (comparison key, 语气词 removed,
#: long digit runs reduced to their length) are equal or at most this share of edits apart.
NEAR_RATIO = 0.2
_PARTICLES = re.compile(r"[亲呀啊吗呢哦哈吧啦嘛呗嘞喔咯哒伐]")
_DIGIT_RUN = re.compile(r"\d{4,}")

#: Near duplicates the original slice held when this check was written (issue 16): kept
#: so the check can guard both slices now; remove an entry when its example is rewritten.
#: No new entry may be added: write a different example instead.
KNOWN_NEAR_DUPLICATES = {
    "heldout": frozenset(
        {
            "哈喽亲",
            "早上好哈",
            "掌柜的在不在呀",
            "嗨 请问有人吗",
            "行 我先撤了",
            "byebye亲",
            "886啦",
            "谢啦亲",
            "謝謝啦",
            "可以的呀",
            "是的呀",
            "不用啦",
            "不对哦",
            "不是這個啦",
            "你是不是机器人啊",
            "这是自动回复吧",
            "你是个AI吧",
            "這是真人在打字嗎",
            "你是bot吧 亲",
            "有哪些服务",
            "你会什么",
            "都有什么选项",
            "你能幫我做什麼",
            "客服电话是多少",
            "有没有热线可以打",
            "人工什么时候在线",
            "过年期间客服上班不",
            "退货的话运费谁承担啊",
            "退款一般几天能到账",
            "定制杯子可以退吗",
            "快捷支付怎么开通呀",
            "能发京东快递吗",
            "下单后多久发出",
            "48小时内能发货吗",
            "202403150218",
            "订单号351204876612",
            "尾号3827",
            "手机后四位0615哈",
            "快递单号是YT7730165820431",
            "773016582043175",
            "訂單號210987654321",
            "尾號是5521",
            "order 239745108826 亲",
            "订单号402215987730 手机尾号6620",
            "男朋友生气了怎么哄",
            "推荐一部好看的电视剧",
            "附近有什么好吃的餐厅",
            "qwertyuiopp",
            "啊啊啊呃呃呃",
            "zxcvbnm,./",
            "呼叫中心的分類有哪些",
            "毛衣和羽绒衣哪个更保暖",
            "運動鞋 42碼還有貨嗎",
            "满意 5星",
            "给我出道题",
            "模拟一个催发货的顾客",
            "练习先结束吧",
        }
    ),
    "heldout_colloquial": frozenset(),
}


def near_key(example: str) -> str:
    """Comparison key without 语气词, with each run of 4+ digits replaced by its length."""
    key = _DIGIT_RUN.sub(lambda m: f"#{len(m.group())}", comparison_key(example))
    return _PARTICLES.sub("", key) or key


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of a and b, or limit + 1 as soon as it must exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def near_duplicates(training: list[str], heldout: list[str]) -> list[tuple[str, str]]:
    """(held-out example, training example) pairs that are the same sentence lightly edited:
    other 语气词, script, punctuation or spacing, other digits in an id, or edits in at most
    NEAR_RATIO of the characters."""
    by_length: dict[int, dict[str, str]] = defaultdict(dict)
    for text in training:
        key = near_key(text)
        by_length[len(key)].setdefault(key, text)
    found = []
    for text in heldout:
        key = near_key(text)
        shortest = int(len(key) * (1 - NEAR_RATIO))
        longest = int(len(key) / (1 - NEAR_RATIO)) + 1
        match = next(
            (
                original
                for length in range(shortest, longest + 1)
                for other, original in by_length.get(length, {}).items()
                if _near(key, other)
            ),
            None,
        )
        if match is not None:
            found.append((text, match))
    return found


def _near(key: str, other: str) -> bool:
    if key == other:
        return True
    limit = int(NEAR_RATIO * max(len(key), len(other)))
    return (
        limit > 0
        and len(set(key) - set(other)) <= limit  # each missing character costs an edit
        and edit_distance(key, other, limit) <= limit
    )


@lru_cache(maxsize=1)
def training_texts() -> tuple[str, ...]:
    """Every training example: data/nlu/*.yml and all the knowledge files generate (FAQ
    questions and paraphrases, term questions, every labelled complaint)."""
    from dianxiaoer.knowledge.base import load_entries
    from dianxiaoer.rasa_plugins import knowledge_nlu

    texts = [e.get("text") for e in load_data(str(PROJECT_ROOT / "data" / "nlu")).intent_examples]
    generated = knowledge_nlu.generate(
        load_entries(), set(), knowledge_nlu.complaint_examples(per_type=10**6)
    )
    texts += [t for examples in generated.values() for t in examples]
    return tuple(texts)


@pytest.fixture(scope="module")
def training():
    return load_data(str(PROJECT_ROOT / "data" / "nlu"))


@pytest.fixture(scope="module")
def heldout():
    return load_data(str(HELDOUT))


@pytest.fixture(scope="module")
def colloquial():
    return load_data(str(HELDOUT_COLLOQUIAL))


@pytest.fixture(scope="module")
def domain():
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("slice_name", sorted(HELDOUT_SLICES))
def test_no_heldout_example_is_in_the_training_data(slice_name):
    held = [e.get("text") for e in load_data(str(HELDOUT_SLICES[slice_name])).intent_examples]
    shared = overlap(training_texts(), held)
    assert shared == [], f"{slice_name} examples also in training data: {shared}"


@pytest.mark.parametrize("slice_name", sorted(HELDOUT_SLICES))
def test_no_heldout_example_is_a_near_duplicate_of_training_data(slice_name):
    held = [e.get("text") for e in load_data(str(HELDOUT_SLICES[slice_name])).intent_examples]
    known = KNOWN_NEAR_DUPLICATES[slice_name]
    new = [pair for pair in near_duplicates(list(training_texts()), held) if pair[0] not in known]
    assert new == [], f"{slice_name} examples that lightly edit training examples: {new}"


def test_overlap_check_sees_through_script_and_punctuation():
    assert comparison_key("請問可以退貨嗎？") == comparison_key("请问可以退货吗")
    assert overlap(["用[花呗](payment_method)吗"], ["用花唄嗎!!", "别的"]) == ["用花唄嗎!!"]
    assert plain_text('[花贝]{"entity": "payment_method", "value": "花呗"}') == "花贝"


def test_near_duplicate_check_sees_through_particles_ids_and_small_edits():
    training = ["快递到哪了", "订单号[202611010001](order_id)", "这个耳机防水吗 跑步能戴不"]
    held = [
        "快遞到哪了呀 亲",  # script, 语气词
        "订单号[351204876612](order_id)",  # other digits
        "这个耳机防水不 跑步能戴吗",  # two characters of twelve
        "耳机跑步会掉吗",  # a different sentence
        "订单号[5521](phone_tail)",  # a phone tail is not an order id
    ]
    assert [h for h, _ in near_duplicates(training, held)] == held[:3]


def test_colloquial_slice_covers_every_intent(colloquial, domain):
    counts = Counter(e.get("intent") for e in colloquial.intent_examples)
    assert sum(counts.values()) >= 300
    customer_intents = {i for i in domain["intents"] if not i.startswith("EXTERNAL_")}
    assert set(counts) <= customer_intents, set(counts) - customer_intents
    for intent in customer_intents:
        assert counts[intent] >= 5, f"{intent}: {counts[intent]} colloquial held-out examples"


def test_heldout_has_at_least_ten_examples_per_intent(heldout, domain):
    counts = Counter(e.get("intent") for e in heldout.intent_examples)
    for intent in domain["intents"]:
        if intent.startswith("EXTERNAL_"):  # sent by reminders, not by customers
            continue
        assert counts[intent] >= 10, f"{intent}: {counts[intent]} held-out examples"


def test_every_domain_intent_is_trained_and_nothing_else(training, domain):
    customer_intents = {i for i in domain["intents"] if not i.startswith("EXTERNAL_")}
    assert set(training.intents) == customer_intents
    counts = Counter(e.get("intent") for e in training.intent_examples)
    assert min(counts.values()) >= 40


def test_training_data_is_realistic_chinese_shopper_text(training):
    texts = [e.get("text") for e in training.intent_examples]
    traditional = [t for t in texts if comparison_key(t) != re.sub(r"\s+", "", t.lower())]
    assert len(traditional) >= 30  # traditional characters, full-width, punctuation variants
    assert any("花贝" in t for t in texts) and any("亲" in t for t in texts)


def test_responses_used_only_by_actions_are_really_used():
    """`rasa data validate` lists responses that no rule/story names; each of them must
    be uttered by a custom action or the NLG, or it is dead wording."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    stories = "".join(p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "data").rglob("*.yml"))
    # the actions, the NLG, the shop rules and the web app (agent joined, hand-back, rating,
    # callback messages) name the responses they utter
    code = "".join(
        p.read_text(encoding="utf-8")
        for folder in ("actions", "dianxiaoer", "webapp")
        for p in sorted((PROJECT_ROOT / folder).rglob("*.py"))
    )
    form_questions = {
        f"utter_ask_{slot}"
        for form in (domain.get("forms") or {}).values()
        for slot in form["required_slots"]
    }
    for name in domain["responses"]:
        if name == "utter_default":  # uttered by Rasa's own action_default_fallback
            continue
        if name in form_questions:  # asked by the form itself
            continue
        if name.startswith(
            (
                "utter_return_excluded_",
                "utter_payment_failed_",
                "utter_motive_",
                "utter_return_status_",
                "utter_invoice_not_",
                "utter_quality_",
                "utter_aftersale_ticket_",
                "utter_complaint_",
                "utter_winback_",
                "utter_problem_",  # dianxiaoer.shop.problems.response_for (test_problems.py)
            )
        ):
            # built from a reason code: f"utter_return_{reason}", checked in action tests
            continue
        assert f"action: {name}" in stories or f'"{name}"' in code, f"{name} is never uttered"
