"""Pre-sale answers: which product, which size, what motive (seed 004 buyer psychology).

Buyer-psychology cues pick the reply variant that addresses the customer's motive:
求廉 (price), 安全/求名 (genuine, safe), 从众 (what others buy), 求新 (new), 求实
(practical use), 求美 (looks). The lexicon below is the cue list; the first motive whose
cue appears wins, in this order, because a price question is the most actionable.
"""

from __future__ import annotations

import re

from dianxiaoer.core.text import fullwidth_to_halfwidth, to_simplified

MOTIVE_CUES: dict[str, tuple[str, ...]] = {
    "qiulian": (
        "便宜",
        "优惠",
        "打折",
        "折扣",
        "降价",
        "划算",
        "少点",
        "包邮吗",
        "券",
        "活动价",
        "性价比",
    ),
    "anquan": ("正品", "假货", "真的吗", "安全", "甲醛", "无毒", "过敏", "质量怎么样", "靠谱"),
    "qiuming": ("牌子", "品牌", "名牌", "大牌", "进口"),
    "congzhong": ("卖得最好", "最火", "爆款", "大家都买", "销量", "好评", "热销", "推荐哪"),
    "qiuxin": ("新款", "新品", "最新", "刚上", "今年流行", "时髦"),
    "qiumei": ("好看", "颜值", "显瘦", "漂亮", "颜色", "款式"),
    "qiushi": ("实用", "耐用", "续航", "容量", "能用多久", "结实", "保暖"),
}

_SIZE = re.compile(r"(?<![A-Za-z0-9])(XXL|XL|S|M|L|3[6-9]|4[0-4])\s*(?:码|号)", re.IGNORECASE)
_HEIGHT = re.compile(r"(?:身高|高)\s*(1\d{2})|(1\d{2})\s*(?:cm|厘米|公分)", re.IGNORECASE)
_WEIGHT = re.compile(
    r"(?:体重|重)\s*(\d{2,3})\s*(kg|公斤|斤)?|(\d{2,3})\s*(kg|公斤|斤)", re.IGNORECASE
)


#: What a product question asks about, checked in order (a size question often names a
#: price too: "M码多少钱" is about the size's stock and price, answered per size).
_ASPECTS: tuple[tuple[str, re.Pattern], ...] = (
    ("size", re.compile(r"码|尺寸|多大|大小|偏大|偏小|身高|体重|\d+\s*斤|腰围|胸围|宽松|修身")),
    ("price", re.compile(r"多少钱|价格|价钱|几块|便宜|优惠|怎么卖|啥价|什么价")),
    ("stock", re.compile(r"有货|没货|现货|库存|缺货|补货|到货|断货")),
)


def asked_aspect(text: str) -> str | None:
    """What a product question is about: "size", "price", "stock", or None."""
    simple = fullwidth_to_halfwidth(to_simplified(text or ""))
    return next((name for name, pattern in _ASPECTS if pattern.search(simple)), None)


def buyer_motive(text: str) -> str | None:
    """The buyer-psychology motive a question shows, if any."""
    for motive, cues in MOTIVE_CUES.items():
        if any(cue in text for cue in cues):
            return motive
    return None


def asked_size(text: str) -> str | None:
    """A size named in the question ("M码", "42码"), upper-cased."""
    match = _SIZE.search(text)
    return match.group(1).upper() if match else None


def height_weight(text: str) -> tuple[float | None, float | None]:
    """Height (cm) and weight (kg) from "身高160 体重50" / "165cm 110斤" style text."""
    h = _HEIGHT.search(text)
    height = float(h.group(1) or h.group(2)) if h else None
    w = _WEIGHT.search(text)
    weight = None
    if w:
        value = float(w.group(1) or w.group(3))
        unit = (w.group(2) or w.group(4) or "").lower()
        weight = value / 2 if unit == "斤" else value
        if not unit and value > 100:  # "体重110" is 斤 in everyday Chinese
            weight = value / 2
    return height, weight


def find_product_names(text: str, names: list[str]) -> list[str]:
    """Catalogue names written in the question, in the order written.

    A name inside a longer one found at the same place (保温杯 in 定制刻字保温杯) does
    not count twice.
    """
    spans = []
    for name in names:
        start = text.find(name) if name else -1
        while start >= 0:
            spans.append((start, start + len(name), name))
            start = text.find(name, start + 1)
    kept = [
        (a, b, n)
        for a, b, n in spans
        if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans)
    ]
    ordered: list[str] = []
    for _, _, name in sorted(kept):
        if name not in ordered:
            ordered.append(name)
    return ordered


def attributes_text(attributes: dict) -> str:
    """A product's attributes as one line: 面料：棉，版型：宽松."""
    return "，".join(f"{k}：{v}" for k, v in attributes.items())
