"""What the role-play reads: its wording, the demo catalogue and the shop's numbers.

Wording and cue words come from config/roleplay.yml, products and customers from
dianxiaoer/store/demo_shop.yml, the numbers the shop tunes from `training.roleplay` in
config/policy.yml. Everything is read on first use and cached; importing reads nothing.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dianxiaoer.core.policy import PolicyError, get_policy
from dianxiaoer.core.settings import PROJECT_ROOT

CONTENT_FILE = PROJECT_ROOT / "config" / "roleplay.yml"
CATALOGUE_FILE = PROJECT_ROOT / "dianxiaoer" / "store" / "demo_shop.yml"

#: The scorecard's rubric dimensions, in order (a turn record stores its deltas so).
DIMENSIONS = ("empathy", "policy", "phrasing", "resolution", "efficiency")


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


class _SafeValues(dict):
    """Template values; an unknown {name} stays as written instead of failing a turn."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: dict[str, Any]) -> str:
    return str(template).format_map(_SafeValues(values))


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if str(v).strip()]
