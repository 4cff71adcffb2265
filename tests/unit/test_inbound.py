"""The inbound validator shared by the REST and socket.io channels (dianxiaoer/core/inbound.py)."""

from __future__ import annotations

import pytest

from dianxiaoer.core.inbound import (
    InboundError,
    Limits,
    check_conversation_id,
    check_input_channel,
    check_metadata,
    check_text,
    check_user_message,
)

GOOD_IDS = [
    "a",
    "9f1c2d3e4b5a69788796a5b4c3d2e1f0",  # the widget's: 32 hex digits
    "x/../victim",
    "shop:42@tmall",
    "顾客 小王",
    "a b",
    "..",
    "<script>",
    "😀",
    "s" * 255,
]
BAD_IDS = [
    None,
    42,
    1.5,
    True,
    ["a"],
    {"id": "a"},
    b"abc",
    "",
    "   ",
    "\t",
    "s" * 256,
    "a\x00b",
    "\x00",
    "\ud800",
    "ab\udfff",
    "a\nb",
    "a\rb",
    "a\x7f",
    "a\x85",
    "a\u200bb",  # zero-width space
    "a\u202eb",  # right-to-left override
    "a\u3000b",  # ideographic space
    "a\u00a0b",  # no-break space
    "a\u2028b",  # line separator
    "a\ue000",  # private use
    "a\U000e0001",  # language tag (format)
]


@pytest.mark.parametrize("value", GOOD_IDS)
def test_printable_ids_pass_unchanged(value):
    assert check_conversation_id(value) == value


@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
def test_unsafe_ids_are_refused_with_400(value):
    with pytest.raises(InboundError) as error:
        check_conversation_id(value, field="session_id")
    assert error.value.status == 400
    assert error.value.field == "session_id"
    assert "'session_id'" in str(error.value)


def test_id_errors_say_what_is_wrong():
    def message(value):
        with pytest.raises(InboundError) as error:
            check_conversation_id(value)
        return str(error.value)

    assert "NUL" in message("a\x00")
    assert "surrogate" in message("\udc00")
    assert "255" in message("x" * 300)
    assert "printable" in message("a\u200b")
    assert "non-empty string" in message(7)


@pytest.mark.parametrize(
    "text", ["", " ", "你好", "a\x01\x1fb", "\u200b\u202e", "😀" * 100, "长" * 20_000, "\r\n"]
)
def test_message_text_may_be_anything_printable_or_not_but_nul_and_surrogates(text):
    assert check_text(text) == text


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (None, 400),
        (1, 400),
        (["hi"], 400),
        ({"text": "hi"}, 400),
        (b"hi", 400),
        ("hi\x00", 400),
        ("\ud83d", 400),
        ("\ud83d\ude00", 400),  # a pair as two code points is not valid UTF-8 either
        ("长" * 20_001, 413),
    ],
    ids=repr,
)
def test_bad_message_text_is_refused(value, status):
    with pytest.raises(InboundError) as error:
        check_text(value)
    assert error.value.status == status
    assert error.value.field == "message"


def test_limits_are_configurable():
    small = Limits(max_sender_chars=4, max_message_chars=3, max_metadata_bytes=20)
    assert check_conversation_id("abcd", small) == "abcd"
    with pytest.raises(InboundError):
        check_conversation_id("abcde", small)
    with pytest.raises(InboundError):
        check_text("abcd", small)
    with pytest.raises(InboundError):
        check_metadata({"k": "x" * 20}, small)


def short_id(value) -> str:
    """A test id: the start of repr (the deepest values are too deep for repr)."""
    try:
        return repr(value)[:40]
    except RecursionError:
        return type(value).__name__


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        {"customer_token": "C1002.123.sig", "page": {"product": "连衣裙"}, "trainee_token": None},
        {"n": 1, "f": 1.5, "b": False, "l": [1, "二", None]},
        {"blob": "x" * 16_000},
        nested(8),
        {"a": [[[[[[[1]]]]]]]},  # 8 levels: the object and seven lists
    ],
)
def test_small_shallow_json_metadata_passes(value):
    assert check_metadata(value) == value


@pytest.mark.parametrize(
    ("value", "status", "words"),
    [
        ("a string", 400, "JSON object"),
        ([1, 2], 400, "JSON object"),
        (7, 400, "JSON object"),
        ({"blob": "x" * 17_000}, 413, "larger"),
        ({"l": list(range(20_000))}, 413, "larger"),
        (nested(9), 400, "deeper"),
        (nested(5_000), 400, "deeper"),
        ({"a": [[[[[[[[1]]]]]]]]}, 400, "deeper"),
        ({"k": "\x00"}, 400, "NUL"),
        ({"k\x00": 1}, 400, "NUL"),
        ({"k": ["ok", {"deep": "\udfff"}]}, 400, "surrogate"),
        ({"\ud800": 1}, 400, "surrogate"),
        ({"n": float("nan")}, 400, "NaN"),
        ({"n": float("inf")}, 400, "NaN"),
        ({"b": b"bytes"}, 400, "plain JSON"),
        ({"s": {1, 2}}, 400, "plain JSON"),
        ({1: "int key"}, 400, "keys"),
    ],
    ids=lambda v: short_id(v),
)
def test_bad_metadata_is_refused(value, status, words):
    with pytest.raises(InboundError) as error:
        check_metadata(value)
    assert error.value.status == status
    assert words in str(error.value)


def test_a_very_deep_tree_is_refused_without_recursion():
    value: list = []
    for _ in range(200_000):  # deeper than Python's recursion limit
        value = [value]
    with pytest.raises(InboundError, match="deeper"):
        check_metadata({"k": value})


@pytest.mark.parametrize("value", [None, "rest", "shop-app", "店铺"])
def test_input_channel_passes(value):
    assert check_input_channel(value) == value


@pytest.mark.parametrize("value", ["", "x" * 65, 3, "a\x00", "a\nb", "\ud800"], ids=repr)
def test_bad_input_channel_is_refused(value):
    with pytest.raises(InboundError):
        check_input_channel(value)


def test_a_user_message_is_checked_field_by_field_id_first():
    ok = check_user_message("顾客:1", "你好", {"page": {}})
    assert (ok.sender, ok.message, ok.metadata) == ("顾客:1", "你好", {"page": {}})
    with pytest.raises(InboundError) as error:
        check_user_message("\ud800", "\x00", "bad", sender_field="session_id")
    assert error.value.field == "session_id"
    with pytest.raises(InboundError) as error:
        check_user_message("a", "\x00", "bad")
    assert error.value.field == "message"
    with pytest.raises(InboundError) as error:
        check_user_message("a", "hi", "bad")
    assert error.value.field == "metadata"
