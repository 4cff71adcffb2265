from dianxiaoer.core.text import (
    SIMPLIFIED,
    TRADITIONAL,
    conversation_script,
    detect_script,
    fullwidth_to_halfwidth,
    is_meaningful,
    localize,
    normalize,
    to_simplified,
    to_traditional,
)


def test_traditional_is_converted_and_remembered():
    result = normalize("請問可以退貨嗎？？？")
    assert result.text == "请问可以退货吗?"
    assert result.original == "請問可以退貨嗎？？？"
    assert result.script == TRADITIONAL


def test_simplified_text_is_left_as_it_is():
    for text in ["着急发货", "头发干净", "后面里面只有一个", "这个著名品牌怎么样"]:
        assert detect_script(text) == SIMPLIFIED
        assert normalize(text).text == text


def test_fullwidth_and_ideographic_space():
    assert fullwidth_to_halfwidth("Ｈｅｌｌｏ　１２３！") == "Hello 123!"
    assert normalize("订单号：２０２６１１０１０００１").text == "订单号:202611010001"


def test_whitespace_and_repetition_are_collapsed():
    assert normalize("  亲   哈哈哈哈哈哈  在吗？？？！！！ ").text == "亲 哈哈哈 在吗?!"
    assert normalize("a\u200bb\ufeffc").text == "abc"


def test_digit_runs_survive_repetition_cleanup():
    assert normalize("202611110001").text == "202611110001"
    assert normalize("尾号1111").text == "尾号1111"


def test_length_cap_marks_truncation():
    result = normalize("我想退货" * 125, max_chars=300)
    assert result.truncated and len(result.text) == 300
    assert not normalize("退货", max_chars=300).truncated


def test_meaningless_input():
    for text in ["", "   ", "😀😀😀", "？？？", "……", "👍"]:
        assert not normalize(text).meaningful, text
    for text in ["ok", "1234", "你好", "Где мой заказ", "สวัสดี", "😀 在吗"]:
        assert is_meaningful(text), text


def test_entity_spans_follow_the_normalization():
    raw = "  亲   哈哈哈哈哈哈 ！！！ 花唄"
    result = normalize(raw)
    start = raw.index("花唄")
    s, e = result.map_span(start, start + 2)
    assert result.text[s:e] == "花呗"
    assert result.map_span(0, 2) is None  # leading spaces vanished


def test_script_conversion_round_trip():
    assert to_traditional("退货运费") == "退貨運費"
    assert to_simplified("退貨運費") == "退货运费"
    assert localize("您好", TRADITIONAL) == to_traditional("您好")
    assert localize("您好", SIMPLIFIED) == "您好"
    assert to_traditional("ok 123") == "ok 123"


def test_conversation_script_sticks_to_the_last_telling_message():
    assert conversation_script(["ok", "202611010001", "你好嗎"]) == TRADITIONAL
    assert conversation_script(["好的", "你好嗎"]) == SIMPLIFIED
    assert conversation_script(["ok", "👍"]) == SIMPLIFIED
    assert conversation_script([]) == SIMPLIFIED
