"""Pre-sale answers from the demo catalogue."""

import pytest

from actions.presale import ActionAnswerProduct
from dianxiaoer.shop.presale import asked_size, buyer_motive, height_weight
from tests.actions.test_orders import shop  # noqa: F401  (fixture)
from tests.actions.trackers import make_tracker, run_action, user_event


def ask(domain, text, entities=None, slots=None):
    tracker = make_tracker(
        [user_event(text, "ask_product_info", entities=entities or [])], slots=slots or {}
    )
    return run_action(ActionAnswerProduct(), tracker, domain)


def test_size_out_of_stock_lists_the_others(shop, domain):  # noqa: F811
    messages, events = ask(domain, "连衣裙还有M码吗", [{"entity": "product", "value": "连衣裙"}])
    assert messages[0]["response"] == "utter_stock_size_no"
    assert messages[0]["size"] == "M" and "S" in messages[0]["others"]
    assert {"event": "slot", "name": "product", "value": "连衣裙", "timestamp": None} in events


def test_size_in_stock_and_follow_up_on_the_same_product(shop, domain):  # noqa: F811
    messages, _ = ask(domain, "L码呢", slots={"product": "连衣裙"})
    assert messages[0]["response"] == "utter_stock_size_yes" and messages[0]["price"] == "199.00"


def test_size_advice_from_height_and_weight(shop, domain):  # noqa: F811
    messages, _ = ask(domain, "身高160 体重50公斤 连衣裙穿什么码")
    assert messages[0]["response"] == "utter_size_advice_out_of_stock"  # M fits, M sold out
    assert messages[0]["size"] == "M"


def test_price_question_adds_the_thrifty_variant(shop, domain):  # noqa: F811
    messages, _ = ask(domain, "充电宝能便宜点吗", [{"entity": "product", "value": "充电宝"}])
    assert [m["response"] for m in messages] == ["utter_product_info", "utter_motive_qiulian"]


def test_best_seller_without_a_product(shop, domain):  # noqa: F811
    messages, _ = ask(domain, "你们家卖得最好的是哪个")
    assert messages[-1]["response"] == "utter_motive_congzhong"
    assert messages[-1]["product"] == "音乐会员兑换码"


def test_unknown_product_asks_which_naming_what_was_asked(shop, domain):  # noqa: F811
    for text, response in [
        ("这个有货吗", "utter_ask_which_product_stock"),
        ("这个多少钱啊", "utter_ask_which_product_price"),
        ("平时穿M 这款拍多大码", "utter_ask_which_product_size"),
        ("这个怎么样", "utter_ask_which_product"),
    ]:
        messages, _ = ask(domain, text)
        assert messages[0]["response"] == response, text


@pytest.mark.parametrize(
    "text, motive",
    [
        ("能便宜点吗", "qiulian"),
        ("是正品吗", "anquan"),
        ("什么牌子", "qiuming"),
        ("卖得最好的是哪个", "congzhong"),
        ("有新款吗", "qiuxin"),
        ("穿着显瘦吗", "qiumei"),
        ("续航多久", "qiushi"),
        ("发货快吗", None),
    ],
)
def test_motives(text, motive):
    assert buyer_motive(text) == motive


def test_parsing_sizes_and_body():
    assert (
        asked_size("42码有吗") == "42" and asked_size("m码") == "M" and asked_size("你好") is None
    )
    assert height_weight("身高160 体重50公斤") == (160, 50)
    assert height_weight("165cm 110斤") == (165, 55)
    assert height_weight("体重110") == (None, 55)


def test_every_motive_has_a_reply(domain):
    from dianxiaoer.shop.presale import MOTIVE_CUES

    for motive in MOTIVE_CUES:
        assert f"utter_motive_{motive}" in domain["responses"]


def test_this_product_means_the_page_the_shopper_is_on(shop, domain):  # noqa: F811
    event = user_event("这个有货吗", "ask_product_info")
    event["parse_data"]["metadata"] = {"page": {"product": "蓝牙耳机"}}
    messages, _ = run_action(
        ActionAnswerProduct(), make_tracker([event], {"product": "连衣裙"}), domain
    )
    assert messages[0]["product"] == "蓝牙耳机"
