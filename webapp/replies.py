"""The bot messages the web app writes itself, worded by domain.yml like every other reply.

The agent-joined, hand-back and rating messages (console) and the standard callback message
(callbacks) are appended to a conversation through Rasa's API, so Rasa's NLG never sees
them. They follow the same rules as `dianxiaoer.rasa_plugins.nlg.ScriptAwareNLG`: a
variation for the output channel (and matching slot conditions) chosen at random, the shop
policy values and the given values filled in, and the text and button titles in the
customer's script — read from the tracker's user events with `dianxiaoer.core.text`'s
functions. No Rasa import: the web app runs in the action server's environment.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import yaml

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import SIMPLIFIED, conversation_script, localize, recent_originals

#: The channel the web app's messages are delivered on (`output_channel=socketio`).
OUTPUT_CHANNEL = "socketio"


@lru_cache(maxsize=1)
def domain_responses() -> dict[str, list[dict]]:
    """The `responses` of domain.yml (read once)."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"]


def tracker_script(tracker: dict | None) -> str:
    """The script the customer writes in, from a tracker's events (as Rasa's API returns it).

    The NLG's rule: the newest user message that shows a script, else simplified.
    """
    if not tracker:
        return SIMPLIFIED
    users = (
        (e.get("parse_data"), e.get("text"))
        for e in reversed(tracker.get("events") or [])
        if e.get("event") == "user"
    )
    return conversation_script(recent_originals(users))


def _matches(variation: dict, slots: dict) -> bool:
    # Rasa's slot conditions: every `type: slot` condition names a slot and its value
    return all(
        c.get("type") != "slot" or slots.get(c.get("name")) == c.get("value")
        for c in variation.get("condition") or []
    )


def suitable_variations(
    variations: Iterable[dict], slots: dict, channel: str = OUTPUT_CHANNEL
) -> list[dict]:
    """The variations Rasa's templated NLG would choose from (`ResponseVariationFilter`).

    Conditional ones that match the slots before unconditional ones, and within each, those
    for this channel before those for any channel.
    """
    variations = list(variations)
    conditional = [v for v in variations if v.get("condition") and _matches(v, slots)]
    default = [v for v in variations if not v.get("condition")]
    for group in (conditional, default):
        for_channel = [v for v in group if v.get("channel") == channel]
        if for_channel:
            return for_channel
    for group in (conditional, default):
        any_channel = [v for v in group if v.get("channel") is None]
        if any_channel:
            return any_channel
    return []


def render(response_name: str, tracker: dict | None = None, **values: Any) -> dict:
    """A domain response as the NLG would send it: {"text": ..., "buttons"?: [...]}.

    A random suitable variation, filled with the tracker's slots, the policy values and
    `values` (later ones win), in the script of the tracker's customer.
    """
    slots = (tracker or {}).get("slots") or {}
    variation = random.choice(suitable_variations(domain_responses()[response_name], slots))
    filled = {**slots, **get_policy().reply_values(), **values}
    script = tracker_script(tracker)
    rendered: dict[str, Any] = {"text": localize(variation["text"].format(**filled), script)}
    if variation.get("buttons"):
        rendered["buttons"] = [
            {**b, "title": localize(b["title"], script)} if b.get("title") else dict(b)
            for b in variation["buttons"]
        ]
    return rendered


def bot_event(response_name: str, tracker: dict | None = None, **values: Any) -> dict:
    """A `bot` event with a domain response's wording in the customer's script.

    The web app appends these together with pause/resume in one request, under Rasa's
    conversation lock, so a customer message cannot slip in between.
    """
    rendered = render(response_name, tracker, **values)
    event: dict[str, Any] = {"event": "bot", "text": rendered["text"]}
    if rendered.get("buttons"):
        event["data"] = {"buttons": rendered["buttons"]}
    return event
