"""Reading a trainee's reply: the signals the customer and the scorecard react to.

Cue words (config/roleplay.yml `cues`: apology and empathy, 亲/您, blame, excuses …),
the psychology's own cues, forbidden phrases (config/policy.yml), and the facts of the
situation stated right or wrong, by the situation's `checks`: text (a tracking number,
a courier), dates (a deadline), sizes and numbers near the word that says what they
count ("20元优惠券"). A cue right after a negation ("不理解") does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dianxiaoer.coaching.roleplay.content import _content, _fill, _values
from dianxiaoer.coaching.roleplay.facts import _display
from dianxiaoer.coaching.roleplay.numbers import _dates, _means, _Mention, _numbers
from dianxiaoer.coaching.roleplay.scenario_table import Scenario, _persona
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.text import normalize

# How far (characters in between) a number may be from the word that says what it
# counts: "20元优惠券" and "优惠券金额为20元" both tie 20 to 券.
_NEAR = 8
# A cue right after one of these is negated ("不理解" is not empathy).
_NEGATIONS = "不没别"
_SENTENCE_END = re.compile(r"[。!?;！？；\n]")
_SIZE = re.compile(r"(?<![A-Z])(XXL|XL|S|M|L)(?![A-Z])")


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


# --- cue words ---------------------------------------------------------------------------


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


# --- facts stated right or wrong ---------------------------------------------------------


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
        kind = check["kind"]
        if kind == "text":
            _check_text(text, check, facts, right, wrong)
        elif kind == "date" and facts.get(check["fact"]):
            _check_date(mentions, check, facts, right, wrong)
        elif kind == "size":
            _check_size(text, check, facts, right, wrong)
    number_checks = [c for c in checks if c["kind"] == "number"]
    _check_numbers(masked, number_checks, facts, right, wrong)
    return list(dict.fromkeys(right)), list(dict.fromkeys(wrong))


def _check_text(text: str, check: dict, facts: dict, right: list, wrong: list) -> None:
    """A fact said in words: a tracking number, a courier, a reason, 包邮 or not."""
    fact = check["fact"]
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
        return
    accepted = _values(facts.get(check.get("values", fact)))
    accepted += [_fill(v, _display(facts)) for v in check.get("variants") or []]
    lowered = text.lower()  # tracking numbers typed in lower case still count
    if any(v.lower() in lowered for v in accepted):
        right.append(fact)
    claims = _values(facts.get(check["wrong"])) if check.get("wrong") else []
    if any(v.lower() in lowered for v in claims):
        wrong.append(fact)


def _check_date(
    mentions: list[_Mention], check: dict, facts: dict, right: list, wrong: list
) -> None:
    """A moment (a deadline): every date mentioned is it, another known one, or wrong."""
    fact = check["fact"]
    moment = datetime.fromisoformat(facts[fact])
    known = [datetime.fromisoformat(facts[k]) for k in check.get("known", []) if facts.get(k)]
    for mention in mentions:
        if _means(mention, moment, exact=True):
            right.append(fact)
        elif not any(_means(mention, k, exact=False) for k in known):
            wrong.append(fact)


def _check_size(text: str, check: dict, facts: dict, right: list, wrong: list) -> None:
    """A size (L码) recommended near the check's words and not near its blocking ones."""
    fact = check["fact"]
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


def _check_numbers(
    masked: str, number_checks: list[dict], facts: dict, right: list, wrong: list
) -> None:
    """Amounts (dates blanked out), each tied to the facts whose words are near it."""
    for value, unit, span in _numbers(masked):
        candidates = _number_candidates(masked, span, unit, number_checks)
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


def _number_candidates(
    masked: str, span: tuple[int, int], unit: str, number_checks: list[dict]
) -> list[tuple[int, dict]]:
    """The checks a number at `span` may be about, with its distance to their words."""
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
    return candidates
