"""The scenario table: who the customer is, what moves them, what happened.

A scenario combines a shop situation of the demo data (a delayed parcel, a return outside
the seven-day window, a failed payment, a size question), a customer type (情感冲动/沉着
谨慎/挑剔多疑/健谈/沉默寡言, knowledge/terms.yml 项目6) and a complaint psychology
(`dianxiaoer.shop.complaints`: 发泄 … 报复) or a pre-sale buying motive
(`dianxiaoer.shop.presale`: 求实/求廉/求名/从众 …). The table is built on first use.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from functools import lru_cache

from dianxiaoer.coaching.roleplay.content import _content, _fill
from dianxiaoer.coaching.roleplay.facts import _display, _facts
from dianxiaoer.core.text import normalize
from dianxiaoer.shop.complaints import STRATEGY, TYPE_NAMES, TYPES


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
