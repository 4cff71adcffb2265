"""Shop policy values (return window, hours, hotline, thresholds) from config/policy.yml."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dianxiaoer.core.files import file_stamp
from dianxiaoer.core.settings import get_settings

logger = logging.getLogger(__name__)

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
    "returns.shipping_fee_by_reason": dict,
    "returns.freight_collect": str,
    "returns.shipping_reimburse_max_yuan": (int, float),
    "returns.shipping_reimburse_how": str,
    "payment.methods": list,
    "payment.instalments": str,
    "payment.cash_on_delivery": str,
    "payment.instalment_fee_payer": str,
    "shipping.ship_within_hours": int,
    "shipping.couriers": list,
    "shipping.free_shipping_over_yuan": (int, float),
    "shipping.delivery_days": str,
    "shipping.remote_areas": list,
    "shipping.default_courier": str,
    "shipping.ship_from": str,
    "shipping.delivery_days_by_region": list,
    "shipping.express_courier": str,
    "shipping.express_surcharge_yuan": (int, float),
    "shipping.same_day_cutoff": str,
    "delivery.remark_before": str,
    "delivery.courier_help_reply_hours": int,
    "delivery.signed_not_received_report_hours": int,
    "delivery.signed_not_received_reply_days": int,
    "delivery.signed_not_received_remedy": str,
    "delivery.damaged_parcel_report_hours": int,
    "delivery.damaged_parcel_remedy": str,
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
    "orders.recipient_change_before": str,
    "orders.id_pattern": str,
    "orders.id_format": str,
    "orders.id_example": str,
    "price_protection.days": int,
    "price_protection.excludes": list,
    "price_protection.claim": str,
    "price_protection.refund_within_days": int,
    "coupons.rule": str,
    "coupons.expire_notice_days": int,
    "coupons.claim_where": str,
    "coupons.claim_limit_per_customer": int,
    "coupons.new_customer_coupon_yuan": (int, float),
    "coupons.new_customer_min_spend_yuan": (int, float),
    "promotions.full_reduction": list,
    "promotions.stacking": str,
    "promotions.where": str,
    "promotions.bulk_min_items": int,
    "gifts.rule": str,
    "gifts.exchange": str,
    "gifts.with_return": str,
    "reissue.report_within_days": int,
    "reissue.missing_part_days": int,
    "reissue.evidence": list,
    "shelf_life.categories": list,
    "shelf_life.food_min_remaining": str,
    "shelf_life.cosmetics_min_remaining_months": int,
    "membership.levels": list,
    "membership.vip_threshold_yuan": (int, float),
    "membership.vip_benefits": list,
    "warranty.categories": list,
    "warranty.electronics_months": int,
    "warranty.repair_within_days": int,
    "complaints.coupon_yuan": (int, float),
    "complaints.vip_coupon_yuan": (int, float),
    "complaints.angry_level": int,
    "complaints.empathy_level": int,
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
    "knowledge.answer_close_min_score": (int, float),
    "knowledge.paraphrase_min_confidence": (int, float),
    "nlu.max_message_chars": int,
    "nlu.fallback_suggestions": int,
    "nlu.fallback_min_confidence": (int, float),
    "nlu.fallback_small_talk_confidence": (int, float),
    "order_api.retries": int,
    "order_api.backoff_seconds": (int, float),
    "order_api.backoff_max_seconds": (int, float),
    "order_api.breaker_failures": int,
    "order_api.breaker_cooldown_seconds": (int, float),
}

# Verification limits, per conversation and across them (dianxiaoer/shop/verification.py):
# all positive.
VERIFICATION_LIMITS = tuple(
    key
    for key in REQUIRED_KEYS
    if key.startswith("verification.") and key != "verification.token_ttl_seconds"
)


# Counts of days, hours and items that answers quote: a zero or negative one is a typo.
POSITIVE_COUNTS = (
    "returns.shipping_reimburse_max_yuan",
    "shipping.express_surcharge_yuan",
    "delivery.courier_help_reply_hours",
    "delivery.signed_not_received_report_hours",
    "delivery.signed_not_received_reply_days",
    "delivery.damaged_parcel_report_hours",
    "price_protection.refund_within_days",
    "coupons.claim_limit_per_customer",
    "coupons.new_customer_coupon_yuan",
    "promotions.bulk_min_items",
    "reissue.report_within_days",
    "reissue.missing_part_days",
    "shelf_life.cosmetics_min_remaining_months",
)
#: Return reasons `returns.shipping_fee_by_reason` must price (the FAQ quotes each).
RETURN_FEE_REASONS = ("no_reason", "quality", "wrong_item", "transit_damage")
_DAYS_RANGE = re.compile(r"\d+(-\d+)?")


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
        # the order API client (dianxiaoer/store/order_source.py): retries may be 0, the
        # rest must be positive (a breaker of 0 failures would never let a call out)
        if self.get("order_api.retries") < 0:
            raise PolicyError(f"{source}: 'order_api.retries' must not be negative")
        for key in REQUIRED_KEYS:
            if key.startswith("order_api.") and key != "order_api.retries" and self.get(key) <= 0:
                raise PolicyError(f"{source}: '{key}' must be positive")
        self._check_answer_facts()
        self._check_order_ids()

    def _check_order_ids(self) -> None:
        """The order-number pattern compiles, has no groups and is not too loose."""
        pattern = self["orders.id_pattern"]
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise PolicyError(
                f"{self.source}: 'orders.id_pattern' is not a regular expression: {exc}"
            ) from exc
        if compiled.groups:
            raise PolicyError(f"{self.source}: 'orders.id_pattern' must not have groups ( )")
        # the example is not required to match: the admin page changes one value at a
        # time, and the pattern and its example could then never change together
        # a phone tail or a price must never be read as an order number
        if any(compiled.fullmatch(s) for s in ("1234", "12345", "2026", "199")):
            raise PolicyError(
                f"{self.source}: 'orders.id_pattern' {pattern!r} also matches short numbers "
                "such as phone tails; make it at least 6 characters long"
            )

    def _check_answer_facts(self) -> None:
        """The structured facts FAQ answers quote (return fees, regions, courier, tiers)."""
        source = self.source
        for key in POSITIVE_COUNTS:
            if self.get(key) <= 0:
                raise PolicyError(f"{source}: '{key}' must be positive")
        fees = self["returns.shipping_fee_by_reason"]
        for reason in RETURN_FEE_REASONS:
            item = fees.get(reason)
            if not (
                isinstance(item, dict)
                and isinstance(item.get("reason"), str)
                and isinstance(item.get("payer"), str)
            ):
                raise PolicyError(
                    f"{source}: 'returns.shipping_fee_by_reason.{reason}' needs reason and payer"
                )
        if fees["no_reason"]["payer"] != self["returns.no_reason_shipping_payer"]:
            raise PolicyError(
                f"{source}: shipping_fee_by_reason.no_reason.payer must be no_reason_shipping_payer"
            )
        regions = self["shipping.delivery_days_by_region"]
        if not regions or not all(
            isinstance(r, dict)
            and isinstance(r.get("region"), str)
            and isinstance(r.get("days"), str)
            and _DAYS_RANGE.fullmatch(r["days"])
            for r in regions
        ):
            raise PolicyError(
                f"{source}: 'shipping.delivery_days_by_region' must list {{region, days: \"1-2\"}}"
            )
        for key in ("shipping.default_courier", "shipping.express_courier"):
            if self[key] not in self["shipping.couriers"]:
                raise PolicyError(f"{source}: '{key}' must be one of shipping.couriers")
        tiers = self["promotions.full_reduction"]
        overs = [t.get("over") if isinstance(t, dict) else None for t in tiers]
        if (
            not tiers
            or not all(
                isinstance(t, dict)
                and isinstance(t.get("over"), int | float)
                and isinstance(t.get("cut"), int | float)
                and 0 < t["cut"] < t["over"]
                for t in tiers
            )
            # every tier is a dict with a numeric "over" here
            or overs != sorted({t["over"] for t in tiers})
        ):
            raise PolicyError(
                f"{source}: 'promotions.full_reduction' must list {{over, cut}} tiers, "
                "0 < cut < over, by increasing over"
            )
        if self["coupons.new_customer_coupon_yuan"] >= self["coupons.new_customer_min_spend_yuan"]:
            raise PolicyError(f"{source}: the new-customer coupon must be below its min spend")
        for key in ("reissue.evidence", "shelf_life.categories"):
            if not self[key] or not all(isinstance(v, str) for v in self[key]):
                raise PolicyError(f"{source}: '{key}' must be a non-empty list of text")

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
            "ship_cutoff": self["shipping.same_day_cutoff"],
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
            "order_id_format": self["orders.id_format"],
            "order_id_example": self["orders.id_example"],
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
            # FAQ facts of issue 16 (docs/knowledge.md lists the placeholders)
            **self._faq_values(),
        }

    def _faq_values(self) -> dict[str, Any]:
        fees = self["returns.shipping_fee_by_reason"]
        by_payer: dict[str, list[str]] = {}
        for item in fees.values():
            by_payer.setdefault(item["payer"], []).append(item["reason"])
        return {
            "return_fee_no_reason": fees["no_reason"]["payer"],
            "return_fee_quality": fees["quality"]["payer"],
            "return_fee_wrong_item": fees["wrong_item"]["payer"],
            "return_fee_damage": fees["transit_damage"]["payer"],
            # 无理由退换（…）由买家承担；质量问题、发错货、运输损坏由店铺承担
            "return_fee_by_reason": "；".join(
                f"{'、'.join(reasons)}由{payer}承担" for payer, reasons in by_payer.items()
            ),
            "return_freight_collect": self["returns.freight_collect"],
            "return_fee_max": self["returns.shipping_reimburse_max_yuan"],
            "return_fee_how": self["returns.shipping_reimburse_how"],
            "instalment_fee_payer": self["payment.instalment_fee_payer"],
            "default_courier": self["shipping.default_courier"],
            "ship_from": self["shipping.ship_from"],
            "delivery_days_by_region": "；".join(
                f"{r['region']}{r['days']}天" for r in self["shipping.delivery_days_by_region"]
            ),
            "express_courier": self["shipping.express_courier"],
            "express_surcharge": self["shipping.express_surcharge_yuan"],
            "delivery_remark_before": self["delivery.remark_before"],
            "courier_help_hours": self["delivery.courier_help_reply_hours"],
            "signed_report_hours": self["delivery.signed_not_received_report_hours"],
            "signed_reply_days": self["delivery.signed_not_received_reply_days"],
            "signed_remedy": self["delivery.signed_not_received_remedy"],
            "damaged_report_hours": self["delivery.damaged_parcel_report_hours"],
            "damaged_remedy": self["delivery.damaged_parcel_remedy"],
            "recipient_change_before": self["orders.recipient_change_before"],
            "price_protect_claim": self["price_protection.claim"],
            "price_protect_refund_days": self["price_protection.refund_within_days"],
            "coupon_claim_where": self["coupons.claim_where"],
            "coupon_claim_limit": self["coupons.claim_limit_per_customer"],
            "new_customer_coupon": self["coupons.new_customer_coupon_yuan"],
            "new_customer_min_spend": self["coupons.new_customer_min_spend_yuan"],
            "full_reduction": "、".join(
                f"满{t['over']}减{t['cut']}" for t in self["promotions.full_reduction"]
            ),
            "promo_stacking": self["promotions.stacking"],
            "promo_where": self["promotions.where"],
            "bulk_min_items": self["promotions.bulk_min_items"],
            "gift_rule": self["gifts.rule"],
            "gift_exchange": self["gifts.exchange"],
            "gift_with_return": self["gifts.with_return"],
            "reissue_report_days": self["reissue.report_within_days"],
            "reissue_days": self["reissue.missing_part_days"],
            "reissue_evidence": "、".join(self["reissue.evidence"]),
            "shelf_life_categories": "、".join(self["shelf_life.categories"]),
            "food_min_remaining": self["shelf_life.food_min_remaining"],
            "cosmetics_min_months": self["shelf_life.cosmetics_min_remaining_months"],
        }


def merge_values(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it.

    Mappings merge key by key; anything else (text, numbers, lists) is replaced whole.
    Neither argument is changed.
    """
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_mapping(path: Path, what: str, empty_ok: bool = False) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read {what} {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{what} {path} is not valid YAML: {exc}") from exc
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise PolicyError(f"{what} {path} must contain a mapping")
    return data


def load_policy(path: Path, overrides: Path | None = None) -> Policy:
    """Load and validate a policy file, with the shop's `overrides` file merged over it.

    The overrides (SHOP_POLICY_OVERRIDES, written by the admin page) hold only the values
    the shop changed, so the shipped, commented policy file stays as it is; the merged
    values are validated as one policy (errors name the overrides file).
    """
    data = _read_mapping(path, "policy file")
    if overrides is not None and overrides.exists():
        data = merge_values(data, _read_mapping(overrides, "policy overrides", empty_ok=True))
        return Policy(data, source=overrides)
    return Policy(data, source=path)


@lru_cache(maxsize=4)
def _cached(path: str, stamp: tuple, overrides: str, overrides_stamp: tuple) -> Policy:
    if not any(overrides_stamp):
        return load_policy(Path(path))
    try:
        return load_policy(Path(path), Path(overrides))
    except PolicyError:
        # The admin page validates before it writes, so this is a hand edit gone wrong:
        # answering with the shipped values beats failing every turn. Logged once per
        # version of the file (the cache keeps the result).
        logger.exception("policy overrides %s refused; using %s alone", overrides, path)
        return load_policy(Path(path))


def get_policy() -> Policy:
    """The policy from SHOP_POLICY_FILE (default config/policy.yml), overrides merged.

    The shop's SHOP_POLICY_OVERRIDES (the admin page's changes) are merged over it; both
    are reloaded when either file changes (two stats a call), so a change applies without
    a restart. Overrides that fail validation are logged and left out.
    """
    settings = get_settings()
    path, overrides = settings.policy_file, settings.shop_policy_overrides
    stamp = file_stamp(path)
    if not any(stamp):
        raise PolicyError(f"cannot read policy file {path}")
    return _cached(str(path), stamp, str(overrides), file_stamp(overrides))


def order_id_regex(policy: Policy | None = None) -> str:
    """The policy's order-number pattern, standing alone (not inside a longer code).

    Used by the form's answer check and, through `make data`, as the NLU regex.
    """
    pattern = (policy or get_policy())["orders.id_pattern"]
    return rf"(?<![0-9A-Za-z])(?:{pattern})(?![0-9A-Za-z])"
