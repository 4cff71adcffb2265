"""Text normalization for Chinese shop chat: script, width, whitespace, repetition, length.

Customers write simplified or traditional characters, full-width letters and digits
(from Chinese input methods), runs of "？？？" or "哈哈哈哈哈", and sometimes paste whole
pages. The NLU pipeline sees one canonical form; the original is kept so replies can
follow the customer's script.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: How many recent user messages to look at to find the conversation's script.
SCRIPT_LOOKBACK = 20

TRADITIONAL = "traditional"
SIMPLIFIED = "simplified"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
# Same punctuation mark repeated: "???" -> "?", "。。。" -> "。". Ellipses stay one "…".
_REPEATED_PUNCT = re.compile(r"([!?,.;:~\-。，、！？；：…～·])\1+")
# Same CJK character more than three times ("哈哈哈哈哈哈") -> three. Digits and letters
# are left alone: order numbers like 202611110001 must survive.
_REPEATED_CJK = re.compile(r"([\u4e00-\u9fff])\1{3,}")


@lru_cache(maxsize=1)
def _converter(config: str):
    # Imported lazily: building OpenCC's dictionaries costs ~0.2 s.
    from opencc import OpenCC

    return OpenCC(config)


def to_simplified(text: str) -> str:
    """Convert traditional Chinese characters to simplified (other text unchanged)."""
    return _converter("t2s").convert(text) if _CJK.search(text) else text


def to_traditional(text: str) -> str:
    """Convert simplified Chinese characters to traditional (other text unchanged)."""
    return _converter("s2t").convert(text) if _CJK.search(text) else text


def fullwidth_to_halfwidth(text: str) -> str:
    """Map full-width ASCII forms (Ａ１？！) and the ideographic space to their ASCII forms."""
    out = []
    for char in text:
        code = ord(char)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(char)
    return "".join(out)


def detect_script(text: str) -> str | None:
    """Tell which Chinese script the text is written in.

    TRADITIONAL if it uses traditional-only characters, SIMPLIFIED if it has Chinese
    characters that are all valid simplified, None if it has no Chinese.
    """
    if not _CJK.search(text):
        return None
    return TRADITIONAL if to_simplified(text) != text else SIMPLIFIED


def recent_originals(user_messages_newest_first, limit: int = SCRIPT_LOOKBACK):
    """Original texts of user messages given as (parse_data, text) pairs, newest first.

    The normalizer keeps what the customer typed under parse_data["input"]["original"];
    messages parsed without it (older events, payloads) fall back to their text.
    """
    for count, (parse_data, text) in enumerate(user_messages_newest_first, 1):
        info = (parse_data or {}).get("input") or {}
        yield info.get("original", text or "")
        if count >= limit:
            return


def conversation_script(texts_newest_first) -> str:
    """The script to answer in: that of the newest message that shows one, else simplified.

    A customer who wrote traditional once keeps getting traditional replies when they
    later send script-neutral text ("ok", an order number).
    """
    for text in texts_newest_first:
        script = detect_script(text or "")
        if script:
            return script
    return SIMPLIFIED


def localize(text: str, script: str) -> str:
    """Render a simplified-Chinese reply in the customer's script."""
    return to_traditional(text) if script == TRADITIONAL else text


def is_meaningful(text: str) -> bool:
    """True if the text has a letter or digit of any script (not only emoji/punctuation)."""
    return any(char.isalnum() for char in text)


@dataclass(frozen=True)
class NormalizedText:
    """Result of `normalize`: the canonical text plus what was learnt about the input."""

    text: str
    original: str
    script: str | None
    truncated: bool
    meaningful: bool
    #: For each character of `text`, the index of the character of `original` it came
    #: from, so entity offsets annotated on the original can be carried over.
    index_map: tuple[int, ...] = ()

    def map_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Map an [start, end) span of `original` onto `text`; None if it vanished."""
        positions = [i for i, orig in enumerate(self.index_map) if start <= orig < end]
        if not positions:
            return None
        return positions[0], positions[-1] + 1


def _collapse(pairs: list[tuple[str, int]], pattern: re.Pattern, keep: int) -> list:
    """Drop characters of each `pattern` match beyond the first `keep` ones."""
    text = "".join(c for c, _ in pairs)
    drop: set[int] = set()
    for match in pattern.finditer(text):
        drop.update(range(match.start() + keep, match.end()))
    return [p for i, p in enumerate(pairs) if i not in drop]


def normalize(text: str | None, max_chars: int = 300) -> NormalizedText:
    """Canonicalize a customer message for NLU.

    Steps: Unicode NFC (when it keeps the length), drop zero-width characters,
    full-width -> half-width, traditional -> simplified, collapse whitespace and repeated
    punctuation or characters, then cut to `max_chars` characters. Every step works
    character by character so the origin of each output character is known.
    """
    original = text or ""
    composed = unicodedata.normalize("NFC", original)
    source = composed if len(composed) == len(original) else original
    pairs = [
        (fullwidth_to_halfwidth(c), i) for i, c in enumerate(source) if not _INVISIBLE.match(c)
    ]
    joined = "".join(c for c, _ in pairs)
    script = detect_script(joined)
    if script == TRADITIONAL:
        converted = to_simplified(joined)
        if len(converted) == len(pairs):
            pairs = [(c, i) for c, (_, i) in zip(converted, pairs, strict=True)]
        else:  # a phrase conversion changed the length: fall back to per-character
            pairs = [(to_simplified(c), i) for c, i in pairs]
    pairs = [(" " if c.isspace() else c, i) for c, i in pairs]
    pairs = _collapse(pairs, re.compile(r" {2,}"), 1)
    while pairs and pairs[0][0] == " ":
        pairs.pop(0)
    while pairs and pairs[-1][0] == " ":
        pairs.pop()
    pairs = _collapse(pairs, _REPEATED_PUNCT, 1)
    pairs = _collapse(pairs, _REPEATED_CJK, 3)
    truncated = len(pairs) > max_chars
    if truncated:
        pairs = pairs[:max_chars]
        while pairs and pairs[-1][0] == " ":
            pairs.pop()
    cleaned = "".join(c for c, _ in pairs)
    return NormalizedText(
        text=cleaned,
        original=original,
        script=script,
        truncated=truncated,
        meaningful=is_meaningful(cleaned),
        index_map=tuple(i for _, i in pairs),
    )


# Courtesy around a request: a greeting or an "OK" in front ("你好 鞋码不对", "好的 已经付了
# 快点发"), thanks at the end. Words that can start a sentence with their own meaning ("好
# 慢啊") count only when a separator follows.
_SEPARATOR = r"[\s,，.。!！~～?？、…]"
_COURTESY_LEAD = re.compile(
    rf"^(?:(?:你好|您好|请问|在吗|在么|在嘛|在不在){_SEPARATOR}*"
    rf"|(?:hello|hi|亲爱的|亲|美女|小姐姐|客服|老板|掌柜的|掌柜|嗯嗯|嗯|好的|好吧|好嘞|ok|哦|噢|额|那个)"
    rf"{_SEPARATOR}+"
    # a run of 嗯/哦 is an acknowledgement even without a separator ("嗯嗯都四天了")
    rf"|(?:嗯{{2,}}|哦{{2,}}|噢{{2,}}){_SEPARATOR}*)"
)
_COURTESY_TRAIL = re.compile(
    r"[\s,，.。!！~～]*(?:谢谢|谢啦|谢了|多谢|感谢|thanks|thx)(?:你|您|亲|啦|了|啊|呀|哈)*"
    r"[\s.。!！~～]*$"
)
_MEANING_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z0-9#]")


def strip_courtesy(text: str, keep: int = 2) -> str:
    """`text` without leading greetings/acknowledgements and trailing thanks.

    Each cut is made only if at least `keep` letters, digits or Chinese characters remain,
    so a message that is nothing but courtesy ("你好", "好的 谢谢") stays as it is.
    """
    while (match := _COURTESY_LEAD.match(text)) and _meaning(text[match.end() :]) >= keep:
        text = text[match.end() :]
    match = _COURTESY_TRAIL.search(text)
    if match and _meaning(text[: match.start()]) >= keep:
        text = text[: match.start()]
    return text


def _meaning(text: str) -> int:
    return len(_MEANING_CHAR.findall(text))
