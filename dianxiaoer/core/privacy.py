"""Masking of personal data in everything kept or exported: one masker for all of them.

Used by the knowledge base's log of unanswered questions (`dianxiaoer.knowledge.unanswered`, at
write time), the review export (`make review-unanswered`), the report (`make report`:
metrics.json, index.html) and the analytics page's API, which share `compute_metrics`.

What is replaced, by which placeholder (simplified and traditional script alike):

- e-mail addresses <邮箱>; 18-digit resident ID numbers <身份证号>; 16-19 digit bank card
  numbers, grouped or not <银行卡号>;
- tracking numbers (courier prefix + 10-15 digits, or 13-15 digits) <运单号>;
- mobile numbers (11 digits from 13-19, with +86, spaces or dashes) <手机号>; landlines
  (0 + area code, 7-8 digits, extension) <电话>;
- the shop's order numbers <订单号>, in the policy's format (`orders.id_pattern`, as
  `dianxiaoer.shop.journeys.extract_order_id`; 12 digits by default);
- street addresses <地址>: a run of address parts (省/市/区/县/镇/街道/路/街/巷/号/弄/栋/
  单元/楼/室/小区/花园/大厦…) down to street level — a lone city or district stays, as
  "能寄到新疆吗" must stay useful — and whatever follows 地址/收货地址/住址 up to the
  end of the clause;
- names <姓名>: after 我叫/我是/姓名/收件人/收货人/联系人/签收人 when they start with a common
  surname, a surname before 先生/女士/小姐/太太, a name written next to a mobile number,
  "my name is …", and the shop's customer names wherever they occur (`Masker(names)`);
- phone tails: four digits standing alone (尾号5678), not a year or price <尾号>;
- any other run of five or more digits <号码>.

Ticket numbers (TS/SH/CJ/FP/RG/PJ/WH/TK + 14 digits, RMA…, QY…) are the shop's, not
personal, and stay. Placeholders already in a text are kept, so masking twice changes
nothing. Everything else stays as it was, so a masked question still reads as the
question it was ("我的订单<订单号>到哪了") for labelling and grouping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ORDER = "<订单号>"
TRACKING = "<运单号>"
MOBILE = "<手机号>"
PHONE = "<电话>"
TAIL = "<尾号>"
NUMBER = "<号码>"
EMAIL = "<邮箱>"
NAME = "<姓名>"
ADDRESS = "<地址>"
ID_CARD = "<身份证号>"
BANK_CARD = "<银行卡号>"
PLACEHOLDERS = (
    ORDER,
    TRACKING,
    MOBILE,
    PHONE,
    TAIL,
    NUMBER,
    EMAIL,
    NAME,
    ADDRESS,
    ID_CARD,
    BANK_CARD,
)

# While masking, each placeholder (and each kept ticket number) is one private-use
# character, so that no later pattern matches inside it ("<地址>" holds the cue 地址).
_PLACEHOLDER_BASE = 0xE000
_KEPT_BASE = 0xE100
_KEPT_MAX = 0x0F00
_SENTINEL = {p: chr(_PLACEHOLDER_BASE + i) for i, p in enumerate(PLACEHOLDERS)}
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_PLACEHOLDER_IN_TEXT = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))

# Full-width digits, letters and the characters of e-mail and phone numbers.
_HALF_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
    | {"＠": "@", "＋": "+", "－": "-", "．": "."}
)

# (each pattern starts only where its run starts, so a long run of digits stays linear)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
)
_BANK_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)(?![0-9A-Za-z])"
)
# The shop's own numbers: ticket, RMA and coupon numbers; 400/800 hotlines.
_KEEP = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:CJ|TS|FP|RG|SH|PJ|WH|TK|QY|RMA)20\d{12})(?![0-9A-Za-z])"
    r"|(?<!\d)[48]00[- ]?\d{3}[- ]?\d{4}(?!\d)",
    re.I,
)
_TRACKING = re.compile(r"(?<![0-9A-Za-z])(?:[A-Za-z]{2,3}\d{10,15}|\d{13,15})(?![0-9A-Za-z])")
_MOBILE_INTL = re.compile(r"(?<!\d)(?:\+86|0086)[- ]?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE = re.compile(
    r"(?<!\d)(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[- ]?[2-9]\d{2,3}[- ]?\d{4}"
    r"(?:(?:-|转|轉|ext\.?)\d{1,5})?(?!\d)"
)
_TAIL = re.compile(r"(?<![\d.¥￥$])\d{4}(?![\d.年元块塊]|ml|mAh|毫安)")
_DIGITS = re.compile(r"\d{5,}(?![\d元块塊]|ml|mAh|毫安)")

# --- addresses ------------------------------------------------------------------------------
# Characters that end a place name rather than belong to it (verbs and particles before an
# address: 寄到/住在/是/请问…), so "我住在北京市" does not become one name "我住在北京".
_NOT_PLACE = (
    "我你您他她它们們在到是的了吗嗎呢吧啊呀哦嘛把给給寄送住要想请請帮幫改成为為从從往去来來"
    "这這那哪什么麼怎谁誰个個些问問查看买買发發填写寫能可会會就还還都也又再先已经經过過着著"
    "址有没沒被让讓叫号號"
)
_PLACE_CH = rf"(?:(?![{_NOT_PLACE}])[\u4e00-\u9fff])"
_NUMERAL = r"[0-9一二三四五六七八九十百千零〇两兩]"
_ADMIN = (
    rf"{_PLACE_CH}{{1,7}}?(?:自治区|自治區|自治州|特别行政区|特別行政區|省|市|"
    r"(?<![小社])[区區]|县|縣|旗|镇|鎮|乡|鄉|街道|村)"
)
_ROAD = rf"(?:{_PLACE_CH}|[0-9]){{1,10}}?(?:大道|大街|路|街|巷|胡同)"  # 一 is a _PLACE_CH
_COMMUNITY = (
    rf"{_PLACE_CH}{{2,10}}?(?:小区|小區|花园|花園|公寓|大厦|大廈|新村|家园|家園|苑|社区|社區)"
)
_NUM = (
    rf"(?:(?<![0-9]){_NUMERAL}{{1,6}}|[A-Za-z])(?:[-－之]{_NUMERAL}{{1,6}})? ?"
    r"(?:号院|號院|号楼|號樓|号|號|弄|栋|棟|幢|座|单元|單元|楼|樓|层|層|室|户|戶|段|巷)"
)
_PART = rf"(?P<admin>{_ADMIN})|(?P<road>{_ROAD})|(?P<community>{_COMMUNITY})|(?P<num>{_NUM})"
# a run of parts, then a bare room number after a building/unit/floor part ("2单元501")
_ADDRESS_RUN = re.compile(
    rf"(?:(?:{_PART}) ?)+(?:(?:(?<=[号號弄栋棟幢座元楼樓层層])|(?<=[号號弄栋棟幢座元楼樓层層] ))"
    r"\d{1,5}(?!\d))?"
)
_ONE_PART = re.compile(_PART)
_STRONG_CUE = re.compile(
    r"(?:收货|收貨|送货|送貨|家庭|详细|詳細)?(?:地址|住址|位址)"
    r"(?:是|係|为|為|在|改成|改为|改為|改到|换成|換成)?[:：\s]*"
)
_WEAK_CUE = re.compile(
    r"(?:寄到|送到|发到|發到|住在|家在|搬到|改成|改到|改为|改為|放在|寄往|送至|寄至)[:：\s]*$"
)
_CLAUSE_END = re.compile(r"[，,。！!？?；;\n]|吗|嗎|呢|吧|可以|能不能|行不行|怎么|怎麼")

# --- names ----------------------------------------------------------------------------------
# common surnames (simplified and traditional), compound ones first
_COMPOUND = (
    "欧阳|歐陽|司马|司馬|诸葛|諸葛|上官|东方|東方|皇甫|尉迟|尉遲|公孙|公孫|慕容|长孙|長孫|"
    "夏侯|令狐|宇文|司徒|端木|独孤|獨孤"
)
_SURNAMES = (
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何高林罗羅郑鄭梁谢謝宋唐许許韩韓冯馮"
    "邓鄧曹彭曾肖萧蕭田董袁潘于蒋蔣蔡余杜叶葉程苏蘇魏吕呂丁任沈姚卢盧姜崔钟鍾谭譚陆陸汪范"
    "金石廖贾賈夏韦韋付方白邹鄒孟熊秦邱江尹薛闫閆段雷侯龙龍史陶黎贺賀顾顧毛郝龚龔邵万萬钱錢"
    "严嚴覃武戴莫孔向汤湯"
)
_SURNAME = rf"(?:{_COMPOUND}|[{_SURNAMES}])"
# characters that end a name (what follows it in a sentence), not part of a given name
_NOT_GIVEN = (
    "的是在和与與电電手号號码碼了吧啊呢吗嗎呀哦嘛要想请請问問我你您他她们們住地收寄送到先女"
    "太夫电话話收件人姓名联聯系繫络絡方式信息址能会會可就也都还還又再不没沒有说說打给給用"
    "改填写寫查"
)
_GIVEN_CH = rf"(?:(?![{_NOT_GIVEN}])[\u4e00-\u9fff])"
_NAME_CUE = re.compile(
    r"(我叫|我的名字是|我的名字叫|名字是|名字叫|姓名[是为為]?[:：]?|本人是|本人|"
    r"(?:收件人|收货人|收貨人|联系人|聯繫人|聯絡人|联络人|签收人|簽收人|寄件人|持卡人)"
    r"(?:是|为|為|改成|改为|改為|换成|換成)?[:：]?)"
    rf"\s*(?!方式|电话|電話|信息|地址|姓名|名字|手机|手機)({_SURNAME}{_GIVEN_CH}{{1,2}})"
)
# after 我是 only a name that ends there (我是李娜，…); 我是黄金会员 is no name
_WO_SHI = re.compile(
    rf"(我是|我係)\s*({_SURNAME}{_GIVEN_CH}{{1,2}})(?=$|[\s，,。.！!？?；;~～啊呀哈]|[\ue000-\uf8ff])"
)
_SURNAME_CUE = re.compile(rf"(我姓|免贵姓|免貴姓|本人姓)({_SURNAME})")
# 谢谢先生 / 多谢先生 thank, they name no one
_HONORIFIC = re.compile(
    rf"(?<![谢謝多感答致道])(?!谢谢|謝謝){_SURNAME}"
    rf"(?={_GIVEN_CH}{{0,2}}(?:先生|女士|小姐|太太|夫人))"
)
_HONORIFIC_GIVEN = re.compile(rf"({_SENTINEL[NAME]}){_GIVEN_CH}{{1,2}}(?=先生|女士|小姐|太太|夫人)")
_NAME_BY_PHONE = re.compile(
    rf"(?<![\u4e00-\u9fff]){_SURNAME}{_GIVEN_CH}{{1,2}}(?=[\s,，:：/]*{_SENTINEL[MOBILE]})"
    rf"|(?<={_SENTINEL[MOBILE]})([\s,，:：/]*){_SURNAME}{_GIVEN_CH}{{1,2}}"
    r"(?![\u4e00-\u9fff])"
)
_EN_NAME = re.compile(r"(?i)\b(my name is|i am|i'm)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
# After "I am" only a capitalised word that is not an ordinary one.
_EN_NOT_NAME = {"Not", "So", "Very", "Just", "Still", "Looking", "Sorry", "Here", "New", "Trying"}


def _is_street_level(parts: list[str]) -> bool:
    """Whether a run of address parts names a place finer than a district.

    A road with a district or a number, a community, or two numbered parts (3栋2单元)
    do; a lone city/district, a road alone ("走路") or one number ("11号") do not.
    """
    kinds = set(parts)
    numbers = parts.count("num")
    if numbers >= 2:
        return True
    if "community" in kinds and len(parts) >= 2:
        return True
    if "road" in kinds and ("admin" in kinds or numbers or parts.count("road") >= 2):
        return True
    return "num" in kinds and ("admin" in kinds or "community" in kinds)


def _part_kinds(span: str) -> list[str]:
    return [m.lastgroup or "" for m in _ONE_PART.finditer(span)]


class Masker:
    """Masks personal data; knows the shop's customer names (2-4 characters)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        """`names`: customer names to mask wherever they occur (read once, by the caller)."""
        self.names = {n for n in names if 2 <= len(n) <= 4}
        self.lengths = sorted({len(n) for n in self.names}, reverse=True)
        self._orders: re.Pattern | None = None  # the policy's format, read at first use

    @property
    def orders(self) -> re.Pattern:
        """The shop's order numbers (policy `orders.id_pattern`), standing alone."""
        if self._orders is None:
            from dianxiaoer.core.policy import order_id_regex

            self._orders = re.compile(order_id_regex())
        return self._orders

    def __call__(self, text: str) -> str:
        """The text with personal data replaced by placeholders."""
        kept: list[str] = []

        def keep(match: re.Match) -> str:
            if len(kept) >= _KEPT_MAX:
                return match.group(0)
            kept.append(match.group(0))
            return chr(_KEPT_BASE + len(kept) - 1)

        def put(placeholder: str):
            return lambda _match: _SENTINEL[placeholder]

        text = _PRIVATE_USE.sub("", str(text)).translate(_HALF_WIDTH)
        text = _PLACEHOLDER_IN_TEXT.sub(lambda m: _SENTINEL[m.group(0)], text)
        text = _EMAIL.sub(put(EMAIL), text)
        text = _ID_CARD.sub(put(ID_CARD), text)
        text = _KEEP.sub(keep, text)
        text = _BANK_CARD.sub(put(BANK_CARD), text)
        text = _MOBILE_INTL.sub(put(MOBILE), text)  # before the 13-digit tracking numbers
        # the shop's own format before tracking numbers, which a letter prefix can look like
        text = self.orders.sub(put(ORDER), text)
        text = _TRACKING.sub(put(TRACKING), text)
        text = _MOBILE.sub(put(MOBILE), text)
        text = _LANDLINE.sub(put(PHONE), text)
        text = self._addresses(text)
        text = _TAIL.sub(put(TAIL), text)
        text = _DIGITS.sub(put(NUMBER), text)
        text = self._names(text)
        text = self._known_names(text)
        return self._restore(text, kept)

    @staticmethod
    def _restore(text: str, kept: list[str]) -> str:
        out = []
        for ch in text:
            code = ord(ch)
            if _KEPT_BASE <= code < _KEPT_BASE + len(kept):
                out.append(kept[code - _KEPT_BASE])
            elif _PLACEHOLDER_BASE <= code < _PLACEHOLDER_BASE + len(PLACEHOLDERS):
                out.append(PLACEHOLDERS[code - _PLACEHOLDER_BASE])
            else:
                out.append(ch)
        return "".join(out)

    @staticmethod
    def _addresses(text: str) -> str:
        sentinel = _SENTINEL[ADDRESS]

        def after_strong_cue(match: re.Match) -> str:
            # 地址是X: X up to the end of the clause, if it looks like a place at all
            start = match.end()
            end = _CLAUSE_END.search(text, start)
            stop = end.start() if end else len(text)
            value = text[start:stop].rstrip()
            if value and (_ONE_PART.search(value) or re.search(r"\d", value)):
                return match.group(0) + sentinel + text[start + len(value) : stop]
            return text[match.start() : stop]

        # strong cues first, clause by clause
        out, pos = [], 0
        for match in _STRONG_CUE.finditer(text):
            if match.start() < pos:
                continue
            out.append(text[pos : match.start()])
            piece = after_strong_cue(match)
            out.append(piece)
            end = _CLAUSE_END.search(text, match.end())
            pos = end.start() if end else len(text)
        text = "".join(out) + text[pos:]

        def run(match: re.Match) -> str:
            span = match.group(0).rstrip()
            kinds = _part_kinds(span)
            weak = _WEAK_CUE.search(text[max(0, match.start() - 8) : match.start()]) is not None
            if _is_street_level(kinds) or (weak and {"road", "community"} & set(kinds)):
                return sentinel + match.group(0)[len(span) :]
            return match.group(0)

        return _ADDRESS_RUN.sub(run, text)

    def _names(self, text: str) -> str:
        name = _SENTINEL[NAME]
        text = _NAME_CUE.sub(lambda m: m.group(1) + name, text)
        text = _WO_SHI.sub(lambda m: m.group(1) + name, text)
        text = _SURNAME_CUE.sub(lambda m: m.group(1) + name, text)
        text = _HONORIFIC.sub(name, text)
        text = _HONORIFIC_GIVEN.sub(r"\1", text)
        text = _NAME_BY_PHONE.sub(lambda m: (m.group(1) or "") + name, text)
        return _EN_NAME.sub(
            lambda m: (
                m.group(0) if m.group(2).split()[0] in _EN_NOT_NAME else f"{m.group(1)} {name}"
            ),
            text,
        )

    def _known_names(self, text: str) -> str:
        if not self.names:
            return text
        out, i = [], 0
        while i < len(text):
            for length in self.lengths:
                if text[i : i + length] in self.names:
                    out.append(_SENTINEL[NAME])
                    i += length
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


_DEFAULT = Masker()


def mask(text: str, names: Iterable[str] = ()) -> str:
    """Mask personal data in `text` (see the module docstring for what and how)."""
    return (Masker(names) if names else _DEFAULT)(text)


def mask_metrics(metrics: dict, masker: Masker | None = None) -> dict:
    """The metrics dict with its customer-written texts masked (a copy; idempotent).

    The texts are the unanswered questions (group text and examples) and the return
    reasons, which customers may type freely; every other value is a count, a name of
    the shop's own (intent, knowledge entry, agent) or a time.
    """
    masker = masker or _DEFAULT
    out = dict(metrics)
    unanswered = metrics.get("unanswered")
    if isinstance(unanswered, dict) and isinstance(unanswered.get("groups"), list):
        out["unanswered"] = {
            **unanswered,
            "groups": [
                {
                    **g,
                    "text": masker(str(g.get("text", ""))),
                    "examples": [masker(str(e)) for e in g.get("examples") or []],
                }
                for g in unanswered["groups"]
                if isinstance(g, dict)
            ],
        }
    returns = metrics.get("returns")
    if isinstance(returns, dict) and isinstance(returns.get("by_reason"), dict):
        reasons: dict[str, int] = {}
        for reason, count in returns["by_reason"].items():
            key = masker(str(reason))
            reasons[key] = reasons.get(key, 0) + count
        out["returns"] = {**returns, "by_reason": reasons}
    return out
