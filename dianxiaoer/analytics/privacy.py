"""Masking of personal data in everything the analytics export or show.

Order numbers, tracking numbers, mobile numbers, phone tails and other runs of four or
more digits, e-mail addresses and names (the shop's customer names wherever they occur,
and the name after 我叫/收件人/… when it starts with a common surname) are replaced by a
placeholder such as <订单号>. The patterns follow the NLU's regex entities
(data/nlu/entities.yml): orders are 12 digits, tracking numbers a courier prefix and
10-15 digits or 13-15 digits, phone tails 4 digits not followed by 年/元/块; any other
run of five or more digits is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ORDER = "<订单号>"
TRACKING = "<运单号>"
MOBILE = "<手机号>"
TAIL = "<尾号>"
NUMBER = "<号码>"
EMAIL = "<邮箱>"
NAME = "<姓名>"
PLACEHOLDERS = (ORDER, TRACKING, MOBILE, TAIL, NUMBER, EMAIL, NAME)

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TRACKING = re.compile(r"(?<![0-9A-Za-z])(?:[A-Za-z]{2,3}\d{10,15}|\d{13,15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_ORDER = re.compile(r"(?<!\d)\d{12}(?!\d)")
_TAIL = re.compile(r"(?<![\d.])\d{4}(?![\d.年元块])")
_DIGITS = re.compile(r"\d{5,}")
# the 60 commonest surnames: a name after 我叫/收件人 must start with one
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_NAME_CUE = re.compile(
    r"(我叫|我的名字是|名字是|名字叫|姓名[是:：]?|本人是?|收件人是?[:：]?|收货人是?[:：]?|"
    r"联系人是?[:：]?|我是)\s*([" + _SURNAMES + r"][\u4e00-\u9fff]{1,2})"
)
_EN_NAME = re.compile(r"(?i)\b(my name is|i am|i'm)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
# what 我是 is followed by when it is not a name (我是王老师的学生 stays a name; 我是新用户 not)
_NOT_NAME_AFTER_WO_SHI = re.compile(r"[想问来说的]")


class Masker:
    """Masks personal data; knows the shop's customer names (2-4 characters)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        """`names`: customer names to mask wherever they occur."""
        self.names = {n for n in names if 2 <= len(n) <= 4}
        self.lengths = sorted({len(n) for n in self.names}, reverse=True)

    def __call__(self, text: str) -> str:
        """The text with personal data replaced by placeholders."""
        text = text.translate(_FULLWIDTH_DIGITS)
        text = _EMAIL.sub(EMAIL, text)
        text = _TRACKING.sub(TRACKING, text)
        text = _MOBILE.sub(MOBILE, text)
        text = _ORDER.sub(ORDER, text)
        text = _TAIL.sub(TAIL, text)
        text = _DIGITS.sub(NUMBER, text)
        text = _NAME_CUE.sub(self._cued_name, text)
        text = _EN_NAME.sub(lambda m: f"{m.group(1)} {NAME}", text)
        return self._known_names(text)

    @staticmethod
    def _cued_name(match: re.Match) -> str:
        cue, name = match.group(1), match.group(2)
        if cue == "我是" and _NOT_NAME_AFTER_WO_SHI.search(name[1:]):
            return match.group(0)
        return f"{cue}{NAME}"

    def _known_names(self, text: str) -> str:
        if not self.names:
            return text
        out, i = [], 0
        while i < len(text):
            for length in self.lengths:
                if text[i : i + length] in self.names:
                    out.append(NAME)
                    i += length
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def mask(text: str, names: Iterable[str] = ()) -> str:
    """Mask order/tracking/phone numbers, e-mail addresses and names in `text`."""
    return Masker(names)(text)
