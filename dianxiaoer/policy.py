"""Shop policy values (return window, hours, hotline, thresholds) from config/policy.yml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dianxiaoer.settings import get_settings

# Keys the code relies on; a policy file missing one is rejected at load time rather
# than failing in the middle of a conversation.
REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "shop.name": str,
    "service.hotline": str,
    "service.hours.weekdays": str,
    "service.hours.weekends": str,
    "service.human_reply_within_minutes": int,
    "returns.no_reason_days": int,
    "returns.no_reason_hours": int,
    "returns.window_starts": str,
    "returns.excluded_categories": list,
    "returns.no_reason_shipping_payer": str,
    "returns.refund_within_days": int,
    "returns.address": str,
    "returns.quality_issue_days": int,
    "payment.methods": list,
    "payment.instalments": str,
    "payment.cash_on_delivery": str,
    "shipping.ship_within_hours": int,
    "shipping.couriers": list,
    "shipping.free_shipping_over_yuan": (int, float),
    "shipping.delivery_days": str,
    "shipping.remote_areas": list,
    "delays.no_scan_hours": int,
    "delays.long_delay_hours": int,
    "compensation.vip_delay_coupon_yuan": (int, float),
    "compensation.long_delay_coupon_yuan": (int, float),
    "compensation.coupon_min_spend_yuan": (int, float),
    "compensation.coupon_valid_days": int,
    "verification.max_failures": int,
    "verification.token_ttl_seconds": int,
    "verification.order_failures": int,
    "verification.customer_failures": int,
    "verification.failure_window_minutes": (int, float),
    "verification.cooling_minutes": (int, float),
    "verification.sender_attempts": int,
    "verification.ip_attempts": int,
    "verification.rate_window_minutes": (int, float),
    "verification.lockout_handoff_hours": (int, float),
    "unpaid.auto_cancel_hours": int,
    "invoice.kinds": list,
    "invoice.request_within_days": int,
    "invoice.issue_within_days": int,
    "orders.cancel_before": str,
    "orders.address_change_before": str,
    "orders.merge_shipping": str,
    "price_protection.days": int,
    "price_protection.excludes": list,
    "coupons.rule": str,
    "coupons.expire_notice_days": int,
    "membership.levels": list,
    "membership.vip_threshold_yuan": (int, float),
    "membership.vip_benefits": list,
    "warranty.categories": list,
    "warranty.electronics_months": int,
    "warranty.repair_within_days": int,
    "complaints.coupon_yuan": (int, float),
    "complaints.vip_coupon_yuan": (int, float),
    "complaints.angry_level": int,
    "complaints.angry_turns_to_escalate": int,
    "complaints.forbidden_phrases": list,
    "followup.delay_minutes": (int, float),
    "followup.recovery_grace_seconds": (int, float),
    "followup.sweep_seconds": (int, float),
    "followup.max_attempts": int,
    "satisfaction.low_score": int,
    "knowledge.min_score": (int, float),
    "knowledge.clear_ratio": (int, float),
    "knowledge.max_suggestions": int,
    "nlu.max_message_chars": int,
    "nlu.fallback_suggestions": int,
    "nlu.fallback_min_confidence": (int, float),
}

# Verification limits, per conversation and across them (dianxiaoer/verification.py):
# all positive.
VERIFICATION_LIMITS = tuple(
    key
    for key in REQUIRED_KEYS
    if key.startswith("verification.") and key != "verification.token_ttl_seconds"
)


class PolicyError(ValueError):
    """The policy file is missing, unreadable or incomplete."""


class Policy:
    """Read-only view of the policy file with dotted-key access."""

    def __init__(self, data: dict[str, Any], source: Path | None = None) -> None:
        """Validate `data` against REQUIRED_KEYS."""
        self._data = data
        self.source = source
        for key, expected in REQUIRED_KEYS.items():
            value = self.get(key)
            if isinstance(value, bool) and expected is not bool:
                raise PolicyError(f"{source}: '{key}' must be {expected}, not a boolean")
            if not isinstance(value, expected):
                raise PolicyError(f"{source}: '{key}' must be {expected}, got {value!r}")
        if self.get("returns.no_reason_hours") != 24 * self.get("returns.no_reason_days"):
            raise PolicyError(f"{source}: no_reason_hours must equal 24 × no_reason_days")
        # a limit of 0 would refuse every check (or, as a window, count nothing)
        for key in VERIFICATION_LIMITS:
            if self.get(key) <= 0:
                raise PolicyError(f"{source}: '{key}' must be positive")

    def get(self, dotted_key: str, default: Any = None) -> Any:
        """Return the value at `a.b.c`, or `default` when a part is missing."""
        node: Any = self._data
        for part in dotted_key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def __getitem__(self, dotted_key: str) -> Any:
        """Return the value at `a.b.c`; KeyError if it is missing."""
        sentinel = object()
        value = self.get(dotted_key, sentinel)
        if value is sentinel:
            raise KeyError(dotted_key)
        return value

    def reply_values(self) -> dict[str, Any]:
        """Values that response templates may quote, flattened to template variable names."""
        return {
            "shop_name": self["shop.name"],
            "hotline": self["service.hotline"],
            "hours_weekdays": self["service.hours.weekdays"],
            "hours_weekends": self["service.hours.weekends"],
            "human_reply_minutes": self["service.human_reply_within_minutes"],
            "return_days": self["returns.no_reason_days"],
            "return_hours": self["returns.no_reason_hours"],
            "window_starts": self["returns.window_starts"],
            "excluded_categories": "、".join(self["returns.excluded_categories"]),
            "return_shipping_payer": self["returns.no_reason_shipping_payer"],
            "refund_days": self["returns.refund_within_days"],
            "return_address": self["returns.address"],
            "quality_days": self["returns.quality_issue_days"],
            "payment_methods": "、".join(self["payment.methods"]),
            "instalments": self["payment.instalments"],
            "cod": self["payment.cash_on_delivery"],
            "ship_hours": self["shipping.ship_within_hours"],
            "couriers": "、".join(self["shipping.couriers"]),
            "free_shipping_over": self["shipping.free_shipping_over_yuan"],
            "delivery_days": self["shipping.delivery_days"],
            "remote_areas": "、".join(self["shipping.remote_areas"]),
            "invoice_kinds": "、".join(self["invoice.kinds"]),
            "invoice_request_days": self["invoice.request_within_days"],
            "invoice_issue_days": self["invoice.issue_within_days"],
            "cancel_before": self["orders.cancel_before"],
            "address_change_before": self["orders.address_change_before"],
            "merge_shipping": self["orders.merge_shipping"],
            "price_protect_days": self["price_protection.days"],
            "price_protect_excludes": "、".join(self["price_protection.excludes"]),
            "coupon_rule": self["coupons.rule"],
            "member_levels": "、".join(self["membership.levels"]),
            "vip_threshold": self["membership.vip_threshold_yuan"],
            "vip_benefits": "、".join(self["membership.vip_benefits"]),
            "warranty_months": self["warranty.electronics_months"],
            "repair_days": self["warranty.repair_within_days"],
            "no_scan_hours": self["delays.no_scan_hours"],
            "auto_cancel_hours": self["unpaid.auto_cancel_hours"],
            "followup_minutes": self["followup.delay_minutes"],
        }


def load_policy(path: Path) -> Policy:
    """Load and validate a policy file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path} must contain a mapping")
    return Policy(data, source=path)


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> Policy:
    return load_policy(Path(path))


def get_policy() -> Policy:
    """The policy from SHOP_POLICY_FILE (default config/policy.yml), reloaded when edited."""
    path = get_settings().policy_file
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
    return _cached(str(path), mtime)
