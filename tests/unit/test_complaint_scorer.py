"""The complaint psychology scorer, anger, escalation, ratings and the 话术规范 lint."""

from pathlib import Path

import pytest
import yaml

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.nlu.dataset import comparison_key
from dianxiaoer.nlu.evaluation import psychology_accuracy
from dianxiaoer.shop import complaints
from dianxiaoer.shop.complaints import Assessment, assess, escalation_reason, rating_from_text

HELDOUT = PROJECT_ROOT / "tests" / "complaints" / "heldout.yml"


def test_labelled_sets_are_large_enough_and_disjoint():
    train = complaints.load_examples()
    held = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    assert set(train) == set(held) == set(complaints.TYPES)
    assert all(len(held[t]) >= 12 for t in complaints.TYPES)
    train_keys = {comparison_key(m) for messages in train.values() for m in messages}
    assert not train_keys & {comparison_key(m) for messages in held.values() for m in messages}


def test_psychology_accuracy_on_the_held_out_set_meets_the_gate():
    accuracy, total, misses, per_type = psychology_accuracy(HELDOUT)
    print(f"held-out complaint psychology accuracy: {accuracy:.3f} ({total})")
    assert accuracy >= 0.8, misses
    assert min(per_type.values()) >= 0.6, per_type


@pytest.mark.parametrize(
    ("text", "primary"),
    [
        ("什么破东西，气死我了，太失望了", "venting"),
        ("我是你们的老客户了，叫你们主管出来跟我说话", "respect"),
        ("东西坏了，必须给我退款，运费也要赔", "remedy"),
        ("明明就是你们发错货了，你们承认不承认", "recognition"),
        ("我做了十年电商，建议你们把包装流程改进一下", "showing"),
        ("再不处理我就去12315投诉，还要发微博曝光你们", "revenge"),
    ],
)
def test_each_type_is_recognised(text, primary):
    assert assess(text).primary == primary


def test_anger_and_threats():
    calm = assess("你们发货有点慢，希望快一点")
    furious = assess("气死我了！！什么垃圾东西，骗子店")
    threat = assess("不退钱我就给差评，再去12315投诉你们")
    assert calm.anger < furious.anger and furious.anger >= 2
    assert threat.threat and not furious.threat and threat.anger >= 2


def test_secondary_types_are_reported():
    result = assess("东西是坏的，明明是你们的问题，必须给我补偿")
    assert {"remedy", "recognition"} <= set(result.types)


def test_escalation_decision():
    angry = Assessment(("venting",), anger=2)
    assert escalation_reason(angry, angry_in_a_row=1) is None
    assert escalation_reason(angry, angry_in_a_row=2) == "anger"
    assert escalation_reason(Assessment(("remedy",), threat=True), 0) == "threat"
    assert escalation_reason(Assessment(("revenge",)), 0) == "threat"
    assert escalation_reason(Assessment(("respect",)), 3, turns_to_escalate=4) is None
    assert complaints.angry_turns(1, 2) == 2 and complaints.angry_turns(1, 1) == 0


def test_priority():
    assert complaints.priority(Assessment(("revenge",), anger=3, threat=True), True) == "urgent"
    assert complaints.priority(Assessment(("venting",), anger=2), False) == "high"
    assert complaints.priority(Assessment(("recognition",), anger=0), False) == "normal"
    assert complaints.priority(Assessment(("respect",), anger=0), False) == "high"


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5分", 5),
        ("五星好评", 5),
        ("非常满意", 5),
        ("满意", 4),
        ("一般般", 3),
        ("不满意", 2),
        ("非常不满意", 1),
        ("打个2分", 2),
        ("好的", None),
    ],
)
def test_rating_from_text(text, score):
    assert rating_from_text(text) == score


def _responses(domain_file: Path) -> dict[str, list[dict]]:
    return yaml.safe_load(domain_file.read_text(encoding="utf-8"))["responses"]


def test_no_response_breaks_the_service_language_rules():
    """话术规范: every variation has text, and none uses a phrase the policy forbids."""
    forbidden = get_policy()["complaints.forbidden_phrases"]
    assert forbidden
    for name, variations in _responses(PROJECT_ROOT / "domain.yml").items():
        assert variations, name
        for variation in variations:
            text = str(variation.get("text") or "").strip()
            assert text, f"{name} has an empty variation"
            for phrase in forbidden:
                assert phrase not in text, f"{name} says {phrase!r}"
            for button in variation.get("buttons") or []:
                assert not any(p in str(button.get("title")) for p in forbidden), name


def test_every_psychology_has_a_strategy_and_a_reply():
    responses = _responses(PROJECT_ROOT / "domain.yml")
    for kind in complaints.TYPES:
        assert f"utter_complaint_{kind}" in responses
        assert complaints.STRATEGY[kind]["summary"]
    for reason in ("threat", "anger"):
        assert f"utter_complaint_escalated_{reason}" in responses
    for cause in complaints.CHURN_CAUSES:
        assert f"utter_winback_{cause}" in responses


FLATTERY = ("showing", "recognition")


@pytest.mark.parametrize(
    "text",
    [
        # problem reports, anger and threats: never praised for expertise or agreed with
        "收到的杯子是用过的，杯底还有水渍，你们怎么回事",
        "鞋子穿了一天就开胶，做工也太差了吧",
        "你们这种店我直接拉黑，再也不来了",
        "卖假货的骗子，我要申请平台介入",
        "你们客服态度太差了，我要投诉她",
        "耳机少了一个耳塞，包装也是破的",
        "什么玩意儿！！气死了，专业个屁",
        "我懂行的好吧，这明显是翻新机，骗子！！",
        "不给退我就给差评，再去12315",
    ],
)
def test_anger_threats_and_problem_reports_never_get_flattering_strategies(text):
    result = assess(text)
    assert not set(result.types) & set(FLATTERY), (text, result.types, result.scores)


@pytest.mark.parametrize(
    ("text", "primary"),
    [
        ("我在服装厂干了八年，建议你们换个厚点的面料，下次注意", "showing"),
        ("说句实在话，你们的包装可以改进一下，纸箱太薄了", "showing"),
        ("明明是你们发错了尺码，你们就说是不是吧", "recognition"),
        ("我有截图为证，是你们写错了价格，这个事实你们得认", "recognition"),
        # a remedy turned down is no wish for one: the customer wants to be proved right
        ("钱我不要了 赔偿也不用 你们认个错就是你们的错", "recognition"),
    ],
)
def test_advice_and_claims_of_being_right_keep_their_strategies(text, primary):
    assert assess(text).primary == primary


def test_blocking_threats_escalate():
    result = assess("再这样我就拉黑你们店，还要申请平台介入")
    assert result.threat
    assert complaints.escalation_reason(result, 0) == "threat"


def test_declined_remedies_do_not_count_as_remedy_cues():
    assert complaints.lexicon_scores("我不要退款也不要赔偿")["remedy"] == 0
    assert complaints.lexicon_scores("给我退款")["remedy"] > 0
