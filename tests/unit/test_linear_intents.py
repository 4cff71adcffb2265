"""The character n-gram intent model and its Rasa adapter, on small real data sets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from dianxiaoer.core.text import strip_courtesy
from dianxiaoer.nlu.linear import LinearIntentModel, char_ngrams, prepare
from dianxiaoer.rasa_plugins.nlu_components import LinearIntentClassifier

EXAMPLES = {
    "greet": ["你好", "在吗", "您好 在不在", "亲 在吗", "hello", "有人吗"],
    "thank": ["谢谢", "谢谢亲", "多谢啦", "好的谢谢", "感谢感谢", "辛苦了谢谢"],
    "check_order_status": [
        "我的快递到哪了",
        "帮我查下物流",
        "订单202611010001发货了吗",
        "我的包裹到哪儿了",
        "查一下订单状态",
        "我买的裙子发货没",
    ],
    "request_return": [
        "我要退货",
        "这个不想要了 退了吧",
        "帮我办个退货退款",
        "鞋子小了 想换大一码",
        "申请退货",
        "质量不好 我要退",
    ],
}


def _data() -> tuple[list[str], list[str]]:
    texts = [t for examples in EXAMPLES.values() for t in examples]
    labels = [label for label, examples in EXAMPLES.items() for _ in examples]
    return texts, labels


@pytest.fixture(scope="module")
def model() -> LinearIntentModel:
    return LinearIntentModel.fit(*_data())


def test_prepare_folds_long_numbers_and_spaces():
    assert prepare("订单 202611010001  到哪了") == "订单 # 到哪了"
    assert prepare("尾号1234") == "尾号1234"  # four digits are a phone tail, kept
    # a letter prefix is part of the code: a shop's QH… numbers, a courier's SF…
    assert prepare("那订单QH20261201001呢") == "那订单#呢"
    assert prepare("单号SF1234567890123") == "单号#"
    assert prepare("iphone15 pro") == "iphone15 pro"


def test_char_ngrams_counts_every_length():
    grams = char_ngrams("退货退", 1, 2)
    assert grams["退"] == 2 and grams["退货"] == 1 and grams["货退"] == 1
    assert "退货退" not in grams


def test_rank_gives_a_probability_distribution(model):
    ranking = model.rank("我的快第到哪了 帮我看看", limit=10)
    assert ranking[0][0] == "check_order_status"
    assert [name for name, _ in ranking] == sorted(
        (name for name, _ in ranking), key=lambda n: -dict(ranking)[n]
    )
    assert sum(conf for _, conf in ranking) == pytest.approx(1.0)


def test_unseen_characters_fall_back_to_the_bias(model):
    ranking = model.rank("ℵℶℷ", limit=4)
    assert len(ranking) == 4 and all(0 < conf < 1 for _, conf in ranking)


def test_courtesy_around_a_request_is_not_small_talk(model):
    assert model.rank_past_courtesy("你好 我要退货")[0][0] == "request_return"
    assert model.rank_past_courtesy("好的 帮我查下物流 谢谢")[0][0] == "check_order_status"
    # courtesy alone stays courtesy
    assert model.rank_past_courtesy("你好 在吗")[0][0] == "greet"
    assert model.rank_past_courtesy("好的谢谢")[0][0] == "thank"


def test_strip_courtesy_keeps_words_with_their_own_meaning():
    assert strip_courtesy("你好 鞋子尺码不对") == "鞋子尺码不对"
    assert strip_courtesy("好的 已经付了 快点发 谢谢") == "已经付了 快点发"
    assert strip_courtesy("好慢啊") == "好慢啊"  # "好" without a separator is no courtesy
    assert strip_courtesy("你好") == "你好"
    assert strip_courtesy("好的 谢谢") == "谢谢"  # the thanks is all that is left: kept
    # a run of 嗯/哦 acknowledges without a separator; a single 嗯 needs one
    assert strip_courtesy("嗯嗯都四天了还在揽收") == "都四天了还在揽收"
    assert strip_courtesy("哦哦 那我的包裹到哪了") == "那我的包裹到哪了"
    assert strip_courtesy("嗯好的") == "嗯好的"
    assert strip_courtesy("嗯嗯") == "嗯嗯"


def test_save_and_load_round_trip_without_pickle(model, tmp_path):
    model.save(tmp_path)
    assert LinearIntentModel.exists(tmp_path)
    meta = json.loads((tmp_path / "linear_intents.json").read_text("utf-8"))
    assert meta["labels"] == model.labels
    # plain numeric arrays: loading never unpickles anything
    assert np.load(tmp_path / "linear_weights.npy", allow_pickle=False).dtype == np.float32
    loaded = LinearIntentModel.load(tmp_path)
    for text in ("在吗", "退货", "我的订单到哪了", "谢谢啦"):
        assert loaded.rank(text) == pytest.approx(model.rank(text))


def test_two_intents_are_enough_and_one_is_refused():
    two = LinearIntentModel.fit(
        ["你好", "在吗", "谢谢", "多谢"], ["greet", "greet", "thank", "thank"]
    )
    assert two.rank("谢谢你")[0][0] == "thank"
    with pytest.raises(ValueError):
        LinearIntentModel.fit(["你好", "在吗"], ["greet", "greet"])


def test_component_trains_persists_loads_and_classifies(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intents")
    config = LinearIntentClassifier.get_default_config()
    texts, labels = _data()
    data = TrainingData(
        [Message(data={"text": t, "intent": i}) for t, i in zip(texts, labels, strict=True)]
    )
    trained = LinearIntentClassifier.create(config, storage, resource, None)
    trained.train(data)
    loaded = LinearIntentClassifier.load(config, storage, resource, None)
    message = Message(data={"text": "你好 帮我查一下物流"})
    loaded.process([message])
    assert message.get("intent")["name"] == "check_order_status"
    ranking = message.get("intent_ranking")
    assert len(ranking) == len(EXAMPLES) and ranking[0] == message.get("intent")


def test_component_without_a_model_sets_no_intent(tmp_path):
    storage = LocalModelStorage(tmp_path)
    config = LinearIntentClassifier.get_default_config()
    classifier = LinearIntentClassifier.load(config, storage, Resource("missing"), None)
    message = Message(data={"text": "你好"})
    classifier.process([message])
    assert message.get("intent") == {"name": None, "confidence": 0.0}
    assert message.get("intent_ranking") == []
