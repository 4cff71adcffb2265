"""Two-stage fallback: which intents to offer as "您是想问…" suggestions."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import normalize
from dianxiaoer.shop.form_answers import is_question

QUESTIONS_FILE = PROJECT_ROOT / "knowledge" / "intent_questions.yml"
#: Intents never offered as a suggestion (offering "你是想说'是的'吗" helps nobody).
NOT_SUGGESTED = frozenset(
    {"nlu_fallback", "affirm", "deny", "inform", "send_gibberish", "out_of_scope"}
)


@lru_cache(maxsize=2)
def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_intent_questions(path: Path = QUESTIONS_FILE) -> dict[str, str]:
    """Map of intent -> the question wording shown on its suggestion button."""
    return {str(k): str(v) for k, v in _load(path).get("intent_questions", {}).items()}


def extra_buttons(path: Path = QUESTIONS_FILE) -> list[dict[str, str]]:
    """The fixed "都不是" (a second miss) and "转人工" buttons under the suggestions."""
    labels = _load(path).get("extra_buttons", {})
    return [
        {"title": str(labels["none_of_these"]), "payload": "/nlu_fallback"},
        {"title": str(labels["human"]), "payload": "/request_human"},
    ]


def suggest_intents(
    ranking: list[dict], questions: dict[str, str], limit: int = 3, min_confidence: float = 0.05
) -> list[tuple[str, str]]:
    """Top `limit` (intent, question) pairs from an NLU intent ranking.

    Only intents that have a question wording and are worth suggesting are kept,
    in ranking order, and only above `min_confidence`.
    """
    picked: list[tuple[str, str]] = []
    for entry in ranking or []:
        name = entry.get("name")
        if (
            not name
            or name in NOT_SUGGESTED
            or name not in questions
            or (entry.get("confidence") or 0.0) < min_confidence
            or any(name == p for p, _ in picked)
        ):
            continue
        picked.append((name, questions[name]))
        if len(picked) >= limit:
            break
    return picked


def previous_turn_actions(events: list[dict]) -> list[str]:
    """Actions the bot ran between the previous user message and the latest one.

    `events` are serialized tracker events (dicts with an "event" key), as the action
    server receives them.
    """
    user_seen = 0
    actions: list[str] = []
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            user_seen += 1
            if user_seen == 2:
                break
        elif kind == "action" and user_seen == 1 and event.get("name"):
            actions.append(event["name"])
    return actions


_PRAISE_CUES = (
    "好评",
    "五星",
    "点赞",
    "笔芯",
    "比心",
    "挺好",
    "真好",
    "不错",
    "满意",
    "给力",
    "很棒",
    "真棒",
)
_THANKS_CUES = ("谢谢", "多谢", "感谢", "谢啦", "辛苦了", "麻烦你了")


def thanks_or_praise(text: str) -> str | None:
    """Say "praise" or "thanks" for a closing the intent model missed ("多谢了 五星"), else None.

    A question is neither (is_question), so "质量不错吧？" still gets an answer.
    """
    clean = normalize(text or "").text
    if not clean or is_question(clean):
        return None
    if any(cue in clean for cue in _PRAISE_CUES):
        return "praise"
    if any(cue in clean for cue in _THANKS_CUES):
        return "thanks"
    return None
