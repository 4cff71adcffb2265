"""Order verification (verify_order_form) and answers about the customer's own order.

The phone-tail check is limited across conversations (`dianxiaoer.shop.verification`, rows in
`dianxiaoer.store.verification`): a locked order, customer, conversation id or client IP
gets the cooling reply and the tail is not compared. The client IP is the message
metadata's `client_ip`, when the channel sets it.

The shop changes made here for an accepted offer (cancellation, compensation coupon,
after-sale ticket, return) carry an `EffectKey`, so a turn that runs again — the first
answer never reached the customer and they say yes again — repeats the first result
instead of making the change twice (`dianxiaoer.store.repository`).
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity_values, free_text_answer, metadata_value, survives_store_outage
from actions.human import hand_over
from dianxiaoer.core.auth import phone_tail_matches, verify_customer_token
from dianxiaoer.core.inbound import CLIENT_IP_KEY
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.service_hours import shanghai_now
from dianxiaoer.shop import journeys, problems
from dianxiaoer.shop.verification import Limits, minutes_left
from dianxiaoer.store import repository
from dianxiaoer.store import verification as checks
from dianxiaoer.store.repository import EffectKey

#: Invalid answers (wrong format) tolerated before a human is offered.
MAX_INVALID = 2


def _now() -> datetime:
    """The clock of the journeys (patched in tests)."""
    return shanghai_now()


def token_customer(tracker: Tracker) -> str | None:
    """Customer id from a valid signed token in the message metadata (shop page login)."""
    return verify_customer_token(metadata_value(tracker, "customer_token"))


def _count(tracker: Tracker, slot: str) -> int:
    return int(tracker.get_slot(slot) or 0)


def client_ip(tracker: Tracker) -> str | None:
    """The customer's IP address, if the channel put it in the message metadata.

    A loopback address is no customer's: it is a proxy or test client on this machine
    (every customer behind it would share one limit), so it counts as unknown.
    """
    value = metadata_value(tracker, CLIENT_IP_KEY)
    try:
        address = ipaddress.ip_address(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None
    return None if address is None or address.is_loopback else str(address)


def _limits() -> Limits:
    return Limits.from_policy(get_policy())


def _check_locked_until(tracker: Tracker, order_id: str | None) -> datetime | None:
    """When the phone-tail check opens again for this order and requester (None: open)."""
    return checks.locked_until(order_id, tracker.sender_id, client_ip(tracker), _now())


def offer_key(tracker: Tracker, action: str) -> EffectKey | None:
    """The key of a change that carries out the pending offer: once per offer.

    The offer ("cancel:<order>", "return:<order>:<item>", ...) is the anchor, so saying
    yes again to the same offer gets the first result.
    """
    offer = tracker.get_slot("pending_action")
    return EffectKey(tracker.sender_id, action, str(offer)) if offer else None


def message_key(tracker: Tracker, action: str) -> EffectKey:
    """The key of a change that answers the latest user message: once per text.

    The anchor is the message's text (hashed): the same complaint sent again because its
    answer never arrived is the same change, whatever id the channel gave the resend.
    """
    event: dict[str, Any] = next(
        (e for e in reversed(tracker.events) if e.get("event") == "user"), {}
    )
    text = str(event.get("text") or tracker.latest_message.get("text") or "")
    digest = hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()
    return EffectKey(tracker.sender_id, action, f"text:{digest[:32]}")


@survives_store_outage
class ValidateVerifyOrderForm(FormValidationAction):
    """Check the order number and phone tail.

    Never reveals anything about an order that does not match; gives up after too many
    failures.
    """

    def name(self) -> str:
        """Validation action of verify_order_form."""
        return "validate_verify_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        """No slot once locked; no phone tail once the customer is known."""
        policy = get_policy()
        if (
            _count(tracker, "verification_failures") >= policy["verification.max_failures"]
            or _count(tracker, "invalid_attempts") >= MAX_INVALID
        ):
            return []
        if tracker.get_slot("verified_customer") or token_customer(tracker):
            return ["order_id"]
        return domain_slots

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A known customer naming a product ("我的耳机到哪了") means their one order of it."""
        customer = tracker.get_slot("verified_customer") or token_customer(tracker)
        if tracker.get_slot("order_id") or not customer:
            return {}
        named = set(entity_values(tracker, "product"))
        if not named:
            return {}
        matches = [
            o.id
            for o in repository.orders_of(customer)
            if any(name and name in o.items for name in named)
        ]
        return {"order_id": matches[0]} if len(matches) == 1 else {}

    def _invalid(self, dispatcher, tracker, slot: str, response: str) -> dict[str, Any]:
        attempts = _count(tracker, "invalid_attempts") + 1
        if attempts < MAX_INVALID:
            dispatcher.utter_message(response=response)
        return {slot: None, "invalid_attempts": attempts}

    def _mismatch(self, dispatcher, tracker) -> dict[str, Any]:
        failures = _count(tracker, "verification_failures") + 1
        remaining = get_policy()["verification.max_failures"] - failures
        if remaining > 0:
            dispatcher.utter_message(response="utter_verification_failed", remaining=remaining)
            return {"order_id": None, "phone_tail": None, "verification_failures": failures}
        # locked: the order tried stays for action_answer_order (one handoff per order)
        return {"phone_tail": None, "verification_failures": failures}

    @staticmethod
    def _cooling(order_id: str | None) -> dict[str, Any]:
        """The check is locked across conversations: stop the form without comparing.

        action_answer_order finds the lock in the store and says how long to wait.
        """
        return {
            "order_id": order_id,
            "phone_tail": None,
            "verification_failures": get_policy()["verification.max_failures"],
        }

    async def validate_order_id(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """A 12-digit number; for a known customer, one of their own orders."""
        order_id = journeys.extract_order_id(value)
        if order_id is None:
            return self._invalid(dispatcher, tracker, "order_id", "utter_invalid_order_id")
        customer = tracker.get_slot("verified_customer") or token_customer(tracker)
        if not customer:
            # no lookup yet: whether the number exists, or is locked, shows no sooner than
            # the phone tail, and the same for every number
            return {"order_id": order_id}
        order = repository.find_order(order_id)
        if order is None or order.customer_id != customer:
            return self._mismatch(dispatcher, tracker)
        return {"order_id": order_id, "verified_customer": customer, "verified_order": order_id}

    async def validate_phone_tail(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Four digits matching the phone number of the order's customer."""
        tail = journeys.extract_phone_tail(value)
        if tail is None:
            return self._invalid(dispatcher, tracker, "phone_tail", "utter_invalid_phone_tail")
        order_id = tracker.get_slot("order_id")
        if not order_id:
            return self._mismatch(dispatcher, tracker)
        limits, now = _limits(), _now()
        # counted (in the shop store, for every conversation) before anything is compared
        gate = checks.begin(order_id, tracker.sender_id, client_ip(tracker), now, limits)
        if not gate.allowed or gate.attempt is None:  # allowed: there is an attempt
            return self._cooling(order_id)
        order = repository.find_order(order_id)
        matched = order is not None and phone_tail_matches(order.customer_phone, tail)
        if checks.finish(gate.attempt, matched, now, limits):
            return self._cooling(order_id)  # this wrong tail locked the check
        if not matched or order is None:  # matched: the order exists
            return self._mismatch(dispatcher, tracker)
        return {
            "phone_tail": tail,
            "verified_customer": order.customer_id,
            "verified_order": order.id,
            "verification_failures": 0,
            "invalid_attempts": 0,
        }


def _asked_anything_else(tracker: Tracker) -> bool:
    """Whether the bot's last message asked "还有其他需要吗" (a no then closes)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            action = (event.get("metadata") or {}).get("utter_action")
            return action in {"utter_anything_else", "utter_ok_deny"}
    return False


class ActionAskOrderId(Action):
    """The form's question for the order number, after acknowledging a reported problem.

    Answer first, then ask: when the message that opened the form reports a problem
    ("洗了一次就缩水了", "少发了一个配件", "显示签收了但没收到"), the first question is
    preceded by the reply for that problem (apology, what the shop does under the policy,
    what evidence to prepare; `dianxiaoer.shop.problems`). A repeated question (after a wrong
    format) is only the question.
    """

    #: Topics whose form is not about something gone wrong (cancel, address, invoice):
    #: a cue such as 还没发货 there describes the order, not a complaint.
    NO_ACKNOWLEDGEMENT = frozenset({"cancel", "address", "invoice"})
    #: Introductions by topic when no problem is named; a status question needs none,
    #: the order itself is the answer.
    INTRODUCTIONS = {
        "urge": "utter_order_intro_urge",
        "return": "utter_order_intro_return",
        "payment": "utter_order_intro_payment",
        "quality": "utter_order_intro_quality",
        "cancel": "utter_order_intro_cancel",
        "address": "utter_order_intro_address",
        "invoice": "utter_order_intro_invoice",
    }

    def name(self) -> str:
        """Rasa's form asks with action_ask_<slot> when the domain has it."""
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the problem's reply (first ask only), then utter_ask_order_id."""
        events = self.acknowledge(dispatcher, tracker, "order_id", introduce=True)
        dispatcher.utter_message(response="utter_ask_order_id")
        return events

    @classmethod
    def acknowledge(
        cls, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, introduce: bool
    ) -> list[dict[str, Any]]:
        """Before the form's first question for `slot`: the reply for a reported problem.

        With `introduce`, a request that names no problem gets its topic's introduction.
        A status question that reports a problem ("单号… 橙子是烂的 不给售后") becomes
        that problem's journey, so the answer after verification is about the problem.
        """
        if tracker.get_slot("requested_slot") == slot:
            return []  # a repeated question (after a wrong format) is only the question
        topic = tracker.get_slot("order_topic")
        kind = None
        if topic not in cls.NO_ACKNOWLEDGEMENT:
            kind = problems.problem_kind(tracker.latest_message.get("text"))
        if kind is not None:
            dispatcher.utter_message(
                response=problems.response_for(kind), **get_policy().reply_values()
            )
            if topic == "status" and problems.TOPIC[kind] != "status":
                return [SlotSet("order_topic", problems.TOPIC[kind])]
        elif introduce and topic in cls.INTRODUCTIONS:
            # no specific problem named: what the shop does for this kind of request
            dispatcher.utter_message(
                response=cls.INTRODUCTIONS[topic], **get_policy().reply_values()
            )
        return []


class ActionAskPhoneTail(Action):
    """The form's question for the phone tail, after acknowledging a reported problem.

    When the order number came with the problem, the form starts here; the problem is
    acknowledged as `action_ask_order_id` does when the number comes later.
    """

    def name(self) -> str:
        """Rasa's form asks with action_ask_<slot> when the domain has it."""
        return "action_ask_phone_tail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the problem's reply (when the form starts here), then utter_ask_phone_tail."""
        events: list[dict[str, Any]] = []
        if tracker.get_slot("requested_slot") is None:
            # the form starts at the phone tail: the order number came with the problem
            events = ActionAskOrderId.acknowledge(dispatcher, tracker, "phone_tail", False)
        dispatcher.utter_message(response="utter_ask_phone_tail")
        return events


@survives_store_outage
class ActionAnswerOrder(Action):
    """Answer the order question (status, 催件, return, payment) for a verified order."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_answer_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the plan for the topic; create the ticket and coupon it asks for."""
        policy = get_policy()
        order_id = tracker.get_slot("verified_order")
        order = repository.find_order(order_id) if order_id else None
        if order is None or order.customer_id != tracker.get_slot("verified_customer"):
            return self._not_verified(dispatcher, tracker)
        if tracker.get_slot("order_topic") == "complaint":
            # verified to ask about their complaints: the complaint status answers
            return [SlotSet("order_topic", None), FollowupAction("action_complaint_status")]
        now = _now()
        plan = journeys.plan(tracker.get_slot("order_topic"), order, now, policy)
        values = policy.reply_values()
        for reply in plan.replies:
            dispatcher.utter_message(response=reply.response, **{**values, **reply.values})
        events = []
        if plan.urge_ticket is not None:
            events += self._urge(dispatcher, order, plan, now, policy)
        # Keep who the customer is; forget the order so the next question asks which one.
        events += [
            SlotSet("order_id", None),
            SlotSet("phone_tail", None),
            SlotSet("invalid_attempts", 0),
            SlotSet("pending_action", plan.pending),
        ]
        if plan.followup:
            events.append(FollowupAction(plan.followup))
        return events

    @staticmethod
    def _not_verified(dispatcher, tracker) -> list[dict[str, Any]]:
        """Say why there is no order to answer.

        Wrong formats; a lock across conversations (wait, or log in on the shop page); or
        this conversation's failures (a human, queued at most once per order).
        """
        events = [SlotSet("order_id", None), SlotSet("phone_tail", None)]
        if _count(tracker, "invalid_attempts") >= MAX_INVALID:
            dispatcher.utter_message(response="utter_too_many_invalid")
            return events
        tried = tracker.get_slot("order_id")
        until = _check_locked_until(tracker, tried)
        if until:
            dispatcher.utter_message(
                response="utter_verification_cooling", minutes=minutes_left(until, _now())
            )
            # the store holds the lock now; another order may still be asked about
            return [*events, SlotSet("verification_failures", 0)]
        dispatcher.utter_message(response="utter_verification_locked")
        if tried and not checks.claim_lockout_handoff(tried, _now(), _limits()):
            return events  # this order was queued for a human already: no flood
        # locked out: a human verifies them; the bot goes on with other questions
        return events + hand_over(dispatcher, tracker, reason="lockout", pause=False)

    @staticmethod
    def _urge(dispatcher, order, plan, now, policy) -> list[dict[str, Any]]:
        """The 催件 ticket and compensation; the delay is handled, so ask for a rating.

        Once per order: both in one transaction, and an open 催件 ticket gets no second
        one (asked again, the customer hears its number).
        """
        coupon = None
        if plan.coupon_yuan:
            coupon = (
                plan.coupon_yuan,
                policy["compensation.coupon_min_spend_yuan"],
                policy["compensation.coupon_valid_days"],
                "物流延迟补偿",
            )
        urge = repository.urge_delivery(
            order.id,
            order.customer_id,
            "high" if plan.coupon_yuan else "normal",
            plan.urge_ticket,
            now,
            coupon,
        )
        if urge.existed:
            dispatcher.utter_message(response="utter_urge_ticket_exists", ticket=urge.ticket)
            return []
        ticket = urge.ticket
        dispatcher.utter_message(response="utter_urge_ticket", ticket=ticket)
        if urge.coupon:
            dispatcher.utter_message(
                response="utter_delay_compensation",
                coupon=urge.coupon,
                amount=int(plan.coupon_yuan),
                min_spend=int(policy["compensation.coupon_min_spend_yuan"]),
                valid_days=policy["compensation.coupon_valid_days"],
            )
        dispatcher.utter_message(response="utter_ask_rating")
        return [SlotSet("last_journey", "delay"), SlotSet("last_ticket", ticket)]


def owned_offer(tracker: Tracker, kind: str | None = None):
    """The pending offer's order and arguments, if the customer may act on it.

    That is: the offer is of `kind` (any if None) and concerns an order of the verified
    customer. Returns (order, args), or None.
    """
    pending_kind, args = journeys.parse_pending(tracker.get_slot("pending_action"))
    if not pending_kind or (kind and pending_kind != kind) or not args:
        return None
    order = repository.find_order(args[0])
    if order is None or order.customer_id != tracker.get_slot("verified_customer"):
        return None
    return order, args


def owned_pending(tracker: Tracker, kind: str | None = None) -> list[str] | None:
    """The arguments of the pending offer, if the customer may act on it (see owned_offer)."""
    offer = owned_offer(tracker, kind)
    return offer[1] if offer else None


@survives_store_outage
class ActionConfirmPending(Action):
    """Handle every yes/no.

    A yes/no answers the bot's pending offer (cancel the order, file a return); with
    nothing pending it gets a plain acknowledgement.
    """

    def name(self) -> str:
        """Action name used in rules."""
        return "action_confirm_pending"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Carry out (affirm) or drop (deny) the pending action."""
        kind, _ = journeys.parse_pending(tracker.get_slot("pending_action"))
        offer = owned_offer(tracker)
        args = offer[1] if offer else None
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        done = [SlotSet("pending_action", None)]
        if kind is None:  # a yes/no to nothing in particular
            if intent == "affirm":
                response = "utter_anything_else"
            elif journeys.is_closing(tracker.latest_message.get("text")) or _asked_anything_else(
                tracker
            ):
                # "没了 谢谢" after "还有其他需要吗": asking again would be a loop
                response = "utter_goodbye"
            else:
                response = "utter_ok_deny"
            dispatcher.utter_message(response=response)
            return done
        if intent != "affirm" or args is None:
            dispatcher.utter_message(response="utter_ok_deny")
            return done
        if kind == "cancel":
            result = repository.cancel_order(
                args[0], _now(), key=offer_key(tracker, "action_confirm_pending")
            )
            response = {
                "cancelled": "utter_order_cancelled_now",
                "refund": "utter_order_cancelled_refund",
            }.get(result, "utter_cancel_too_late")
            dispatcher.utter_message(
                response=response, order_id=args[0], **get_policy().reply_values()
            )
            return done
        if kind == "return":
            # keep the pending return for the form's submit step
            return [FollowupAction("return_form")]
        key = offer_key(tracker, "action_confirm_pending")
        if kind == "aftersale" and len(args) == 3:
            self._aftersale(dispatcher, offer[0], args, key)
            return done
        if kind == "compensate" and len(args) == 2:
            self._compensate(dispatcher, offer[0], args[1], key)
            return done
        dispatcher.utter_message(response="utter_ok_deny")
        return done

    @staticmethod
    def _compensate(dispatcher, order, ticket: str, key: EffectKey | None = None) -> None:
        """The coupon a 补救 complaint was offered, issued to the order's customer."""
        policy = get_policy()
        amount = policy["complaints.vip_coupon_yuan" if order.is_vip else "complaints.coupon_yuan"]
        coupon = repository.issue_coupon(
            order.customer_id,
            amount,
            policy["compensation.coupon_min_spend_yuan"],
            policy["compensation.coupon_valid_days"],
            f"投诉补偿 {ticket}",
            _now(),
            key=key,
        )
        dispatcher.utter_message(
            response="utter_complaint_coupon_issued",
            coupon=coupon,
            ticket=ticket,
            amount=int(amount),
            min_spend=int(policy["compensation.coupon_min_spend_yuan"]),
            valid_days=policy["compensation.coupon_valid_days"],
        )
        dispatcher.utter_message(response="utter_ask_rating")

    @staticmethod
    def _aftersale(dispatcher, order, args: list[str], key: EffectKey | None = None) -> None:
        """Open the exchange/repair ticket the customer accepted (quality problem)."""
        _, item_id, remedy = args
        item = next((i for i in order.items if str(i.id) == item_id), None)
        if item is None:
            dispatcher.utter_message(response="utter_ok_deny")
            return
        existing = repository.open_ticket_for(order.id, "aftersale")
        if existing and (key is None or repository.side_effect(key) != existing):
            dispatcher.utter_message(
                response="utter_aftersale_exists", order_id=order.id, ticket=existing
            )
            return
        item_name = journeys.item_name(item)
        ticket = repository.create_ticket(
            "aftersale",
            _now(),
            order.id,
            order.customer_id,
            "normal",
            {"item_id": item.id, "item": item_name, "remedy": remedy},
            key=key,
        )
        dispatcher.utter_message(
            response=f"utter_aftersale_ticket_{remedy}",
            ticket=ticket,
            item=item_name,
            order_id=order.id,
            **get_policy().reply_values(),
        )


class ValidateAddressForm(FormValidationAction):
    """A new delivery address: Chinese text long enough to be an address."""

    def name(self) -> str:
        """Validation action of address_form."""
        return "validate_address_form"

    async def extract_new_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """An answer the intent classifier misread (see common.free_text_answer)."""
        return free_text_answer(tracker, "new_address")

    async def validate_new_address(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """At least 6 characters with Chinese in them."""
        text = str(value or "").strip()
        if len(text) < 6 or not any("\u4e00" <= c <= "\u9fff" for c in text):
            dispatcher.utter_message(response="utter_invalid_address")
            return {"new_address": None}
        return {"new_address": text[:120]}


class ValidateReturnForm(FormValidationAction):
    """The return reason: an entity, or any statement (a reason has no fixed shape)."""

    def name(self) -> str:
        """Validation action of return_form."""
        return "validate_return_form"

    async def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A reason the intent classifier misread (see common.free_text_answer)."""
        return free_text_answer(tracker, "return_reason")


@survives_store_outage
class ActionChangeAddress(Action):
    """Write the new address to the order (still before shipment)."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_change_address"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Change the address of the pending order, if the customer owns it."""
        args = owned_pending(tracker, "address")
        address = tracker.get_slot("new_address")
        events = [SlotSet("pending_action", None), SlotSet("new_address", None)]
        if args is None or not address:
            dispatcher.utter_message(response="utter_ok_deny")
            return events
        if repository.change_address(args[0], address):
            dispatcher.utter_message(
                response="utter_address_changed", order_id=args[0], address=address
            )
        else:
            dispatcher.utter_message(response="utter_address_too_late", order_id=args[0])
        return events


@survives_store_outage
class ActionSubmitReturn(Action):
    """File the return request (RMA) the customer confirmed, with the reason given."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_submit_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Create the RMA and tell the return address and refund timeline."""
        args = owned_pending(tracker, "return")
        reason = tracker.get_slot("return_reason")
        events = [SlotSet("pending_action", None), SlotSet("return_reason", None)]
        if args is None or len(args) < 2:
            dispatcher.utter_message(response="utter_ok_deny")
            return events
        rma = repository.create_return(
            args[0],
            int(args[1]),
            str(reason)[:60],
            _now(),
            key=offer_key(tracker, "action_submit_return"),
        )
        dispatcher.utter_message(
            response="utter_return_created",
            rma=rma,
            order_id=args[0],
            **get_policy().reply_values(),
        )
        dispatcher.utter_message(response="utter_ask_rating")
        return [*events, SlotSet("last_journey", "return")]
