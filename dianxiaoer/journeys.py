"""Order journeys: which response answers an order question, with which values.

Pure decisions over an `OrderView` snapshot and the policy, with an explicit `now`; the
action adapter only fetches the order, applies the side effects this module asks for
(tickets, coupons) and utters the responses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dianxiaoer.orders import check_delay, check_no_reason_return, delay_coupon, format_local

ORDER_ID_RE = re.compile(r"(?<!\d)(\d{12})(?!\d)")
PHONE_TAIL_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def extract_order_id(text: Any) -> str | None:
    """The 12-digit order number in an answer, if there is exactly one."""
    found = ORDER_ID_RE.findall(str(text or ""))
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


def items_text(order) -> str:
    """Summary of the order lines, e.g. 连衣裙 M码."""
    return "、".join(f"{i.name} {i.size}码" if i.size else i.name for i in order.items)


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
            "item": f"{item.name} {item.size}码" if item.size else item.name,
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


PLANNERS = {
    "status": plan_status,
    "urge": plan_urge,
    "return": plan_return,
    "payment": plan_payment,
    "cancel": plan_cancel,
    "address": plan_address,
}


def parse_pending(pending: str | None) -> tuple[str | None, list[str]]:
    """Split a pending offer: "return:202611010003:12" -> ("return", [order, item])."""
    if not pending:
        return None, []
    kind, *args = str(pending).split(":")
    return kind, args


def plan(topic: str | None, order, now: datetime, policy) -> Plan:
    """The plan for an order question on `topic` (default: status)."""
    return PLANNERS.get(topic or "status", plan_status)(order, now, policy)
