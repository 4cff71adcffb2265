"""The scorecard of a play, the model replies it suggests, and the labels in Chinese.

Scores per dimension (0-100: 共情, 政策准确, 话术规范, 问题解决, 效率) come from
the points each turn earned or lost; the total is weighted by
`training.roleplay.weights`. A weak turn (one that cost points or angered the customer)
gets a model reply: the psychology's opening, the situation's facts and remedy, cut to
the customer type's length limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dianxiaoer.coaching.roleplay.content import DIMENSIONS, _content, _fill, _max_chars, _settings
from dianxiaoer.coaching.roleplay.facts import _display
from dianxiaoer.coaching.roleplay.scenario_table import Scenario, _approach, _persona_name, scenario

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


# --- labels ------------------------------------------------------------------------------


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


def _weighted(values: Mapping[str, float], weights: Mapping[str, float]) -> float:
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
