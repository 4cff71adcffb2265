"""Hypothesis strategies for what customers (and broken clients) send.

Every strategy yields `(kind, value)` so the tests can count what they sent by kind.
"""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import strategies as st

#: Inputs sent by the fuzz tests, by kind; printed at the end of the run. Kept here, not in
#: conftest.py: pytest imports a conftest under its own module name, the tests another.
FUZZ_COUNTS: Counter[str] = Counter()

SHOP_PHRASES = [
    "你好",
    "在吗亲",
    "我的快递到哪了",
    "我要退货",
    "这个羊毛衫我想退掉",
    "订单202611010003",
    "202611010001",
    "尾号1234",
    "5678",
    "转人工",
    "支持花呗分期吗",
    "退款多久到账",
    "耳机多少钱",
    "我身高170体重65穿什么码",
    "太差了！！！我要差评",
    "你是机器人吗",
    "請問可以用花唄付款嗎",
    "算了",
    "是的",
    "不用了",
    "Hi, where is my parcel?",
    "我是新来的客服，想练习一下",
]
SQL_PAYLOADS = [
    "' OR '1'='1",
    "202611010003' OR 1=1 --",
    "1; DROP TABLE orders; --",
    "'; DELETE FROM events WHERE '1'='1",
    '" UNION SELECT phone, address FROM customers --',
    "admin'--",
    "1' AND SLEEP(5)#",
    "'; UPDATE orders SET status='refunded'; --",
    "%' OR customer_id LIKE '%",
    "\\'; EXEC xp_cmdshell('dir'); --",
]
MARKUP_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg/onload=alert(3)>",
    '"><iframe src="javascript:alert(4)">',
    "javascript:alert(document.cookie)",
    '<a href="data:text/html,<script>alert(5)</script>">点我</a>',
    "{{7*7}}${7*7}<%= 7*7 %>",
    "%s%s%s%n%x",
    "../../../../etc/passwd",
    "[点我](javascript:alert(6))",
    "<style>*{display:none}</style>",
    "/restart",
    "/session_start",
    '/greet{"name": "<b>x</b>"',
    "/inform{}",
    '/ask_term{"knowledge_id": "../../x"}',
]
WHITESPACE = " \t\n\r\u3000\u00a0\u2003\u2028\u2029\x0b\x0c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202e\u202d\u2066\u2069"
CONTROL = "".join(chr(c) for c in [*range(0, 32), *range(127, 160)])
#: Control characters a well-formed message may hold: all but NUL, which both channels
#: refuse (dianxiaoer/core/inbound.py).
CONTROL_IN_TEXT = CONTROL.replace("\x00", "")
EMOJI = [
    "😀",
    "👍",
    "🙏",
    "😡",
    "🤬",
    "💔",
    "📦",
    "🚚",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "👍🏽",
    "🇨🇳",
    "❤️",
    "🈶",
    "㊗️",
    "🀄",
    "\U0001fae0",
    "\U000e0067",
]
MIXED = [
    "abc",
    "Привет",
    "مرحبا",
    "שלום",
    "नमस्ते",
    "สวัสดี",
    "안녕하세요",
    "こんにちは",
    "ｆｕｌｌｗｉｄｔｈ１２３",
    "e\u0301\u0308\u20dd",
    "退貨運費誰出",
    "𠀀𪚥𰻞",
    "Ω≈ç√∫",
    "٠١٢٣",
    "ⅫⅧ",
    "Z̷͉̓a̸̡͝l̷̰̈g̶̠̈o̶͍͝",
]
LONG_UNITS = ["我", "退货", "a", "😀", "\u200b", " ", "订单202611010003", "<b>", "Ω"]

#: Characters for free text: everything but surrogates (JSON cannot carry them as UTF-8)
#: and NUL (refused by the channels).
ANY_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def _ten_thousand(unit: str) -> str:
    return (unit * (10_000 // len(unit) + 1))[:10_000]


MESSAGE_KINDS: dict[str, st.SearchStrategy[str]] = {
    "empty": st.just(""),
    "whitespace": st.text(alphabet=WHITESPACE, min_size=1, max_size=40),
    "10000_chars": st.sampled_from(LONG_UNITS).map(_ten_thousand),
    "emoji": st.lists(st.sampled_from(EMOJI), min_size=1, max_size=20).map("".join),
    "control_zero_width": st.text(
        alphabet=CONTROL_IN_TEXT + ZERO_WIDTH + "你好退货1234", min_size=1, max_size=40
    ),
    "mixed_scripts": st.lists(st.sampled_from(MIXED + SHOP_PHRASES), min_size=1, max_size=6).map(
        " ".join
    ),
    "sql": st.sampled_from(SQL_PAYLOADS),
    "html_js": st.sampled_from(MARKUP_PAYLOADS),
    "shop_with_noise": st.tuples(
        st.sampled_from(SHOP_PHRASES),
        st.sampled_from(
            SQL_PAYLOADS + MARKUP_PAYLOADS + EMOJI + [ZERO_WIDTH, CONTROL_IN_TEXT[:8], ""]
        ),
    ).map(lambda pair: pair[0] + pair[1]),
    "arbitrary_unicode": st.text(alphabet=ANY_CHAR, max_size=300),
}


def messages() -> st.SearchStrategy[tuple[str, str]]:
    """(kind, message text) of every kind."""
    return st.one_of(*(st.tuples(st.just(k), s) for k, s in MESSAGE_KINDS.items()))


def metadata() -> st.SearchStrategy[dict | None]:
    """Metadata a client may legitimately send: none, small, junk tokens, large but allowed."""
    scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(ANY_CHAR, max_size=30))
    return st.one_of(
        st.none(),
        st.just({}),
        st.fixed_dictionaries(
            {"customer_token": st.one_of(scalar, st.sampled_from(["a.b.c", "C1002.9999999999.x"]))}
        ),
        st.dictionaries(st.text(ANY_CHAR, max_size=10), scalar, max_size=5),
        st.integers(1, 12).map(lambda kb: {"blob": "x" * (kb * 1000)}),
    )


# --- malformed requests ---------------------------------------------------------------
NOT_A_STRING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
BAD_SENDERS = st.one_of(
    NOT_A_STRING,
    st.text(alphabet=WHITESPACE, max_size=5),
    st.integers(256, 2000).map(lambda n: "s" * n),
    st.tuples(st.text("abc", max_size=3), st.sampled_from(CONTROL)).map("".join),
)
BAD_MESSAGES = st.one_of(NOT_A_STRING, st.integers(20_001, 30_000).map(lambda n: "长" * n))
BAD_METADATA = st.one_of(
    st.booleans(),
    st.integers(),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=3),
    st.integers(17, 200).map(lambda kb: {"blob": "x" * (kb * 1000)}),  # huge
)
BROKEN_JSON = [
    b"",
    b"{",
    b'{"sender": "a", "message": "hi"',
    b"{'sender': 'a', 'message': 'hi'}",
    b'{"sender": "a", "message": "hi",}',
    b"sender=a&message=hi",
    b'{"sender": "a" "message": "hi"}',
    b"\xff\xfe{}",
    b'{"sender": "a", "message": NaN',
]


def _encode(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _nested(depth: int) -> dict:
    """An object nested `depth` levels deep (the channels allow 8)."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def _object(sender, message, meta, missing: str | None) -> bytes:
    body = {"sender": sender, "message": message, "metadata": meta}
    if missing:
        body.pop(missing)
    return _encode(body)


GOOD_SENDER = st.just("fuzz-malformed")
GOOD_MESSAGE = st.sampled_from(SHOP_PHRASES)

MALFORMED_KINDS: dict[str, st.SearchStrategy[bytes]] = {
    "not_json": st.one_of(
        st.sampled_from(BROKEN_JSON),
        st.binary(min_size=1, max_size=200),
    ),
    "json_not_object": st.one_of(NOT_A_STRING, st.text(max_size=20)).map(_encode),
    "missing_field": st.sampled_from(["sender", "message"]).map(
        lambda missing: _object("fuzz-malformed", "你好", None, missing)
    ),
    "wrong_sender": st.builds(_object, BAD_SENDERS, GOOD_MESSAGE, st.none(), st.none()),
    "wrong_message": st.builds(_object, GOOD_SENDER, BAD_MESSAGES, st.none(), st.none()),
    "wrong_metadata": st.builds(_object, GOOD_SENDER, GOOD_MESSAGE, BAD_METADATA, st.none()),
    "lone_surrogate": st.sampled_from(
        [
            b'{"sender": "\\ud800", "message": "hi"}',
            b'{"sender": "a", "message": "\\udfff\\u4f60"}',
            b'{"sender": "a", "message": "hi", "metadata": {"k": "\\ud83d"}}',
        ]
    ),
    "nul": st.sampled_from(
        [
            b'{"sender": "a\\u0000", "message": "hi"}',
            b'{"sender": "a", "message": "\\u0000"}',
            b'{"sender": "a", "message": "\\u4f60\\u0000\\u597d"}',
            b'{"sender": "a", "message": "hi", "metadata": {"k\\u0000": 1}}',
        ]
    ),
    "deep_metadata": st.integers(9, 900).map(  # json.dumps recurses: under 1000
        lambda depth: _encode({"sender": "a", "message": "hi", "metadata": _nested(depth)})
    ),
    "huge_body": st.integers(260, 400).map(
        lambda kb: _encode({"sender": "a", "message": "hi", "pad": "x" * (kb * 1024)})
    ),
}


def malformed() -> st.SearchStrategy[tuple[str, bytes]]:
    """(kind, request body) that must be refused with a 4xx."""
    return st.one_of(*(st.tuples(st.just(k), s) for k, s in MALFORMED_KINDS.items()))
