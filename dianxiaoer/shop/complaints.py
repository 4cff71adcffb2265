"""Complaint understanding: psychology type(s), anger level and when to escalate.

Seed 004 names six complaint psychologies; each gets its own handling strategy
(`STRATEGY`, replies in the domain). The scorer combines two signals:

1. a lexicon of cues per type (`TYPE_CUES`, weights 1-3: 3 = nearly decisive, e.g. a
   threat of 曝光 for 报复); cues were collected from the seed definitions and from how
   shoppers write, not from the held-out set;
2. a model: multinomial naive Bayes over character 1-3-grams, trained lazily on the
   labelled messages of `knowledge/complaint_examples.yml` (the same messages train the
   Rasa intent `file_complaint`).

The final score per type is the model's probability plus 0.15 per lexicon weight point
(capped), normalised; the types within `SECONDARY_RATIO` of the best are reported too.

Anger (0-3) comes from anger words, threats, sarcasm, exclamation/question runs and
the type (venting/revenge add one level). The conversation so far counts: anger of the
previous turns decides escalation (`escalation_reason`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import normalize

EXAMPLES_FILE = PROJECT_ROOT / "knowledge" / "complaint_examples.yml"

TYPES = ("venting", "respect", "remedy", "recognition", "showing", "revenge")
TYPE_NAMES = {
    "venting": "发泄心理",
    "respect": "尊重心理",
    "remedy": "补救心理",
    "recognition": "认同心理",
    "showing": "表现心理",
    "revenge": "报复心理",
}

#: How each type is handled (seed 004 and 话术规范); the replies live in the domain as
#: utter_complaint_<type>; priorities are the ticket's.
STRATEGY = {
    "venting": {"priority": "normal", "summary": "先倾听、简短共情、不找借口，再讲事实"},
    "respect": {"priority": "high", "summary": "正式道歉、重视其身份（VIP）、资深客服跟进"},
    "remedy": {"priority": "high", "summary": "立即给出具体补救方案（退款、补发、补偿）"},
    "recognition": {"priority": "normal", "summary": "认同合理之处、感谢反馈"},
    "showing": {"priority": "normal", "summary": "肯定其专业、请教建议"},
    "revenge": {"priority": "urgent", "summary": "保持冷静、不争辩、最高优先级转人工并记录"},
}

TYPE_CUES: dict[str, tuple[tuple[str, int], ...]] = {
    "venting": (
        ("气死", 2),
        ("失望", 2),
        ("破东西", 2),
        ("垃圾", 1),
        ("太差", 1),
        ("无语", 2),
        ("恶心", 1),
        ("闹心", 2),
        ("烦死", 2),
        ("受不了", 1),
        ("什么玩意", 2),
        ("坑", 1),
        ("倒霉", 2),
        ("心累", 2),
        ("郁闷", 2),
        ("崩溃", 2),
        ("后悔", 1),
        ("憋屈", 2),
    ),
    "respect": (
        ("主管", 3),
        ("经理", 3),
        ("负责人", 3),
        ("老客户", 3),
        ("VIP", 3),
        ("会员", 1),
        ("态度", 2),
        ("不理", 2),
        ("没人理", 3),
        ("爱答不理", 3),
        ("敷衍", 2),
        ("重视", 2),
        ("道歉", 2),
        ("尊重", 3),
        ("机器人回复", 2),
        ("等了", 1),
        ("半天没人", 3),
        ("不回", 2),
        ("买了好几年", 3),
        ("这么多年", 2),
        ("客服呢", 1),
    ),
    "remedy": (
        ("赔", 3),
        ("补偿", 3),
        ("退款", 2),
        ("退钱", 2),
        ("补发", 3),
        ("重发", 3),
        ("运费", 1),
        ("差价", 3),
        ("损失", 2),
        ("优惠券", 2),
        ("怎么处理", 1),
        ("解决", 1),
        ("换一个", 2),
        ("给我个说法", 1),
        ("报销", 2),
        ("精神损失", 3),
        ("退回", 1),
    ),
    "recognition": (
        ("承认", 3),
        ("明明", 2),
        ("本来就是", 2),
        ("我说的没错", 3),
        ("是不是你们", 2),
        ("你们的错", 3),
        ("你们的问题", 2),
        ("说法", 1),
        ("凭什么", 2),
        ("讲道理", 2),
        ("对不对", 2),
        ("认不认", 3),
        ("事实", 2),
        ("就是你们", 2),
        ("我没说错", 3),
    ),
    "showing": (
        ("建议", 3),
        ("应该", 2),
        ("我是做", 3),
        ("专业", 2),
        ("行业", 2),
        ("作为", 1),
        ("我懂", 2),
        ("我干了", 3),
        ("经验", 2),
        ("改进", 3),
        ("提醒你们", 2),
        ("教你们", 3),
        ("好心", 2),
        ("管理", 1),
        ("流程", 2),
        ("年了", 1),
        ("内行", 3),
        ("外行", 2),
    ),
    "revenge": (
        ("差评", 3),
        ("投诉", 2),
        ("12315", 3),
        ("消协", 3),
        ("工商", 3),
        ("曝光", 3),
        ("微博", 3),
        ("抖音", 3),
        ("小红书", 3),
        ("媒体", 3),
        ("记者", 3),
        ("起诉", 3),
        ("律师", 3),
        ("法院", 3),
        ("举报", 3),
        ("开不下去", 3),
        ("走着瞧", 3),
        ("等着", 1),
        ("市场监管", 3),
        ("报警", 3),
        ("黑猫", 3),
        ("拉黑", 3),
        ("平台介入", 3),
        ("小二介入", 3),
        ("申请介入", 3),
        ("维权", 3),
    ),
}

#: What a message must show before the 表现 or 认同 strategy may answer it. 表现's reply
#: praises the customer's expertise and asks for advice, 认同's agrees that they are
#: right: to a customer who only reports a problem or is angry that reads as flattery or
#: mockery, the worst reply a shop can give. So 表现 needs advice or shown expertise, and
#: 认同 a claim of being right (or praise) — a statistical lean alone is not enough.
STRATEGY_EVIDENCE: dict[str, tuple[str, ...]] = {
    "showing": (
        "建议",
        "应该",
        "改进",
        "提醒",
        "提个醒",
        "支个招",
        "分析",
        "参考",
        "意见",
        "希望你们",
        "我是做",
        "我是学",
        "我做了",
        "我干了",
        "作为",
        "经验",
        "专业",
        "行业",
        "内行",
        "外行",
        "好心",
        "为你们好",
        "做过",
        "我会做",
        "我自己会",
        "用过不下",
        "不是我挑刺",
        "说句实在话",
    ),
    "recognition": (
        "承认",
        "认不认",
        "得认",
        "认错",
        "你们的错",
        "明明",
        "事实",
        "讲道理",
        "道理",
        "是不是",
        "对不对",
        "说的对",
        "说得对",
        "没说错",
        "没毛病",
        "谁说的对",
        "正视",
        "凭什么",
        "不是我",
        "我认为",
        "自己看",
        "自己说",
        "证据",
        "截图",
        "无理取闹",
        "不背",
        "挺好",
        "不错",
        "满意",
        "喜欢你们",
        "一直支持",
    ),
}
#: Hostility that rules out flattering strategies even with evidence (threats, 投诉,
#: insults): such a customer gets the venting, remedy or revenge handling instead.
HOSTILE_CUES = ("投诉", "骗子", "骗人", "拉黑", "差评", "平台介入", "小二介入", "维权", "假货")

THREAT_CUES = (
    "差评",
    "12315",
    "消协",
    "工商",
    "曝光",
    "微博",
    "抖音",
    "小红书",
    "媒体",
    "记者",
    "起诉",
    "律师",
    "法院",
    "举报",
    "开不下去",
    "走着瞧",
    "市场监管",
    "报警",
    "黑猫",
    "投诉到",
    "拉黑",
    "平台介入",
    "小二介入",
    "申请介入",
    "维权",
)
ANGER_CUES = (
    "气死",
    "垃圾",
    "破",
    "骗子",
    "坑",
    "恶心",
    "无语",
    "滚",
    "有病",
    "什么玩意",
    "受不了",
    "崩溃",
    "烦死",
    "太差",
    "离谱",
    "过分",
    "忍无可忍",
    "火大",
    "生气",
    "愤怒",
    "欺负",
    "骗",
    "黑心",
    "奸商",
    "傻",
    "到底",
    "凭什么",
    "忽悠",
    "糊弄",
    "敷衍",
    "你自己想想",
    "没人管",
    "没人理",
    "费劲",
    "什么态度",
    "别跟我说这些",
    "耍人",
)
SARCASM_CUES = ("呵呵", "真是谢谢", "太“好”", "真行", "真厉害", "服了", "好棒棒", "可真")

#: Causes a leaving customer can name (seed 003 挽留客户: find the cause, then remedy).
CHURN_CAUSES = ("quality", "price", "service", "logistics", "other")

SECONDARY_RATIO = 0.3
_LEXICON_WEIGHT = 0.15
_LEXICON_CAP = 6


@dataclass(frozen=True)
class Assessment:
    """What a complaint message shows."""

    types: tuple[str, ...]  # primary first, then close secondary types
    scores: dict[str, float] = field(default_factory=dict)
    anger: int = 0  # 0 calm .. 3 furious
    threat: bool = False

    @property
    def primary(self) -> str:
        """The strongest psychology type."""
        return self.types[0]


def load_examples(path: Path = EXAMPLES_FILE) -> dict[str, list[str]]:
    """The labelled complaint messages per type."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {t: [str(m) for m in data.get(t) or []] for t in TYPES}


def _grams(text: str) -> list[str]:
    chars = [c for c in text if not c.isspace()]
    grams = list(chars)
    grams += ["".join(chars[i : i + 2]) for i in range(len(chars) - 1)]
    grams += ["".join(chars[i : i + 3]) for i in range(len(chars) - 2)]
    return grams


class NaiveBayes:
    """Multinomial naive Bayes over character 1-3-grams (Laplace smoothing)."""

    def __init__(self, examples: dict[str, list[str]]) -> None:
        """Count grams per type."""
        self.counts: dict[str, Counter[str]] = {t: Counter() for t in examples}
        self.totals: dict[str, int] = {}
        for label, messages in examples.items():
            for message in messages:
                self.counts[label].update(_grams(normalize(message).text))
            self.totals[label] = sum(self.counts[label].values())
        self.vocabulary = len(set().union(*self.counts.values())) or 1
        documents = sum(len(m) for m in examples.values()) or 1
        self.priors = {
            t: math.log((len(m) + 1) / (documents + len(examples))) for t, m in examples.items()
        }

    def probabilities(self, text: str) -> dict[str, float]:
        """P(type | text)."""
        grams = _grams(text)
        logs = {}
        for label, counts in self.counts.items():
            denominator = self.totals[label] + self.vocabulary
            logs[label] = self.priors[label] + sum(
                math.log((counts[g] + 1) / denominator) for g in grams
            )
        # Naive Bayes is overconfident on long texts (grams are not independent): the
        # log-likelihoods are tempered by the square root of the number of grams so the
        # lexicon can still tip close calls and secondary types survive.
        temperature = max(1.0, math.sqrt(len(grams)))
        top = max(logs.values())
        exp = {label: math.exp((v - top) / temperature) for label, v in logs.items()}
        total = sum(exp.values())
        return {label: v / total for label, v in exp.items()}


@lru_cache(maxsize=2)
def _model(path: str) -> NaiveBayes:
    return NaiveBayes(load_examples(Path(path)))


# "不要退款也不要赔偿，就要你们承认…": a remedy turned down is no wish for a remedy.
_DECLINED_REMEDY = re.compile(
    r"(?:不要|不用|不需要|不稀罕|不图)(?:你们)?(?:的)?(?:赔偿?|补偿|退款|退钱|钱)"
)


def lexicon_scores(text: str) -> dict[str, int]:
    """Sum of cue weights per type found in the text (declined remedies left out)."""
    remedy_text = _DECLINED_REMEDY.sub("", text)
    return {
        t: sum(w for cue, w in TYPE_CUES[t] if cue in (remedy_text if t == "remedy" else text))
        for t in TYPES
    }


def anger_level(text: str, primary: str | None = None, raw: str | None = None) -> int:
    """0 calm, 1 annoyed, 2 angry, 3 furious.

    Cue words are looked up in the normalized `text`; punctuation runs and repetitions in
    the `raw` text as typed (normalization folds them).
    """
    raw = text if raw is None else raw
    points = sum(1 for cue in ANGER_CUES if cue in text)
    points += 2 if any(cue in text for cue in THREAT_CUES) else 0
    points += 1 if any(cue in text for cue in SARCASM_CUES) else 0
    points += 1 if re.search(r"[!！]{2,}|[?？]{3,}|[!！?？]{2,}", raw) else 0
    points += 1 if re.search(r"(.{2,4})\1{2,}", raw) else 0  # 退款退款退款
    # the venting/revenge psychology intensifies signs that are there, never invents them
    points += 1 if points and primary in {"venting", "revenge"} else 0
    # one sign is annoyance; two or three anger; four or more fury
    return 0 if points == 0 else 1 if points == 1 else 2 if points <= 3 else 3


def assess(text: str, examples_file: Path | None = None) -> Assessment:
    """Psychology types, anger and threat of one complaint message."""
    clean = normalize(text).text
    probabilities = _model(str(examples_file or EXAMPLES_FILE)).probabilities(clean)
    lexicon = lexicon_scores(clean)
    combined = {
        t: probabilities[t] + _LEXICON_WEIGHT * min(lexicon[t], _LEXICON_CAP) for t in TYPES
    }
    total = sum(combined.values())
    scores = {t: round(v / total, 3) for t, v in combined.items()}
    threat = any(cue in clean for cue in THREAT_CUES)
    allowed = [t for t in TYPES if strategy_allowed(t, clean, threat)]
    ranked = sorted(allowed, key=lambda t: scores[t], reverse=True)
    best = scores[ranked[0]]
    types = tuple(t for t in ranked if scores[t] >= SECONDARY_RATIO * best)
    return Assessment(types, scores, anger_level(clean, ranked[0], text), threat)


def strategy_allowed(kind: str, clean: str, threat: bool | None = None) -> bool:
    """Whether `kind`'s strategy may answer the normalized message `clean`.

    表现 and 认同 need their evidence (`STRATEGY_EVIDENCE`) and no hostility; 表现 also
    no anger: praising the expertise of an angry customer mocks them.
    """
    if kind not in STRATEGY_EVIDENCE:
        return True
    if threat is None:
        threat = any(cue in clean for cue in THREAT_CUES)
    if threat or any(cue in clean for cue in HOSTILE_CUES):
        return False
    if not any(cue in clean for cue in STRATEGY_EVIDENCE[kind]):
        return False
    return kind != "showing" or anger_level(clean) < 2


def angry_turns(previous: int, anger: int, angry_level: int = 2) -> int:
    """Angry turns in a row, counting this one (anger at or above `angry_level`)."""
    return previous + 1 if anger >= angry_level else 0


def escalation_reason(
    assessment: Assessment, angry_in_a_row: int, turns_to_escalate: int = 2
) -> str | None:
    """Why a complaint goes to a human at once (None: the bot handles it).

    A threat or the revenge psychology ("threat"); `turns_to_escalate` angry turns in a
    row ("anger"). (A question unresolved twice in a row escalates in the two-stage
    fallback, `actions/fallback.py`.)
    """
    if assessment.threat or assessment.primary == "revenge":
        return "threat"
    if angry_in_a_row >= turns_to_escalate:
        return "anger"
    return None


RATING_WORDS = (
    ("非常不满意", 1),
    ("很不满意", 1),
    ("太差", 1),
    ("很差", 1),
    ("不满意", 2),
    ("差评", 1),
    ("一般", 3),
    ("还行", 3),
    ("凑合", 3),
    ("非常满意", 5),
    ("很满意", 5),
    ("超级满意", 5),
    ("满意", 4),
    ("不错", 4),
    ("好评", 5),
)
_STARS = re.compile(r"(?<!\d)([1-5])\s*(?:分|星|颗星)?(?!\d)")
_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}


def rating_from_text(text: str) -> int | None:
    """A 1-5 score from "5分", "五星", "非常满意" ...; None if none is given."""
    clean = normalize(text).text
    match = _STARS.search(clean)
    if match:
        return int(match.group(1))
    for digit, value in _CHINESE_DIGITS.items():
        if f"{digit}星" in clean or f"{digit}分" in clean:
            return value
    for word, value in RATING_WORDS:  # longest phrases are listed first
        if word in clean:
            return value
    return None


def priority(assessment: Assessment, escalated: bool) -> str:
    """Ticket priority: urgent for threats/revenge, high for escalations and respect/remedy."""
    if assessment.threat or assessment.primary == "revenge":
        return "urgent"
    if escalated or assessment.anger >= 2:
        return "high"
    return STRATEGY[assessment.primary]["priority"]
