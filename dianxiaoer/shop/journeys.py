"""Order journeys: which response answers an order question, with which values.

Pure decisions over an `OrderView` snapshot and the policy, with an explicit `now`; the
action adapter only fetches the order, applies the side effects this module asks for
(tickets, coupons) and utters the responses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from dianxiaoer.core.policy import order_id_regex
from dianxiaoer.shop.orders import check_delay, check_no_reason_return, delay_coupon, format_local

PHONE_TAIL_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")


@lru_cache(maxsize=4)
def _order_id_re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def extract_order_id(text: Any) -> str | None:
    """The order number in an answer (the policy's `orders.id_pattern`), if exactly one."""
    found = _order_id_re(order_id_regex()).findall(str(text or ""))
    return found[0] if len(set(found)) == 1 else None


def extract_phone_tail(text: Any) -> str | None:
    """The 4-digit phone tail in an answer, if there is exactly one."""
    found = PHONE_TAIL_RE.findall(str(text or ""))
    return found[0] if len(set(found)) == 1 else None


@dataclass
class Reply:
    """A response to utter with its template values."""

    response: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What to say, and which side effects to perform (then say their results)."""

    replies: list[Reply] = field(default_factory=list)
    urge_ticket: dict[str, Any] | None = None  # create a 催件 ticket with these details
    coupon_yuan: float = 0.0
    pending: str | None = None  # an action awaiting the customer's yes: "cancel:<id>" ...
    followup: str | None = None  # a form to start next (address_form)


def item_name(item) -> str:
    """An order line's name with its size, e.g. 连衣裙 M码."""
    return f"{item.name} {item.size}码" if item.size else item.name


def items_text(order) -> str:
    """Summary of the order lines, e.g. 连衣裙 M码."""
    return "、".join(item_name(i) for i in order.items)


def _base(order) -> dict[str, Any]:
    scan = order.last_scan
    return {
        "order_id": order.id,
        "items": items_text(order),
        "courier": order.courier or "",
        "tracking_number": order.tracking_number or "",
        "scan_time": format_local(scan.time) if scan else "",
        "scan_location": scan.location if scan else "",
        "scan_description": scan.description if scan else "",
        "promised_at": format_local(order.promised_ship_by) if order.promised_ship_by else "",
        "signed_at": format_local(order.signed_at) if order.signed_at else "",
        "paid_at": format_local(order.paid_at) if order.paid_at else "",
        "auto_cancel_at": format_local(order.auto_cancel_at) if order.auto_cancel_at else "",
        "method": order.last_payment_method or "",
    }


def _delay(order, now: datetime, policy):
    scan = order.last_scan
    return check_delay(
        order.status,
        order.promised_ship_by,
        scan.time if scan else None,
        now,
        policy["delays.no_scan_hours"],
    )


def return_status_reply(order, policy) -> Reply:
    """Progress of the order's latest return request (RMA) and its refund."""
    latest = order.return_requests[-1]
    return Reply(
        f"utter_return_status_{latest.status}",
        {
            **_base(order),
            "rma": latest.rma,
            "refund_amount": f"{latest.refund_amount:.2f}",
            "filed_at": format_local(latest.created_at),
            "refund_days": policy["returns.refund_within_days"],
        },
    )


def plan_status(order, now: datetime, policy) -> Plan:
    """Order status with logistics; a detected delay is apologized for with options."""
    values = _base(order)
    delay = _delay(order, now, policy)
    status_response = {
        "unpaid": "utter_order_unpaid",
        "paid": "utter_order_paid_unshipped",
        "shipped": "utter_order_in_transit",
        "signed": "utter_order_signed",
        "cancelled": "utter_order_cancelled",
    }.get(order.status, "utter_order_cancelled")
    plan = Plan([Reply(status_response, values)])
    if order.return_requests:
        plan.replies.append(return_status_reply(order, policy))
    if delay.kind == "no_scan":
        plan.replies.append(Reply("utter_delay_no_scan", {**values, "hours": int(delay.hours)}))
    elif delay.kind == "unshipped_overdue":
        plan.replies.append(Reply("utter_delay_unshipped", {**values, "hours": int(delay.hours)}))
    return plan


def plan_urge(order, now: datetime, policy) -> Plan:
    """Chase a delayed parcel: a 催件 ticket and the coupon the policy grants."""
    values = _base(order)
    delay = _delay(order, now, policy)
    if delay.kind == "none":
        if order.status == "paid":
            return Plan([Reply("utter_no_delay_unshipped", values)])
        if order.status == "shipped":
            return Plan([Reply("utter_no_delay", values)])
        return plan_status(order, now, policy)
    plan = plan_status(order, now, policy)
    plan.replies = plan.replies[:1]  # the status line; the ticket replaces the options
    plan.urge_ticket = {"reason": delay.kind, "hours": round(delay.hours, 1)}
    plan.coupon_yuan = delay_coupon(order.is_vip, delay, policy)
    return plan


def plan_return(order, now: datetime, policy) -> Plan:
    """Seven-day no-reason return check per item, with the exact deadline.

    An eligible item is offered a return request (RMA) at once.
    """
    if order.return_requests:
        # A return is already filed: its progress is the answer (退款进度).
        return Plan([return_status_reply(order, policy)])
    plan = Plan()
    for item in order.items:
        check = check_no_reason_return(
            order.signed_at, item.flags, now, policy["returns.no_reason_hours"]
        )
        values = {
            **_base(order),
            "item": item_name(item),
            "deadline": format_local(check.deadline) if check.deadline else "",
        }
        if check.reason == "not_signed":
            plan.replies.append(Reply("utter_return_not_signed", values))
            break
        if check.reason == "ok":
            plan.replies.append(Reply("utter_return_eligible", values))
            if plan.pending is None and not order.returns:
                plan.replies.append(Reply("utter_offer_return", values))
                plan.pending = f"return:{order.id}:{item.id}"
        elif check.reason == "window_expired":
            plan.replies.append(Reply("utter_return_expired", values))
        else:
            plan.replies.append(Reply(f"utter_return_{check.reason}", values))
    return plan


def plan_payment(order, now: datetime, policy) -> Plan:
    """Explain a failed payment from the recorded failure reason."""
    values = _base(order)
    if order.status != "unpaid":
        return Plan([Reply("utter_payment_already_paid", values)])
    reason = order.last_failure_reason if order.last_payment_status == "failed" else None
    if reason in {"limit", "balance", "bank_maintenance", "network"}:
        return Plan([Reply(f"utter_payment_failed_{reason}", values)])
    return Plan([Reply("utter_payment_no_failure", values)])


def plan_cancel(order, now: datetime, policy) -> Plan:
    """Cancelling: allowed until shipment (after a yes); later, the return path."""
    values = _base(order)
    if order.status in {"unpaid", "paid"}:
        response = "utter_confirm_cancel_paid" if order.status == "paid" else "utter_confirm_cancel"
        return Plan([Reply(response, values)], pending=f"cancel:{order.id}")
    if order.status == "cancelled":
        return Plan([Reply("utter_order_cancelled", values)])
    return Plan([Reply("utter_cancel_too_late", values)])


def plan_address(order, now: datetime, policy) -> Plan:
    """Changing the address: allowed until shipment (the address form asks for it)."""
    values = _base(order)
    if order.status in {"unpaid", "paid"}:
        return Plan(
            [Reply("utter_address_current", {**values, "address": order.address})],
            pending=f"address:{order.id}",
            followup="address_form",
        )
    return Plan([Reply("utter_address_too_late", values)])


def plan_invoice(order, now: datetime, policy) -> Plan:
    """Invoice request: paid, not cancelled, within the request period after signing."""
    values = _base(order)
    existing = order.open_ticket("invoice")
    if existing:
        return Plan([Reply("utter_invoice_already", {**values, "ticket": existing.number})])
    if order.status in {"unpaid", "cancelled"}:
        return Plan([Reply(f"utter_invoice_not_{order.status}", values)])
    days = policy["invoice.request_within_days"]
    if order.signed_at is not None and now > order.signed_at + timedelta(days=days):
        return Plan([Reply("utter_invoice_expired", {**values, "days": days})])
    return Plan(
        [Reply("utter_invoice_start", values)],
        pending=f"invoice:{order.id}",
        followup="invoice_form",
    )


def quality_remedy(order, item, now: datetime, policy) -> str:
    """What a quality problem with `item` entitles to, by time since signing.

    not_signed (refuse or report on delivery), exchange (within the quality period: return
    or exchange, the shop pays shipping), repair (warranty categories within the warranty),
    expired (a human assesses it).
    """
    if order.signed_at is None:
        return "not_signed"
    if now <= order.signed_at + timedelta(days=policy["returns.quality_issue_days"]):
        return "exchange"
    months = policy["warranty.electronics_months"]
    # Months counted as 30-day periods: the shop's rule is generous at month ends.
    if item.category in policy["warranty.categories"] and now <= order.signed_at + timedelta(
        days=30 * months
    ):
        return "repair"
    return "expired"


def plan_quality(order, now: datetime, policy) -> Plan:
    """A quality problem: exchange/return, repair or a human, per item, per the policy."""
    existing = order.open_ticket("aftersale")
    if existing:
        return Plan([Reply("utter_aftersale_exists", {**_base(order), "ticket": existing.number})])
    plan = Plan()
    for item in order.items:
        remedy = quality_remedy(order, item, now, policy)
        values = {**_base(order), "item": item_name(item)}
        plan.replies.append(Reply(f"utter_quality_{remedy}", values))
        if remedy in {"exchange", "repair"} and plan.pending is None:
            plan.pending = f"aftersale:{order.id}:{item.id}:{remedy}"
        if remedy == "not_signed":
            break
    return plan


PLANNERS = {
    "status": plan_status,
    "urge": plan_urge,
    "return": plan_return,
    "payment": plan_payment,
    "cancel": plan_cancel,
    "address": plan_address,
    "invoice": plan_invoice,
    "quality": plan_quality,
}


#: Words that close a conversation when no question is open ("没了 谢谢", "就这些").
CLOSING_CUES = (
    "谢谢",
    "多谢",
    "感谢",
    "就这些",
    "没别的",
    "没有别的",
    "没其他",
    "没有其他",
    "先这样",
    "没事了",
    "没了",
    "没有了",
    "不用了",
    "好了",
    "拜拜",
    "再见",
    "thx",
    "thank",
)


def is_closing(text: str | None) -> bool:
    """True when a "no" also ends the conversation ("不用了 谢谢", "没别的了")."""
    from dianxiaoer.core.text import normalize

    clean = normalize(text or "").text.lower()
    return any(cue in clean for cue in CLOSING_CUES)


def parse_pending(pending: str | None) -> tuple[str | None, list[str]]:
    """Split a pending offer: "return:202611010003:12" -> ("return", [order, item])."""
    if not pending:
        return None, []
    kind, *args = str(pending).split(":")
    return kind, args


def plan(topic: str | None, order, now: datetime, policy) -> Plan:
    """The plan for an order question on `topic` (default: status)."""
    return PLANNERS.get(topic or "status", plan_status)(order, now, policy)


# 统一社会信用代码 (18) or the older 15/20-character tax numbers.
_TAX_ID_RE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Z]{15}|[0-9A-Z]{18}|[0-9A-Z]{20})(?![0-9A-Za-z])")
_ORG_WORDS = (
    "公司",
    "集团",
    "厂",
    "中心",
    "事务所",
    "研究院",
    "学校",
    "大学",
    "医院",
    "银行",
    "工作室",
    "协会",
    "委员会",
    "商行",
    "门市部",
    "经营部",
    "合作社",
)
_TITLE_PREFIX = re.compile(r"^(?:发票)?(?:抬头|名称)?\s*(?:是|为|写|开)?\s*[:：]?\s*")


@dataclass(frozen=True)
class InvoiceTitle:
    """A parsed invoice title answer; `problem` is None when it can be used."""

    title: str
    tax_id: str | None
    problem: str | None  # too_short, need_tax_id


def parse_invoice_title(text: Any) -> InvoiceTitle:
    """Title (抬头) and tax id from an answer like "杭州某某科技有限公司 9133010...".

    Personal titles ("个人", a name) need no tax id; organisations need one.
    """
    raw = str(text or "").strip()
    tax = _TAX_ID_RE.search(raw.upper())
    tax_id = tax.group(1) if tax else None
    title = _TAX_ID_RE.sub(" ", raw.upper() if tax else raw)
    title = re.sub(r"(?:税号|信用代码|统一社会信用代码)\s*[:：]?", " ", title)
    title = _TITLE_PREFIX.sub("", title.strip()).strip(" ，,。;；")
    title = re.sub(r"\s+", " ", title)[:60]
    if len(title) < 2 and title != "个人":
        return InvoiceTitle(title, tax_id, "too_short")
    if any(word in title for word in _ORG_WORDS) and not tax_id:
        return InvoiceTitle(title, None, "need_tax_id")
    return InvoiceTitle(title, tax_id, None)
