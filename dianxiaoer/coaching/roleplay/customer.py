"""The simulated customer: the state of a play, its reaction to each reply, its lines.

A play is a JSON-serialisable state dict (kept in a Rasa slot between turns); every
function here returns a new one. Each trainee reply is read (`reading`) and judged in
steps: warmth, phrasing norms, facts, the customer's needs, questions and pace, length.
The steps move the customer's anger (0-100; the customer type and psychology weigh
them) and earn or cost rubric points in five dimensions. The customer calms down once
everything they need is there (resolved), or escalates or leaves when the anger reaches
the limit; the play also ends at the turn limit.

Which line the customer says is stored as [section, key, variant index, argument]; the
variant is picked with the play's seed, so a play is reproducible.
"""

from __future__ import annotations

import copy
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from dianxiaoer.coaching.roleplay.content import (
    DIMENSIONS,
    _content,
    _fill,
    _max_chars,
    _settings,
    _values,
)
from dianxiaoer.coaching.roleplay.facts import _display, _facts
from dianxiaoer.coaching.roleplay.reading import _found, _read, _Reading
from dianxiaoer.coaching.roleplay.scenario_table import Scenario, _persona, scenario
from dianxiaoer.core.service_hours import SHANGHAI

OUTCOMES = ("resolved", "escalated", "left", "turn_limit", "abandoned")
STATE_VERSION = 1

_EXCERPT_CHARS = 20


# --- the state of a play -----------------------------------------------------------------


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


def brief_text(state: dict) -> str:
    """The scenario's brief plus the facts of this play the trainee may look up (times)."""
    sc = scenario(state["scenario"])
    lookup = _content()["situations"][sc.situation].get("lookup") or ""
    return sc.brief + ("\n" + _fill(lookup, _display(state["facts"])) if lookup else "")


# --- what the customer needs -------------------------------------------------------------


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


# --- reacting to a reply -----------------------------------------------------------------


@dataclass
class _Turn:
    """One reply being judged: the anger it causes, the points and codes it earns."""

    state: dict  # the new state of the play, updated in place
    sc: Scenario
    reading: _Reading
    settings: dict
    ctype: dict
    persona: dict
    multipliers: dict[str, float]  # the customer type's and psychology's, combined
    deltas: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DIMENSIONS, 0.0))
    codes: list[str] = field(default_factory=list)
    change: float = 0.0  # of the anger

    @property
    def number(self) -> int:
        """The turn's number in the play, from 1."""
        return self.state["turn"]

    def anger(self, effect: str, factor: float = 1.0) -> None:
        """Add an effect of config/roleplay.yml `mood_effects`, weighed by the multipliers."""
        effects = _content()["mood_effects"]
        self.change += effects[effect] * factor * self.multipliers.get(effect, 1)

    def score(self, dimension: str, key: str, factor: float = 1.0) -> None:
        """Add the `points` of `key` to a rubric dimension."""
        self.deltas[dimension] += _content()["points"][dimension][key] * factor


def react(state: dict, reply: str) -> dict:
    """The state after the trainee's `reply` (a new dict; an ended play stays as it is)."""
    new = copy.deepcopy(state)
    if is_over(new):
        return new
    turn = _begin_turn(new, reply)
    _judge_warmth(turn)
    _judge_phrasing(turn)
    new_facts = _judge_facts(turn)
    met_now, missing = _judge_needs(turn)
    _judge_pace(turn, met_now, new_facts, missing)
    _judge_length(turn)
    ended = _settle(turn, missing)
    if ended:
        turn.codes.append(ended)
        new["outcome"] = ended
        new["line"] = _pick(new, turn.sc, "closings", ended)
    else:
        new["line"] = _reaction(new, turn.sc, turn.reading, turn.codes, missing, turn.settings)
    _record(turn, reply)
    return new


def _begin_turn(new: dict, reply: str) -> _Turn:
    """Read the reply and count the turn."""
    sc = scenario(new["scenario"])
    content = _content()
    settings = _settings()
    ctype = content["customer_types"][sc.customer_type]
    persona = _persona(sc.kind, sc.psychology)
    multipliers = dict(ctype.get("multipliers") or {})
    for key, factor in (persona.get("multipliers") or {}).items():
        multipliers[key] = multipliers.get(key, 1) * factor
    reading = _read(reply, sc, new["facts"])
    new["turn"] += 1
    return _Turn(new, sc, reading, settings, ctype, persona, multipliers)


def _judge_warmth(turn: _Turn) -> None:
    """Soothing words and addressing the customer (亲/您)."""
    # soothing: apology/empathy (complaints) or warmth (pre-sale), and the psychology's cues
    sc, reading, seen = turn.sc, turn.reading, turn.state["seen"]
    repeat = _content()["mood_effects"]["repeat"]
    soothed = False
    for group in [*_content()["kinds"][sc.kind]["soothe"], "psych"]:
        if not reading.cues.get(group):
            continue
        soothed = True
        first = group not in seen
        turn.anger(group, 1 if first else repeat)
        turn.score("empathy", group if first else "repeat")
        turn.codes.append(group)
        if first:
            seen.append(group)
    if turn.number == 1 and sc.kind == "complaint" and not soothed:
        turn.score("empathy", "cold_start")
        turn.codes.append("cold_start")
    if reading.cues["address"]:
        turn.anger("address")
    else:
        turn.anger("no_address")
        turn.score("phrasing", "no_address")
        turn.codes.append("no_address")


def _judge_phrasing(turn: _Turn) -> None:
    """Phrasing norms: blame, rudeness, excuses, arguing, forbidden phrases, vagueness."""
    reading = turn.reading
    for group, dimensions in (
        ("blame", ("empathy", "phrasing")),
        ("rude", ("empathy", "phrasing")),
        ("excuse", ("empathy",)),
        ("argue", ("empathy",)),
    ):
        if reading.cues[group]:
            turn.anger(group)
            for dimension in dimensions:
                turn.score(dimension, group)
            turn.codes.append(group)
    for phrase in reading.forbidden:
        turn.anger("forbidden")
        turn.score("phrasing", "forbidden")
        turn.codes.append(f"forbidden:{phrase}")
    if turn.ctype.get("distrusts_vague") and reading.cues["vague"]:
        turn.anger("vague")
        turn.score("policy", "vague")
        turn.codes.append(f"vague:{reading.cues['vague'][0]}")


def _judge_facts(turn: _Turn) -> list[str]:
    """Facts: each right one counts once per play; every wrong one costs. The new ones."""
    said = turn.state["said"]
    new_facts = [f for f in turn.reading.right if f not in said]
    said.extend(new_facts)
    for fact in new_facts:
        turn.anger("fact")
        turn.score("policy", "fact")
        turn.codes.append(f"fact:{fact}")
    for fact in turn.reading.wrong:
        turn.anger("wrong_fact")
        turn.score("policy", "wrong_fact")
        turn.codes.append(f"wrong_fact:{fact}")
    return new_facts


def _judge_needs(turn: _Turn) -> tuple[set[str], list[str]]:
    """Needs met by this reply: the situation's remedies, the psychology's, the type's.

    Returns the needs the reply meets and those still missing (in the order asked).
    """
    needs = _needs(turn.sc)
    met = turn.state["met"]
    met_now = _met_by(turn.reading, turn.sc, turn.state["said"])
    for need in needs:
        if need in met_now and need not in met:
            met.append(need)
            share = _content()["points"]["resolution"]["needs"]
            # largest-remainder shares, so all needs together give exactly `needs` points
            done = len(met)
            turn.deltas["resolution"] += round(share * done / len(needs)) - round(
                share * (done - 1) / len(needs)
            )
            turn.anger("need")
            turn.codes.append(f"need:{need}")
    return met_now, [n for n in needs if n not in met]


def _judge_pace(turn: _Turn, met_now: set[str], new_facts: list[str], missing: list[str]) -> None:
    """Questions to the customer, a remedy early enough, progress towards what is missing."""
    situation_needs = set(_content()["situations"][turn.sc.situation].get("needs") or [])
    if turn.reading.cues["engage"]:
        turn.anger("engage")
        turn.codes.append("engage")
    elif turn.ctype.get("needs_question"):
        turn.anger("no_question")
        turn.codes.append("no_question")
    if turn.persona.get("remedy_first") and turn.number == 1 and not (met_now & situation_needs):
        turn.anger("late_remedy")
        turn.score("resolution", "late_remedy")
        turn.codes.append("late_remedy")
    progressed = new_facts or any(c.startswith("need:") for c in turn.codes)
    if missing and not progressed:
        turn.anger("no_progress")
        turn.score("resolution", "no_progress")
        turn.codes.append(f"no_progress:{missing[0]}")


def _judge_length(turn: _Turn) -> None:
    """Length: too short is cold, too long loses the customer; late turns cost efficiency."""
    settings = turn.settings
    if turn.reading.length < settings["reply_min"]:
        turn.anger("too_short")
        turn.score("efficiency", "too_short")
        turn.codes.append("too_short")
    elif turn.reading.length > _max_chars(settings, turn.sc.customer_type):
        turn.anger("too_long")
        turn.score("efficiency", "too_long")
        turn.codes.append("too_long")
    if turn.number > settings["efficient_turns"]:
        turn.score("efficiency", "extra_turn")
        turn.codes.append("extra_turn")


def _settle(turn: _Turn, missing: list[str]) -> str | None:
    """Apply the anger to the mood; how the play ends with this turn (None: it goes on)."""
    settings, new = turn.settings, turn.state
    mood = max(0, min(100, round(new["mood"] + turn.change)))
    new["mood"] = mood
    ended = None
    if mood >= settings["escalate_at"]:
        ended = _exit(turn.sc)
    elif not missing and mood <= settings["calm_at_most"]:
        ended = "resolved"
    elif turn.number >= settings["max_turns"]:
        ended = "turn_limit"
    if ended == "resolved":
        turn.score("resolution", "resolved")
    elif ended in {"escalated", "left"}:
        turn.score("resolution", "exit")
        turn.score("efficiency", "unresolved")
    elif ended == "turn_limit":
        turn.score("efficiency", "unresolved")
    return ended


def _exit(sc: Scenario) -> str:
    content = _content()
    return (
        content["kinds"][sc.kind].get("exit")
        or _persona(sc.kind, sc.psychology).get("exit")
        or content["customer_types"][sc.customer_type].get("exit")
        or "escalated"
    )


def _record(turn: _Turn, reply: str) -> None:
    """Append the turn to the play: excerpt, points per dimension, codes, mood."""
    typed = " ".join(str(reply or "").split())  # the excerpt shows what the trainee typed
    excerpt = typed[:_EXCERPT_CHARS] + ("…" if len(typed) > _EXCERPT_CHARS else "")
    turn.state["turns"].append(
        {
            "n": turn.number,
            "x": excerpt,
            "d": [round(turn.deltas[d]) for d in DIMENSIONS],
            "c": turn.codes,
            "m": turn.state["mood"],
        }
    )


# --- what the customer says --------------------------------------------------------------


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
