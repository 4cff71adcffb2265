"""Role-play engine of the staff training mode: a simulated customer and a scorecard.

New customer-service staff practise against a customer played by the bot. A scenario
combines a customer type (情感冲动/沉着谨慎/挑剔多疑/健谈/沉默寡言, knowledge/terms.yml
项目6), a complaint psychology (`dianxiaoer.complaints`: 发泄 … 报复) or a pre-sale
buying motive (`dianxiaoer.presale`: 求实/求廉/求名/从众 …) and a shop situation of the
demo data: a delayed parcel, a return outside the seven-day window, a failed payment, a
size question.

The facts of a play (order, product, the exact return deadline, coupon values …) are
computed at its start time from dianxiaoer/store/demo_shop.yml and config/policy.yml and
kept in its state. Each trainee reply is read for signals: apology and empathy, 亲/您,
blame, forbidden phrases, facts stated right or wrong, the remedies the situation needs,
questions, length. The signals move the customer's anger (0-100; the customer type and
psychology weigh them) and earn or cost rubric points in five dimensions. The customer
calms down once everything they need is there (resolved), or escalates or leaves when
the anger reaches the limit; the play also ends at the turn limit.

Everything is a pure function over a JSON-serialisable state dict (kept in a Rasa slot
between turns). Variants of the customer's lines are picked with a seed stored in the
state, so a play is reproducible. Wording and cue words: config/roleplay.yml; the numbers
the shop tunes: `training.roleplay` in config/policy.yml.
"""

from __future__ import annotations

import copy
import random
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dianxiaoer.complaints import STRATEGY, TYPE_NAMES, TYPES
from dianxiaoer.orders import (
    advise_size,
    check_delay,
    check_no_reason_return,
    delay_coupon,
    format_local,
)
from dianxiaoer.policy import PolicyError, get_policy
from dianxiaoer.service_hours import SHANGHAI
from dianxiaoer.settings import PROJECT_ROOT
from dianxiaoer.text import normalize

CONTENT_FILE = PROJECT_ROOT / "config" / "roleplay.yml"
CATALOGUE_FILE = PROJECT_ROOT / "dianxiaoer" / "store" / "demo_shop.yml"

DIMENSIONS = ("empathy", "policy", "phrasing", "resolution", "efficiency")
OUTCOMES = ("resolved", "escalated", "left", "turn_limit", "abandoned")
STATE_VERSION = 1

#: Codes of a turn that cost points or anger the customer; such a turn is "weak" and
#: gets a model reply on the scorecard.
NEGATIVE_CODES = frozenset(
    {
        "no_address",
        "cold_start",
        "blame",
        "rude",
        "forbidden",
        "excuse",
        "argue",
        "vague",
        "wrong_fact",
        "too_short",
        "too_long",
        "no_progress",
        "late_remedy",
        "no_question",
        "extra_turn",
        "escalated",
        "left",
        "turn_limit",
    }
)

_EXCERPT_CHARS = 20
# How far (characters in between) a number may be from the word that says what it
# counts: "20元优惠券" and "优惠券金额为20元" both tie 20 to 券.
_NEAR = 8
# A cue right after one of these is negated ("不理解" is not empathy).
_NEGATIONS = "不没别"
_UNIT_ALIASES = {"个小时": "小时", "个工作日": "工作日"}
_REFERENCE_NOW = datetime(2026, 1, 1, tzinfo=SHANGHAI)  # static facts need no real time

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMBER = re.compile(
    r"(?<![0-9A-Za-z.第])(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)\s*"
    r"(个工作日|工作日|个小时|小时|天|日|元|块|件|单|笔)?"
)
_DATE = re.compile(
    r"(?:(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"|(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?<![\d月/.\-])(?P<d3>\d{1,2})\s*号)"
    r"(?:\s*(?P<ampm>凌晨|早上|上午|中午|下午|晚上)?\s*"
    r"(?:(?P<hh>\d{1,2})\s*:\s*(?P<mm>\d{2})"
    r"|(?P<h2>\d{1,2})\s*[点时](?:\s*(?P<m3>\d{1,2})\s*分)?"
    r"|(?P<zero>零点|零时)))?"
)
_CLOCK = re.compile(r"\d{1,2}\s*:\s*\d{2}")
_SENTENCE_END = re.compile(r"[。!?;！？；\n]")
_SIZE = re.compile(r"(?<![A-Z])(XXL|XL|S|M|L)(?![A-Z])")


# --- content, catalogue, settings --------------------------------------------------------


@lru_cache(maxsize=2)
def _load_yaml(path: str) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def _content() -> dict:
    return _load_yaml(str(CONTENT_FILE))


def _catalogue() -> dict:
    return _load_yaml(str(CATALOGUE_FILE))


def _settings() -> dict[str, Any]:
    """`training.roleplay` of the policy, checked (the policy loader knows no such keys)."""
    policy = get_policy()

    def value(key: str, kind: type | tuple[type, ...] = int) -> Any:
        found = policy.get(f"training.roleplay.{key}")
        if isinstance(found, bool) or not isinstance(found, kind):
            raise PolicyError(f"{policy.source}: 'training.roleplay.{key}' must be {kind}")
        return found

    weights = value("weights", dict)
    if set(weights) != set(DIMENSIONS) or not all(
        isinstance(w, int | float) and w >= 0 for w in weights.values()
    ):
        raise PolicyError(f"{policy.source}: training.roleplay.weights needs {DIMENSIONS}")
    return {
        "max_turns": value("max_turns"),
        "efficient_turns": value("efficient_turns"),
        "start_max": value("mood.start_max"),
        "calm_at_most": value("mood.calm_at_most"),
        "escalate_at": value("mood.escalate_at"),
        "label_bounds": list(value("mood.label_bounds", list)),
        "reply_min": value("reply_chars.min"),
        "reply_max": value("reply_chars.max"),
        "reply_chars": value("reply_chars", dict),
        "weights": weights,
        "grade_bounds": list(value("grade_bounds", list)),
    }


def _max_chars(settings: dict, customer_type: str) -> int:
    # a type may have its own limit (max_impulsive); the others share `max`
    return int(settings["reply_chars"].get(f"max_{customer_type}", settings["reply_max"]))


# --- scenarios ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One role-play: who the customer is, what moves them, what happened."""

    id: str  # "<situation>:<customer type>:<psychology or motive>"
    kind: str  # complaint | presale
    customer_type: str
    psychology: str  # complaint type key (complaints.TYPES) or motive key (presale)
    situation: str  # delay | return | payment | size
    title: str
    brief: str


class _SafeValues(dict):
    """Template values; an unknown {name} stays as written instead of failing a turn."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: dict[str, Any]) -> str:
    return str(template).format_map(_SafeValues(values))


def _persona(kind: str, psychology: str) -> dict:
    section = "psychologies" if kind == "complaint" else "motives"
    return _content()[section][psychology]


def _persona_name(kind: str, psychology: str) -> str:
    if kind == "complaint":
        return TYPE_NAMES[psychology]
    return _persona(kind, psychology)["name"]


def _approach(kind: str, psychology: str) -> str:
    if kind == "complaint":
        return STRATEGY[psychology]["summary"]
    return _persona(kind, psychology)["approach"]


@lru_cache(maxsize=1)
def _table() -> tuple[Scenario, ...]:
    content = _content()
    table = []
    for situation, cfg in content["situations"].items():
        kind = cfg["kind"]
        keys = [t for t in TYPES if t in content["psychologies"]]
        keys = keys if kind == "complaint" else list(content["motives"])
        values = _display(_facts(situation, None))
        for type_key, ctype in content["customer_types"].items():
            for psychology in keys:
                names = {
                    "situation": cfg["name"],
                    "customer_type": ctype["name"],
                    "psychology": _persona_name(kind, psychology),
                    "traits": ctype["traits"],
                    "approach": _approach(kind, psychology),
                    "situation_brief": _fill(cfg["brief"], values),
                    "goal": cfg["goal"],
                }
                table.append(
                    Scenario(
                        id=f"{situation}:{type_key}:{psychology}",
                        kind=kind,
                        customer_type=type_key,
                        psychology=psychology,
                        situation=situation,
                        title=_fill(content["title"], names),
                        brief=_fill(content["brief"], {**values, **names}),
                    )
                )
    return tuple(table)


def scenarios() -> list[Scenario]:
    """Every scenario: each situation × customer type × psychology (or motive)."""
    return list(_table())


def scenario(scenario_id: str) -> Scenario:
    """The scenario with this id; ValueError if there is none."""
    for candidate in _table():
        if candidate.id == scenario_id:
            return candidate
    raise ValueError(f"unknown role-play scenario: {scenario_id!r}")


def choose(text: str = "", seed: int | None = None) -> Scenario:
    """The scenario a trainee asks for, by keywords; a seeded random pick among the rest.

    Keywords narrow the choice by kind (投诉 / 售前, 咨询 …), situation (快递, 退货,
    支付, 尺码 …), psychology or motive (发泄 … 报复, 求廉 …) and customer type (挑剔 …);
    a keyword that would leave nothing is ignored. Without a seed the text seeds the pick,
    so the same request gives the same scenario.
    """
    content = _content()
    words = normalize(text or "", max_chars=2000).text.lower()
    pool = list(_table())
    filters = (
        ("kind", content["kinds"]),
        ("situation", content["situations"]),
        ("psychology", {**content["psychologies"], **content["motives"]}),
        ("customer_type", content["customer_types"]),
    )
    for attribute, options in filters:
        wanted = {
            key
            for key, cfg in options.items()
            if any(str(w).lower() in words for w in cfg.get("words") or [])
        }
        narrowed = [s for s in pool if getattr(s, attribute) in wanted]
        if narrowed:
            pool = narrowed
    rng = random.Random(seed if seed is not None else zlib.crc32(words.encode("utf-8")))
    return rng.choice(sorted(pool, key=lambda s: s.id))


# --- facts -------------------------------------------------------------------------------


def _money(value: Any) -> int | float:
    number = float(str(value))
    return int(number) if number.is_integer() else number


def _product(name: str) -> dict:
    for product in _catalogue()["products"]:
        if product["name"] == name:
            return product
    raise ValueError(f"role-play product {name!r} is not in {CATALOGUE_FILE.name}")


def _customer(customer_id: str) -> dict:
    for customer in _catalogue()["customers"]:
        if customer["id"] == customer_id:
            return customer
    raise ValueError(f"role-play customer {customer_id!r} is not in {CATALOGUE_FILE.name}")


def _facts(situation: str, now: datetime | None) -> dict[str, Any]:
    """What is true in the situation at `now` (None: only what does not depend on time)."""
    content = _content()
    demo = content["situations"][situation]["demo"]
    policy = get_policy()
    product = _product(demo["product"])
    facts: dict[str, Any] = {
        "product": product["name"],
        "price": _money(product["price"]),
        "category": product["category"],
    }
    if demo.get("customer"):
        customer = _customer(demo["customer"])
        facts["customer_name"] = customer["name"]
        facts["vip_level"] = customer["vip_level"]
    else:
        anonymous = content["kinds"]["presale"]["customer"]
        facts["customer_name"], facts["vip_level"] = anonymous["name"], anonymous["level"]
    if demo.get("order_id"):
        facts["order_id"] = str(demo["order_id"])
    builders = {
        "delay": _delay_facts,
        "return": _return_facts,
        "payment": _payment_facts,
        "size": _size_facts,
    }
    builders[situation](facts, demo, product, policy, now)
    if now is not None:
        facts["now_at"] = now.isoformat()
    return facts


def _delay_facts(facts, demo, product, policy, now) -> None:
    days = int(demo["last_scan_days_ago"])
    reference = now or _REFERENCE_NOW
    last_scan = reference - timedelta(days=days)
    delay = check_delay("shipped", None, last_scan, reference, policy["delays.no_scan_hours"])
    courier = demo["courier"]
    facts.update(
        courier=courier,
        tracking=demo["tracking"],
        last_scan_location=demo["last_scan_location"],
        days_since_scan=days,
        hours_since_scan=int(delay.hours) if delay.kind != "none" else days * 24,
        no_scan_hours=policy["delays.no_scan_hours"],
        ship_hours=policy["shipping.ship_within_hours"],
        other_couriers=[c for c in policy["shipping.couriers"] if c != courier],
        coupon_yuan=_money(delay_coupon(facts["vip_level"] == "VIP", delay, policy)),
        coupon_min_spend=_money(policy["compensation.coupon_min_spend_yuan"]),
        coupon_valid_days=policy["compensation.coupon_valid_days"],
    )
    if now is not None:
        facts["last_scan_at"] = last_scan.isoformat()


def _return_facts(facts, demo, product, policy, now) -> None:
    hours = policy["returns.no_reason_hours"]
    vip = facts["vip_level"] == "VIP"
    facts.update(
        size=str(demo.get("size") or ""),
        days_since_signed=int(demo["signed_days_ago"]),
        no_reason_hours=hours,
        no_reason_days=policy["returns.no_reason_days"],
        window_starts=policy["returns.window_starts"],
        excluded=list(policy["returns.excluded_categories"]),
        quality_days=policy["returns.quality_issue_days"],
        refund_days=policy["returns.refund_within_days"],
        coupon_yuan=_money(
            policy["complaints.vip_coupon_yuan" if vip else "complaints.coupon_yuan"]
        ),
        coupon_min_spend=_money(policy["compensation.coupon_min_spend_yuan"]),
        coupon_valid_days=policy["compensation.coupon_valid_days"],
    )
    if now is not None:
        signed = now - timedelta(days=int(demo["signed_days_ago"]))
        flags = {flag: bool(product.get(flag)) for flag in ("customized", "perishable")}
        flags |= {flag: bool(product.get(flag)) for flag in ("digital", "periodical")}
        check = check_no_reason_return(signed, flags, now, hours)
        facts.update(
            signed_at=signed.isoformat(),
            window_start_at=(check.deadline - timedelta(hours=hours)).isoformat(),
            deadline_at=check.deadline.isoformat(),
            quality_until_at=(signed + timedelta(days=facts["quality_days"])).isoformat(),
        )


def _payment_facts(facts, demo, product, policy, now) -> None:
    reasons = _content()["failure_reasons"]
    reason, method = demo["failure_reason"], demo["method"]
    facts.update(
        method=method,
        reason=reason,
        reason_label=reasons[reason]["label"],
        reason_cues=list(reasons[reason]["cues"]),
        other_reason_cues=[c for k, r in reasons.items() if k != reason for c in r["cues"]],
        other_methods=[m for m in policy["payment.methods"] if m != method],
        auto_cancel_hours=policy["unpaid.auto_cancel_hours"],
    )
    if now is not None:
        created = now - timedelta(hours=float(demo["created_hours_ago"]))
        facts["created_at"] = created.isoformat()
        facts["auto_cancel_at"] = (
            created + timedelta(hours=facts["auto_cancel_hours"])
        ).isoformat()


def _size_facts(facts, demo, product, policy, now) -> None:
    chart = _catalogue()["size_charts"][product["size_chart"]]
    height, weight = float(demo["height_cm"]), float(demo["weight_kg"])
    size = advise_size(chart, height, weight)
    stock = {str(k): int(v) for k, v in product["stock"].items()}
    attributes = product.get("attributes") or {}

    def span(values) -> str:
        return f"{values[0]}-{values[1]}"

    facts.update(
        height=_money(height),
        weight=_money(weight),
        weight_jin=_money(weight * 2),
        size=size,
        size_height=span(chart[size]["height"]),
        size_weight=span(chart[size]["weight"]),
        stock=stock.get(size, 0),
        sold_out=[s for s, q in stock.items() if q <= 0],
        chart_text="，".join(
            f"{s} {span(r['height'])}cm/{span(r['weight'])}kg" for s, r in chart.items()
        ),
        stock_text="，".join(f"{s} {q}件" for s, q in stock.items()),
        brand=str(attributes.get("品牌", "")),
        material=str(attributes.get("材质", "")),
        colour=str(attributes.get("颜色", "")),
        monthly_sales=int(product.get("monthly_sales", 0)),
        launched_days=int(product.get("launched_days_ago", 0)),
        free_shipping=facts["price"] >= policy["shipping.free_shipping_over_yuan"],
        free_shipping_over=_money(policy["shipping.free_shipping_over_yuan"]),
        price_protect_days=policy["price_protection.days"],
    )


def _display(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts as a template shows them: times in Shanghai to the minute, lists joined."""
    shown: dict[str, Any] = {}
    for key, value in facts.items():
        if key.endswith("_at") and isinstance(value, str):
            shown[key] = format_local(datetime.fromisoformat(value))
        elif isinstance(value, list):
            shown[key] = "、".join(str(v) for v in value)
        else:
            shown[key] = value
    return shown


# --- reading a reply ---------------------------------------------------------------------


def _occurrences(text: str, cue: str) -> list[tuple[int, int]]:
    """Spans of `cue` in `text`, leaving out negated ones ("不理解")."""
    spans, start = [], text.find(cue) if cue else -1
    while start >= 0:
        if start == 0 or text[start - 1] not in _NEGATIONS:
            spans.append((start, start + len(cue)))
        start = text.find(cue, start + 1)
    return spans


def _found(text: str, cues) -> list[str]:
    return [str(c) for c in cues or [] if _occurrences(text, str(c))]


def _chinese_number(word: str) -> int | None:
    total, digit = 0, None
    for char in word:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


@dataclass(frozen=True)
class _Mention:
    year: int | None
    month: int | None
    day: int
    hour: int | None
    minute: int


def _mask(text: str, spans) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _dates(text: str) -> tuple[list[_Mention], str]:
    """Dates (with times) mentioned, and the text with them blanked out for numbers."""
    mentions, spans = [], []
    for match in _DATE.finditer(text):
        g = match.groupdict()
        hour = g["hh"] or g["h2"]
        hour = 0 if g["zero"] else int(hour) if hour else None
        if hour is not None and g["ampm"] in {"下午", "晚上"} and hour < 12:
            hour += 12
        minute = int(g["mm"] or g["m3"] or 0)
        mentions.append(
            _Mention(
                int(g["y"]) if g["y"] else None,
                int(g["m"] or g["m2"]) if (g["m"] or g["m2"]) else None,
                int(g["d"] or g["d2"] or g["d3"]),
                hour,
                minute,
            )
        )
        spans.append(match.span())
    masked = _mask(text, spans)
    return mentions, _mask(masked, [m.span() for m in _CLOCK.finditer(masked)])


def _resolve(mention: _Mention, reference: datetime) -> datetime | None:
    """The moment a mention means, filling a missing year/month from `reference`."""
    try:
        moment = datetime(
            mention.year or reference.year,
            mention.month or reference.month,
            mention.day,
            tzinfo=SHANGHAI,
        )
    except ValueError:
        return None
    if mention.hour is None:
        return moment
    if mention.hour == 24:  # "22日24点" is 23日 00:00
        return moment + timedelta(days=1, minutes=mention.minute)
    if mention.hour > 23 or mention.minute > 59:
        return None
    return moment.replace(hour=mention.hour, minute=mention.minute)


def _means(mention: _Mention, moment: datetime, exact: bool) -> bool:
    """Whether a mention names `moment`.

    A deadline at 00:00 may be said as 23:59 or 24点 of the day before, or, without a
    time, as either day.
    """
    local = moment.astimezone(SHANGHAI)
    said = _resolve(mention, local)
    if said is None:
        return False
    before = local - timedelta(minutes=1)
    if mention.hour is None or not exact:
        return said.date() in {local.date(), before.date()}
    return said in {local, before}


def _numbers(text: str) -> list[tuple[float, str, tuple[int, int]]]:
    found = []
    for match in _NUMBER.finditer(text):
        raw, unit = match.group(1), match.group(2) or ""
        if raw[0].isdigit():
            value = float(raw)
        else:
            if not unit:  # a bare Chinese numeral is mostly a word ("一下", "十分")
                continue
            parsed = _chinese_number(raw)
            if parsed is None:
                continue
            value = float(parsed)
        found.append((value, _UNIT_ALIASES.get(unit, unit), match.span()))
    return found


def _distance(span: tuple[int, int], cue_span: tuple[int, int]) -> int:
    return max(0, cue_span[0] - span[1], span[0] - cue_span[1])


def _nearest(text: str, span: tuple[int, int], cues) -> int | None:
    """Characters between `span` and the closest cue of the same sentence (None: none)."""
    distances = []
    for cue in cues or []:
        for occurrence in _occurrences(text, cue):
            between = text[min(span[1], occurrence[1]) : max(span[0], occurrence[0])]
            # "20天前刚上新。七天无理由退换": a number belongs to its own sentence
            if not _SENTENCE_END.search(between):
                distances.append(_distance(span, occurrence))
    return min(distances) if distances else None


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if str(v).strip()]


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _check_facts(text: str, checks: list[dict], facts: dict) -> tuple[list[str], list[str]]:
    """Facts the reply states right and wrong, by the situation's checks."""
    right: list[str] = []
    wrong: list[str] = []
    mentions, masked = _dates(text)
    for check in checks:
        fact, kind = check["fact"], check["kind"]
        if kind == "text":
            value = facts.get(fact)
            if isinstance(value, bool):
                # a yes/no fact (包邮): saying it is right when true; "不包邮" when false
                for variant in check.get("variants") or []:
                    said = bool(_occurrences(text, variant))
                    denied = text.count(variant) > len(_occurrences(text, variant))
                    if (said and value) or (denied and not value and check.get("negatable")):
                        right.append(fact)
                    elif (said and not value) or (denied and value and check.get("negatable")):
                        wrong.append(fact)
                continue
            accepted = _values(facts.get(check.get("values", fact)))
            accepted += [_fill(v, _display(facts)) for v in check.get("variants") or []]
            lowered = text.lower()  # tracking numbers typed in lower case still count
            if any(v.lower() in lowered for v in accepted):
                right.append(fact)
            claims = _values(facts.get(check["wrong"])) if check.get("wrong") else []
            if any(v.lower() in lowered for v in claims):
                wrong.append(fact)
        elif kind == "date" and facts.get(fact):
            moment = datetime.fromisoformat(facts[fact])
            known = [
                datetime.fromisoformat(facts[k]) for k in check.get("known", []) if facts.get(k)
            ]
            for mention in mentions:
                if _means(mention, moment, exact=True):
                    right.append(fact)
                elif not any(_means(mention, k, exact=False) for k in known):
                    wrong.append(fact)
        elif kind == "size":
            upper = text.upper()
            blocked_within = int(check.get("not_near_chars", _NEAR))
            for match in _SIZE.finditer(upper):
                near = _nearest(upper, match.span(), check.get("near"))
                if near is None or near > _NEAR:
                    continue
                blocked = _nearest(upper, match.span(), check.get("not_near"))
                if blocked is not None and blocked <= blocked_within:
                    continue
                (right if match.group(1) == str(facts.get(fact)) else wrong).append(fact)
    number_checks = [c for c in checks if c["kind"] == "number"]
    for value, unit, span in _numbers(masked):
        candidates = []
        for check in number_checks:
            if unit not in (check.get("units") or []):
                continue
            distance = _nearest(masked, span, check.get("near"))
            if distance is None or distance > _NEAR:
                continue
            blocked = _nearest(masked, span, check.get("not_near"))
            if blocked is not None and blocked <= int(check.get("not_near_chars", _NEAR)):
                continue
            candidates.append((distance, check))
        if not candidates:
            continue
        # right if it is right for any fact it may be about; else judged by the nearest
        hits = [c["fact"] for _, c in candidates if _numeric(facts.get(c["fact"])) == value]
        if hits:
            right.extend(hits)
            continue
        _, nearest = min(candidates, key=lambda pair: pair[0])
        also = {_numeric(facts.get(k)) for k in nearest.get("also") or []}
        if value not in also:
            wrong.append(nearest["fact"])
    return list(dict.fromkeys(right)), list(dict.fromkeys(wrong))


@dataclass
class _Reading:
    """What one trainee reply shows."""

    text: str
    length: int
    cues: dict[str, list[str]]
    forbidden: list[str]
    right: list[str]
    wrong: list[str]


def _read(reply: str, sc: Scenario, facts: dict) -> _Reading:
    content = _content()
    text = normalize(reply or "", max_chars=5000).text
    cues = {group: _found(text, words) for group, words in content["cues"].items()}
    cues["psych"] = _found(text, _persona(sc.kind, sc.psychology).get("cues"))
    forbidden = [p for p in get_policy()["complaints.forbidden_phrases"] if p in text]
    checks = content["situations"][sc.situation].get("checks") or []
    right, wrong = _check_facts(text, checks, facts)
    return _Reading(text, len(re.sub(r"\s", "", text)), cues, forbidden, right, wrong)


# --- the play ----------------------------------------------------------------------------


def _needs(sc: Scenario) -> list[str]:
    """What the customer needs before calling the case solved, in the order they ask."""
    content = _content()
    needs = list(content["situations"][sc.situation].get("needs") or [])
    persona = _persona(sc.kind, sc.psychology)
    if persona.get("need", sc.kind == "presale"):
        needs.append("psych")
    ctype = content["customer_types"][sc.customer_type]
    if ctype.get("min_facts"):
        needs.append("facts")
    if ctype.get("needs_question"):
        needs.append("question")
    return needs


def _met_by(reading: _Reading, sc: Scenario, said: list[str]) -> set[str]:
    """Needs this reply meets (facts counted over the whole play)."""
    content = _content()
    situation = content["situations"][sc.situation]
    persona = _persona(sc.kind, sc.psychology)
    ctype = content["customer_types"][sc.customer_type]
    met = set()
    for need in situation.get("needs") or []:
        if _found(reading.text, (situation.get("need_cues") or {}).get(need)) or set(
            (situation.get("need_facts") or {}).get(need) or []
        ) & set(reading.right):
            met.add(need)
    if reading.cues["psych"] or set(persona.get("facts") or []) & set(reading.right):
        met.add("psych")
    if ctype.get("min_facts") and len(said) >= ctype["min_facts"]:
        met.add("facts")
    if reading.cues["engage"]:
        met.add("question")
    return met


def _aware(now: datetime) -> datetime:
    return now.replace(tzinfo=SHANGHAI) if now.tzinfo is None else now


def start(scenario_id: str, now: datetime) -> dict:
    """The initial state of a play of `scenario_id` starting at `now` (naive = Shanghai)."""
    sc = scenario(scenario_id)
    now = _aware(now)
    content = _content()
    settings = _settings()
    mood = _persona(sc.kind, sc.psychology).get("start", 50)
    mood += content["customer_types"][sc.customer_type].get("start", 0)
    mood = max(0, min(int(mood), settings["start_max"]))
    return {
        "v": STATE_VERSION,
        "scenario": sc.id,
        "now": now.isoformat(),
        # the seed of every line variant of this play: reproducible, yet plays differ
        "seed": zlib.crc32(f"{sc.id}|{now.isoformat()}".encode()),
        "facts": _facts(sc.situation, now),
        "mood": mood,
        "start_mood": mood,
        "turn": 0,
        "outcome": None,
        "said": [],
        "met": [],
        "seen": [],
        "turns": [],
        "line": ["opening", "", 0, ""],
    }


def is_over(state: dict) -> bool:
    """Whether the play has ended (resolved, escalated, left, turn limit, abandoned)."""
    return bool(state.get("outcome"))


def outcome(state: dict) -> str | None:
    """How the play ended (`OUTCOMES`), or None while it goes on."""
    return state.get("outcome") or None


def abandon(state: dict) -> dict:
    """The state of a play the trainee stopped (unchanged if it was already over)."""
    new = copy.deepcopy(state)
    if not is_over(new):
        new["outcome"] = "abandoned"
        new["line"] = ["closings", "abandoned", 0, ""]
    return new


def _variants(section: dict, sc: Scenario) -> list[str]:
    """Lines of a reaction/missing/closing entry for this scenario (most specific first)."""
    if not isinstance(section, dict):
        return [str(v) for v in _values(section)]
    keys = (
        f"{sc.customer_type}.{sc.situation}",
        f"{sc.customer_type}.{sc.kind}",
        sc.customer_type,
        sc.situation,
        sc.kind,
        "default",
    )
    for key in keys:
        if section.get(key):
            return _values(section[key])
    return [""]


def _pick(state: dict, sc: Scenario, section: str, key: str, arg: str = "") -> list:
    content = _content()
    entry = content[section].get(key) or {}
    count = len(_variants(entry, sc))
    # seeded by the play and the turn: reproducible without storing the text
    rng = random.Random(f"{state['seed']}:{state['turn']}:{section}:{key}")
    return [section, key, rng.randrange(count), arg]


def _exit(sc: Scenario) -> str:
    content = _content()
    return (
        content["kinds"][sc.kind].get("exit")
        or _persona(sc.kind, sc.psychology).get("exit")
        or content["customer_types"][sc.customer_type].get("exit")
        or "escalated"
    )


def react(state: dict, reply: str) -> dict:
    """The state after the trainee's `reply` (a new dict; an ended play stays as it is)."""
    new = copy.deepcopy(state)
    if is_over(new):
        return new
    sc = scenario(new["scenario"])
    content = _content()
    settings = _settings()
    ctype = content["customer_types"][sc.customer_type]
    persona = _persona(sc.kind, sc.psychology)
    effects, points = content["mood_effects"], content["points"]
    multipliers = dict(ctype.get("multipliers") or {})
    for key, factor in (persona.get("multipliers") or {}).items():
        multipliers[key] = multipliers.get(key, 1) * factor
    reading = _read(reply, sc, new["facts"])
    turn = new["turn"] + 1
    new["turn"] = turn
    deltas = dict.fromkeys(DIMENSIONS, 0.0)
    codes: list[str] = []
    change = 0.0

    def anger(effect: str, factor: float = 1.0) -> None:
        nonlocal change
        change += effects[effect] * factor * multipliers.get(effect, 1)

    def score(dimension: str, key: str, factor: float = 1.0) -> None:
        deltas[dimension] += points[dimension][key] * factor

    # soothing: apology/empathy (complaints) or warmth (pre-sale), and the psychology's cues
    seen = new["seen"]
    soothed = False
    for group in [*content["kinds"][sc.kind]["soothe"], "psych"]:
        if not reading.cues.get(group):
            continue
        soothed = True
        first = group not in seen
        anger(group, 1 if first else effects["repeat"])
        score("empathy", group if first else "repeat")
        codes.append(group)
        if first:
            seen.append(group)
    if turn == 1 and sc.kind == "complaint" and not soothed:
        score("empathy", "cold_start")
        codes.append("cold_start")
    if reading.cues["address"]:
        anger("address")
    else:
        anger("no_address")
        score("phrasing", "no_address")
        codes.append("no_address")
    # phrasing norms: blame, rudeness, forbidden phrases, excuses, arguing
    for group, dimensions in (
        ("blame", ("empathy", "phrasing")),
        ("rude", ("empathy", "phrasing")),
        ("excuse", ("empathy",)),
        ("argue", ("empathy",)),
    ):
        if reading.cues[group]:
            anger(group)
            for dimension in dimensions:
                score(dimension, group)
            codes.append(group)
    for phrase in reading.forbidden:
        anger("forbidden")
        score("phrasing", "forbidden")
        codes.append(f"forbidden:{phrase}")
    if ctype.get("distrusts_vague") and reading.cues["vague"]:
        anger("vague")
        score("policy", "vague")
        codes.append(f"vague:{reading.cues['vague'][0]}")
    # facts: each right one counts once per play; every wrong one costs
    new_facts = [f for f in reading.right if f not in new["said"]]
    new["said"].extend(new_facts)
    for fact in new_facts:
        anger("fact")
        score("policy", "fact")
        codes.append(f"fact:{fact}")
    for fact in reading.wrong:
        anger("wrong_fact")
        score("policy", "wrong_fact")
        codes.append(f"wrong_fact:{fact}")
    # needs: the remedies of the situation, the psychology's own need, the type's
    needs = _needs(sc)
    met_now = _met_by(reading, sc, new["said"])
    situation_needs = set(content["situations"][sc.situation].get("needs") or [])
    for need in needs:
        if need in met_now and need not in new["met"]:
            new["met"].append(need)
            share = points["resolution"]["needs"]
            # largest-remainder shares, so all needs together give exactly `needs` points
            done = len(new["met"])
            deltas["resolution"] += round(share * done / len(needs)) - round(
                share * (done - 1) / len(needs)
            )
            anger("need")
            codes.append(f"need:{need}")
    missing = [n for n in needs if n not in new["met"]]
    if reading.cues["engage"]:
        anger("engage")
        codes.append("engage")
    elif ctype.get("needs_question"):
        anger("no_question")
        codes.append("no_question")
    if persona.get("remedy_first") and turn == 1 and not (met_now & situation_needs):
        anger("late_remedy")
        score("resolution", "late_remedy")
        codes.append("late_remedy")
    progressed = new_facts or any(c.startswith("need:") for c in codes)
    if missing and not progressed:
        anger("no_progress")
        score("resolution", "no_progress")
        codes.append(f"no_progress:{missing[0]}")
    # length: too short is cold, too long loses the customer
    if reading.length < settings["reply_min"]:
        anger("too_short")
        score("efficiency", "too_short")
        codes.append("too_short")
    elif reading.length > _max_chars(settings, sc.customer_type):
        anger("too_long")
        score("efficiency", "too_long")
        codes.append("too_long")
    if turn > settings["efficient_turns"]:
        score("efficiency", "extra_turn")
        codes.append("extra_turn")

    mood = max(0, min(100, round(new["mood"] + change)))
    new["mood"] = mood
    ended = None
    if mood >= settings["escalate_at"]:
        ended = _exit(sc)
    elif not missing and mood <= settings["calm_at_most"]:
        ended = "resolved"
    elif turn >= settings["max_turns"]:
        ended = "turn_limit"
    if ended == "resolved":
        score("resolution", "resolved")
    elif ended in {"escalated", "left"}:
        score("resolution", "exit")
        score("efficiency", "unresolved")
    elif ended == "turn_limit":
        score("efficiency", "unresolved")
    if ended:
        codes.append(ended)
        new["outcome"] = ended
        new["line"] = _pick(new, sc, "closings", ended)
    else:
        new["line"] = _reaction(new, sc, reading, codes, missing, settings)
    typed = " ".join(str(reply or "").split())  # the excerpt shows what the trainee typed
    excerpt = typed[:_EXCERPT_CHARS] + ("…" if len(typed) > _EXCERPT_CHARS else "")
    new["turns"].append(
        {
            "n": turn,
            "x": excerpt,
            "d": [round(deltas[d]) for d in DIMENSIONS],
            "c": codes,
            "m": mood,
        }
    )
    return new


def _reaction(new, sc, reading, codes, missing, settings) -> list:
    """What the customer answers: the worst thing in the reply first, else what is missing."""
    labels = _content()["fact_labels"]
    keys = [c.split(":", 1)[0] for c in codes]
    if "blame" in keys or "rude" in keys:
        return _pick(new, sc, "reactions", "blamed")
    if reading.forbidden:
        return _pick(new, sc, "reactions", "forbidden", reading.forbidden[0])
    if reading.wrong:
        return _pick(new, sc, "reactions", "wrong_fact", labels.get(reading.wrong[0], ""))
    for key in ("excuse", "argue"):
        if key in keys:
            return _pick(new, sc, "reactions", key)
    if "vague" in keys:
        return _pick(new, sc, "reactions", "vague", reading.cues["vague"][0])
    if "too_long" in keys:
        return _pick(new, sc, "reactions", "too_long")
    if "too_short" in keys:
        return _pick(new, sc, "reactions", "cold")
    if "no_question" in keys:
        return _pick(new, sc, "reactions", "silence")
    if missing:
        need = missing[0]
        key = f"psych.{sc.psychology}" if need == "psych" else need
        return _pick(new, sc, "missing", key)
    if new["mood"] > settings["calm_at_most"]:
        return _pick(new, sc, "reactions", "still_upset")
    return _pick(new, sc, "reactions", "calmer")


def _opening(sc: Scenario, values: dict) -> str:
    content = _content()
    if content["customer_types"][sc.customer_type].get("needs_question"):
        # quiet customers say little: the short line and a short hint of what moves them
        line = content["opening_short"][sc.situation] + content["short_tails"][sc.psychology]
    else:
        line = content["opening"][sc.situation][sc.psychology]
        line += (content["tails"].get(sc.customer_type) or {}).get(sc.kind, "")
    return _fill(line, values)


def customer_line(state: dict) -> str:
    """What the customer says now: the opening, the latest reaction or the closing line."""
    if not state:
        return ""
    sc = scenario(state["scenario"])
    section, key, index, arg = state["line"]
    values = {**_display(state["facts"]), "arg": arg}
    if section == "opening":
        return _opening(sc, values)
    variants = _variants(_content()[section].get(key) or {}, sc)
    return _fill(variants[index % len(variants)], values)


def dimension_label(key: str) -> str:
    """The Chinese label of a scorecard dimension (the key itself when unknown)."""
    return _content()["dimensions"].get(key, key)


def outcome_label(key: str) -> str:
    """The Chinese label of a play's outcome (the key itself when unknown)."""
    return _content()["outcomes"].get(key, key)


def mood_label(state: dict) -> str:
    """The customer's mood in words (平静/不满/生气/愤怒 by the policy's bounds)."""
    labels = _content()["moods"]
    bounds = _settings()["label_bounds"]
    mood = int(state.get("mood") or 0)
    return labels[sum(1 for bound in bounds if mood >= bound)]


def brief_text(state: dict) -> str:
    """The scenario's brief plus the facts of this play the trainee may look up (times)."""
    sc = scenario(state["scenario"])
    lookup = _content()["situations"][sc.situation].get("lookup") or ""
    return sc.brief + ("\n" + _fill(lookup, _display(state["facts"])) if lookup else "")


# --- model replies -----------------------------------------------------------------------


def _chars(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def model_reply(state: dict, turn: int = 1) -> str:
    """A reply that handles the scenario well at `turn` (the scorecard's model reply).

    The psychology's opening (its follow-up after the first turn), the situation's facts
    and remedy (pre-sale: the motive's approach) and a closing suited to the customer
    type, cut to the type's length limit by dropping optional sentences.
    """
    sc = scenario(state["scenario"])
    content = _content()
    model = content["model"]
    values = _display(state["facts"])
    opening = model["opening" if turn <= 1 else "followup"][sc.psychology]
    facts = list(model["facts"].get(sc.situation) or [])
    remedy = list(model["remedy"].get(sc.situation) or [])
    if sc.kind == "presale":
        remedy.insert(0, model["motive"][sc.psychology])
    closings = model["closing_presale" if sc.kind == "presale" else "closing"]
    closing = closings.get(sc.customer_type, "")
    optional = facts[1:] + remedy[1:]
    parts = [opening, *facts, *remedy, closing]
    limit = _max_chars(_settings(), sc.customer_type)

    def text() -> str:
        return "".join(_fill(p, values) for p in parts if p)

    while _chars(text()) > limit and optional:
        parts.remove(optional.pop())
    return text()


# --- scorecard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnNote:
    """A turn that gained or lost points."""

    turn: int
    excerpt: str
    delta: int  # points of the total this turn moved
    reasons: list[str]  # in words (config/roleplay.yml `reasons`)
    codes: list[str] = field(default_factory=list)  # machine-readable, "key:arg"


@dataclass(frozen=True)
class Scorecard:
    """The rubric of a play."""

    total: int
    grade: str
    dimensions: dict[str, int]
    notes: list[TurnNote]
    model_replies: list[tuple[int, str]]
    outcome: str | None = None
    scenario_id: str = ""

    def as_dict(self) -> dict:
        """JSON-ready form (stored with the play)."""
        return {
            "total": self.total,
            "grade": self.grade,
            "dimensions": dict(self.dimensions),
            "notes": [
                {
                    "turn": n.turn,
                    "excerpt": n.excerpt,
                    "delta": n.delta,
                    "reasons": list(n.reasons),
                    "codes": list(n.codes),
                }
                for n in self.notes
            ],
            "model_replies": [[turn, reply] for turn, reply in self.model_replies],
            "outcome": self.outcome,
            "scenario_id": self.scenario_id,
        }


def _reasons(codes: list[str], sc: Scenario) -> list[str]:
    """Codes in words; codes of one kind share a line ("事实准确：运单号、快递公司")."""
    content = _content()
    grouped: dict[str, list[str]] = {}
    for code in codes:
        key, _, arg = code.partition(":")
        if key in {"fact", "wrong_fact"}:
            arg = content["fact_labels"].get(arg, arg)
        elif key in {"need", "no_progress"}:
            arg = _need_label(arg, sc)
        elif key == "psych":
            arg = _persona_name(sc.kind, sc.psychology)
        # list-like reasons share a line; a quoted phrase keeps its own
        slot = key if key in {"fact", "wrong_fact", "need"} else code
        grouped.setdefault(slot, [key])
        if arg and arg not in grouped[slot]:
            grouped[slot].append(arg)
    separator = content["text"]["arg_separator"]
    return [
        _fill(content["reasons"].get(key, key), {"arg": separator.join(args)})
        for key, *args in grouped.values()
    ]


def _need_label(need: str, sc: Scenario) -> str:
    label = _content()["need_labels"].get(need, need)
    return _fill(label, {"arg": _persona_name(sc.kind, sc.psychology)})


def _weighted(values: dict[str, float], weights: dict[str, float]) -> float:
    return sum(values[d] * weights[d] for d in DIMENSIONS) / (sum(weights.values()) or 1)


def scorecard(state: dict) -> Scorecard:
    """Scores per dimension (0-100), total, grade, the turns that counted, model replies."""
    sc = scenario(state["scenario"])
    content = _content()
    settings = _settings()
    weights = settings["weights"]
    turns = state.get("turns") or []
    result = state.get("outcome")
    if not turns:
        dimensions = dict.fromkeys(DIMENSIONS, 0)
    else:
        raw = dict(content["points"]["base"])
        for record in turns:
            for dimension, delta in zip(DIMENSIONS, record["d"], strict=True):
                raw[dimension] += delta
        if result == "abandoned":
            raw["efficiency"] += content["points"]["efficiency"]["unresolved"]
        dimensions = {d: max(0, min(100, round(raw[d]))) for d in DIMENSIONS}
    total = round(_weighted(dimensions, weights))
    grades = content["grades"]
    grade = grades[sum(1 for bound in settings["grade_bounds"] if total < bound)]
    notes, models = [], []
    for record in turns:
        delta = round(_weighted(dict(zip(DIMENSIONS, record["d"], strict=True)), weights))
        codes = [c for c in record["c"] if c != "engage"]
        # a good reply that merely came late is noted, but needs no model reply
        weak = delta < 0 or any(
            c.split(":", 1)[0] in NEGATIVE_CODES - {"extra_turn"} for c in codes
        )
        if delta or weak:
            notes.append(TurnNote(record["n"], record["x"], delta, _reasons(codes, sc), codes))
        if weak:
            hint = _fill(
                content["text"]["strategy_hint"],
                {
                    "psychology": _persona_name(sc.kind, sc.psychology),
                    "approach": _approach(sc.kind, sc.psychology),
                },
            )
            models.append((record["n"], hint + model_reply(state, record["n"])))
    return Scorecard(total, grade, dimensions, notes, models, result, sc.id)


def scorecard_text(card: Scorecard) -> dict[str, str]:
    """Values for the scorecard response: total, grade, dimensions, notes, model replies."""
    content = _content()
    text = content["text"]
    dimensions = "\n".join(
        _fill(text["dimension_line"], {"label": content["dimensions"][d], "score": s})
        for d, s in card.dimensions.items()
    )
    if card.outcome:
        outcome_name = content["outcomes"].get(card.outcome, card.outcome)
        dimensions += "\n" + _fill(text["outcome_line"], {"outcome": outcome_name})
    notes = "\n".join(
        _fill(
            text["note_line"],
            {
                "turn": n.turn,
                "delta": f"{n.delta:+d}",
                "excerpt": n.excerpt,
                "reasons": text["reason_separator"].join(n.reasons),
            },
        )
        for n in card.notes
    )
    models = "\n".join(
        _fill(text["model_line"], {"turn": turn, "reply": reply})
        for turn, reply in card.model_replies
    )
    return {
        "total": _fill(text["total"], {"total": card.total}),
        "grade": card.grade,
        "dimensions": dimensions,
        "notes": notes or text["no_notes"],
        "model_replies": models or text["no_model_replies"],
    }
