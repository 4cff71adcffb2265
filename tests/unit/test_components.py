"""The custom Rasa NLU components, on real Rasa Message/TrainingData objects."""

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from dianxiaoer.rasa_plugins.nlu_components import (
    GIBBERISH_INTENT,
    InputGuard,
    TextNormalizer,
    VocabularyEntityExtractor,
)


@pytest.fixture(scope="module")
def extractor():
    return VocabularyEntityExtractor({"vocabulary_file": None})


def test_normalizer_rewrites_text_and_keeps_the_original():
    message = Message(data={"text": "請問支援花唄嗎？？"})
    TextNormalizer({"max_chars": 300}).process([message])
    assert message.get("text") == "请问支援花呗吗?"
    info = message.get("input")
    assert info == {
        "original": "請問支援花唄嗎？？",
        "script": "traditional",
        "truncated": False,
        "meaningful": True,
    }
    assert "input" in message.as_dict(only_output_properties=True)


def test_normalizer_uses_policy_limit_by_default():
    message = Message(data={"text": "我想退货" * 250})
    TextNormalizer({"max_chars": None}).process([message])
    assert message.get("input")["truncated"] and len(message.get("text")) == 300


def test_training_entities_move_with_the_text():
    text = "亲   能用  花唄嗎"
    start = text.index("花唄")
    example = Message(
        data={
            "text": text,
            "intent": "ask_payment_methods",
            "entities": [
                {"entity": "payment_method", "start": start, "end": start + 2, "value": "花呗"}
            ],
        }
    )
    TextNormalizer({"max_chars": 300}).process_training_data(TrainingData([example]))
    new = example.get("text")
    entity = example.get("entities")[0]
    assert new == "亲 能用 花呗吗"
    assert new[entity["start"] : entity["end"]] == "花呗"


def test_messages_without_text_are_left_alone():
    message = Message(data={"intent": "greet"})
    TextNormalizer({"max_chars": 300}).process_training_data(TrainingData([message]))
    assert message.get("text") is None


def test_vocabulary_entities_with_canonical_values(extractor):
    found = extractor.extract("我用花贝买了蓝牙耳机，发顺风吗，支持七天无理由退货吗")
    values = {(e["entity"], e["value"]) for e in found}
    assert ("payment_method", "花呗") in values
    assert ("product", "蓝牙耳机") in values
    assert ("courier", "顺丰") in values
    assert ("policy_term", "七天无理由") in values
    for e in found:
        assert e["start"] < e["end"]


def test_vocabulary_extractor_adds_its_name(extractor):
    message = Message(data={"text": "可以用网银吗"})
    extractor.process([message])
    (entity,) = message.get("entities")
    assert entity["entity"] == "payment_method" and entity["value"] == "网银"
    assert entity["extractor"] == "VocabularyEntityExtractor"


def test_new_vocabulary_needs_no_retraining(tmp_path):
    vocab = tmp_path / "vocabulary.yml"
    vocab.write_text("product:\n  - name: 电热毯\n    synonyms: [电褥子]\n", encoding="utf-8")
    fresh = VocabularyEntityExtractor({"vocabulary_file": str(vocab)})
    assert [(e["entity"], e["value"]) for e in fresh.extract("电褥子有货吗")] == [
        ("product", "电热毯")
    ]


def guarded(text: str, intent: str, confidence: float = 0.9, **data) -> Message:
    """`text` normalized, classified as `intent` (plus `data`: ranking, entities), guarded."""
    message = Message(data={"text": text})
    TextNormalizer({"max_chars": 300}).process([message])
    message.set("intent", {"name": intent, "confidence": confidence})
    for key, value in data.items():
        message.set(key, value)
    InputGuard({}).process([message])
    return message


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "？？？"])
def test_guard_labels_meaningless_input(text):
    message = guarded(text, "greet")
    assert message.get("intent") == {"name": GIBBERISH_INTENT, "confidence": 1.0}
    assert message.get("entities") == []


def test_guard_leaves_real_messages_alone():
    message = guarded("你好", "greet")
    assert message.get("intent")["name"] == "greet"


@pytest.mark.parametrize(
    "text, entities, expected",
    [
        ("202611010001", [("order_id", 0, 12)], True),
        ("订单号：202611010001", [("order_id", 4, 16)], True),
        ("尾号是1234", [("phone_tail", 3, 7)], True),
        ("SF1234567890123", [("tracking_number", 0, 15)], True),
        ("202611010001 怎么还没到", [("order_id", 0, 12)], False),
        ("我想退货", [], False),
        ("买的连衣裙", [("product", 2, 5)], False),
    ],
)
def test_bare_identifiers(text, entities, expected):
    from dianxiaoer.rasa_plugins.nlu_components import is_bare_identifier

    ents = [{"entity": e, "start": s, "end": t} for e, s, t in entities]
    assert is_bare_identifier(text, ents) is expected


def test_guard_labels_bare_order_numbers_inform():
    order = {"entity": "order_id", "start": 0, "end": 12, "value": "202611010001"}
    message = guarded("202611010001", "nlu_fallback", 0.55, entities=[order])
    assert message.get("intent") == {"name": "inform", "confidence": 1.0}
    assert message.get("entities")  # entities kept


def test_an_order_number_is_not_also_a_tracking_number():
    """A shop's QH… order numbers also match the tracking-number regex: one reading."""
    order = {"entity": "order_id", "start": 3, "end": 16, "value": "QH20261201001"}
    tracking = {**order, "entity": "tracking_number"}
    other = {"entity": "tracking_number", "start": 20, "end": 35, "value": "SF1234567890123"}
    message = Message(data={"text": "那订单QH20261201001呢 SF1234567890123"})
    message.set("intent", {"name": "inform", "confidence": 0.9})
    message.set("entities", [order, tracking, other])
    InputGuard({}).process([message])
    assert message.get("entities") == [order, other]


@pytest.mark.parametrize(
    "text, guess, expected",
    [
        ("你们自己少发了一件", "ask_capabilities", "report_quality_problem"),
        ("嗯 快递三天没动静了 卡在中转站", "affirm", "urge_delivery"),
        ("在吗 显示签收了我却没收到", "greet", "check_order_status"),
        ("付了一次怎么扣了两次钱", "out_of_scope", "report_payment_failure"),
        # a confident reading that is not small talk stays
        ("你们少发了一件", "request_return", "request_return"),
        # thanks that mention a problem are still thanks
        ("谢谢 少发的那件收到了", "thank", "thank"),
        # no problem named: the guess stays
        ("你都会干啥", "ask_capabilities", "ask_capabilities"),
    ],
)
def test_a_problem_report_read_as_small_talk_is_the_problem(text, guess, expected):
    message = guarded(text, guess, 0.6, intent_ranking=[{"name": guess, "confidence": 0.6}])
    assert message.get("intent")["name"] == expected
    # the classifier's guess stays in the ranking
    assert guess in [r["name"] for r in message.get("intent_ranking")]
