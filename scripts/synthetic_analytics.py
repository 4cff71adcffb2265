"""Events shaped as Rasa 3.6 serialises them, written into a tracker store's `events` table.

For the analytics tests and the benchmark: the dicts match `Event.as_dict()` of
rasa/shared/core/events.py (UserUttered, ActionExecuted, BotUttered, SlotSet,
SessionStarted, ConversationPaused/Resumed), and rows are written as
`SQLTrackerStore.save` writes them (type_name, timestamp, intent_name, action_name = the
event's `name`, data = the JSON). `generate` fills a tracker and a shop store with a mix
of conversations for `scripts/bench_report.py`.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from dianxiaoer.analytics.sources import EVENTS, create_events_table, tracker_engine

UTC = timezone.utc


def user_event(
    ts: float,
    text: str,
    intent: str,
    confidence: float = 0.95,
    ranking: list[tuple[str, float]] | None = None,
    channel: str | None = "rest",
    entities: list[dict] | None = None,
    metadata: dict | None = None,
) -> dict[str, Any]:
    """A `user` event; `ranking` as (intent, confidence), best first (nlu_fallback included)."""
    message_id = uuid.uuid4().hex
    ranking = ranking or [(intent, confidence)]
    parse_data = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "text": text,
        "message_id": message_id,
        "metadata": metadata or {},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "input": {"original": text, "script": "simplified", "truncated": False, "meaningful": True},
    }
    return {
        "event": "user",
        "timestamp": ts,
        "metadata": metadata or {},
        "text": text,
        "parse_data": parse_data,
        "input_channel": channel,
        "message_id": message_id,
    }


def action_event(ts: float, name: str, policy: str | None = "RulePolicy") -> dict[str, Any]:
    """An `action` event (ActionExecuted)."""
    return {
        "event": "action",
        "timestamp": ts,
        "name": name,
        "policy": policy,
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    }


def bot_event(
    ts: float, text: str, utter_action: str | None = None, **metadata: Any
) -> dict[str, Any]:
    """A `bot` event; metadata as a custom action's response leaves it (utter_action, values)."""
    if utter_action:
        metadata = {"utter_action": utter_action, **metadata}
    return {
        "event": "bot",
        "timestamp": ts,
        "metadata": metadata,
        "text": text,
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": None,
            "attachment": None,
            "image": None,
            "custom": None,
        },
    }


def slot_event(ts: float, name: str, value: Any) -> dict[str, Any]:
    """A `slot` event (SlotSet)."""
    return {"event": "slot", "timestamp": ts, "name": name, "value": value}


def simple_event(ts: float, type_name: str) -> dict[str, Any]:
    """`session_started`, `pause` or `resume`."""
    return {"event": type_name, "timestamp": ts}


def event_row(sender_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The `events` row SQLTrackerStore.save writes for `event`."""
    return {
        "sender_id": sender_id,
        "type_name": event["event"],
        "timestamp": event.get("timestamp"),
        "intent_name": (event.get("parse_data") or {}).get("intent", {}).get("name"),
        "action_name": event.get("name"),
        "data": json.dumps(event),
    }


class TrackerWriter:
    """Buffers events and inserts them in batches (creates the table if missing)."""

    def __init__(self, url: str, batch: int = 5000) -> None:
        """Write into the tracker store at `url`."""
        self.url = url
        self.batch = batch
        self.rows: list[dict[str, Any]] = []
        create_events_table(url)

    def add(self, sender_id: str, event: dict[str, Any]) -> None:
        """Queue one event of `sender_id` (rows keep the order they are added in)."""
        self.rows.append(event_row(sender_id, event))
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Insert the queued rows."""
        if self.rows:
            with tracker_engine(self.url).begin() as conn:
                conn.execute(insert(EVENTS), self.rows)
            self.rows = []


class Chat:
    """Builds one sender's conversation event by event, the way Rasa records it."""

    def __init__(
        self, writer: TrackerWriter, sender_id: str, start: datetime, channel: str = "rest"
    ) -> None:
        """A conversation of `sender_id` starting at `start` (aware) on `channel`."""
        self.writer, self.sender_id, self.channel = writer, sender_id, channel
        self.now = start.timestamp()

    def _ts(self, step: float = 0.01) -> float:
        self.now += step
        return self.now

    def at(self, when: datetime) -> Chat:
        """Move the clock (a later turn)."""
        self.now = when.timestamp()
        return self

    def wait(self, seconds: float) -> Chat:
        """Let time pass."""
        self.now += seconds
        return self

    def emit(self, event: dict[str, Any]) -> Chat:
        """Write a raw event."""
        self.writer.add(self.sender_id, event)
        return self

    def session(self) -> Chat:
        """A new session: action_session_start, session_started, action_listen."""
        self.emit(action_event(self._ts(), "action_session_start", None))
        self.emit(simple_event(self._ts(), "session_started"))
        return self.emit(action_event(self._ts(), "action_listen", None))

    def say(
        self,
        text: str,
        intent: str,
        confidence: float = 0.95,
        ranking: list[tuple[str, float]] | None = None,
        gap: float = 5.0,
    ) -> Chat:
        """The customer's message, `gap` seconds after the previous event."""
        return self.emit(user_event(self._ts(gap), text, intent, confidence, ranking, self.channel))

    def fallback(
        self,
        text: str,
        guessed: str,
        confidence: float,
        runner_up: str,
        second: bool = False,
        ticket: str | None = None,
    ) -> Chat:
        """A message under the fallback threshold: nlu_fallback, then the fallback action.

        The first miss suggests intents; the `second` in a row apologizes and queues the
        conversation for a human (`handoff_requested`), with the handoff `ticket` if given.
        """
        ranking = [
            ("nlu_fallback", 0.55),
            (guessed, confidence),
            (runner_up, round(confidence - 0.05, 2)),
        ]
        self.say(text, "nlu_fallback", 0.55, ranking)
        if not second:
            return self.act("action_suggest_intents", ("utter_fallback_suggest", "您是想问："))
        slots: dict[str, Any] = {"last_ticket": ticket} if ticket else {}
        return self.act(
            "action_suggest_intents",
            ("utter_fallback_final", "抱歉"),
            ("utter_handoff_queued_by_bot", "已为您转人工"),
            slots={**slots, "handoff_requested": True},
        )

    def act(self, name: str, *bots: tuple, slots: dict[str, Any] | None = None) -> Chat:
        """An action with its bot messages ((utter_action, text, metadata...)) and slots."""
        self.emit(action_event(self._ts(), name))
        for bot in bots:
            utter, text, *rest = bot
            self.emit(bot_event(self._ts(), text, utter, **(rest[0] if rest else {})))
        for slot, value in (slots or {}).items():
            self.emit(slot_event(self._ts(), slot, value))
        return self

    def listen(self) -> Chat:
        """action_listen: the bot waits for the customer."""
        return self.emit(action_event(self._ts(), "action_listen"))

    def agent(self, text: str, name: str = "王芳", gap: float = 5.0) -> Chat:
        """An agent's message appended through Rasa's HTTP API (metadata.agent)."""
        return self.emit(bot_event(self._ts(gap), text, None, agent=name))

    def bot(self, utter_action: str, text: str, **metadata: Any) -> Chat:
        """A bot message appended outside an action (e.g. by the agent console)."""
        return self.emit(bot_event(self._ts(), text, utter_action, **metadata))

    def slot(self, name: str, value: Any) -> Chat:
        """A slot set outside an action (e.g. by the agent console)."""
        return self.emit(slot_event(self._ts(), name, value))

    def pause(self) -> Chat:
        """ConversationPaused."""
        return self.emit(simple_event(self._ts(), "pause"))

    def resume(self) -> Chat:
        """ConversationResumed."""
        return self.emit(simple_event(self._ts(), "resume"))

    def time(self) -> datetime:
        """The current time of the conversation (aware UTC), for shop-store rows."""
        return datetime.fromtimestamp(self.now, UTC)


# --- the benchmark's generator ----------------------------------------------------------

_FAQ = [("运费怎么算", "运费说明"), ("支持花呗分期吗", "花呗分期"), ("几天发货", "发货时间")]
_UNANSWERED = ["你们老板是谁", "可以开发票抬头写两个吗", "店铺有线下门店吗", "能不能寄到国外"]


def _shop_rows(shop_url: str) -> dict[str, Any]:
    """Migrate the shop store and add one customer, product and order for the returns."""
    from dianxiaoer.store import db, models

    db.upgrade(shop_url)
    now = datetime.now(UTC)
    with db.get_engine(shop_url).begin() as conn:
        conn.execute(
            insert(models.Customer.__table__),
            [
                {
                    "id": "B1",
                    "name": "测试客户",
                    "phone": "13800000000",
                    "vip_level": "普通会员",
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            insert(models.Product.__table__),
            [
                {
                    "id": "P1",
                    "name": "测试商品",
                    "category": "服饰",
                    "price": Decimal("99"),
                    "attributes": {},
                    "customized": False,
                    "perishable": False,
                    "digital": False,
                    "periodical": False,
                    "monthly_sales": 0,
                }
            ],
        )
        conn.execute(
            insert(models.Order.__table__),
            [
                {
                    "id": "100000000001",
                    "customer_id": "B1",
                    "status": "signed",
                    "created_at": now,
                    "total": Decimal("99"),
                    "address": "",
                    "invoice_requested": False,
                }
            ],
        )
        item = conn.execute(
            insert(models.OrderItem.__table__).values(
                order_id="100000000001", product_id="P1", size="", quantity=1, price=Decimal("99")
            )
        ).inserted_primary_key[0]
    return {"item": item}


def generate(
    n: int, tracker_url: str, shop_url: str, seed: int = 7, days: int = 30
) -> dict[str, int]:
    """Write `n` conversations (and their shop-store rows) over the last `days` days.

    A mix: knowledge answers, order questions, fallbacks, handoffs asked for and by the
    bot (claimed, answered, handed back), complaints, delays, returns, ratings and staff
    training sessions. Returns how many of each scenario were written.
    """
    from dianxiaoer.store import db, models

    rng = random.Random(seed)
    writer = TrackerWriter(tracker_url)
    extra = _shop_rows(shop_url)
    start = datetime.now(UTC) - timedelta(days=days)
    handoffs, ratings, tickets, returns = [], [], [], []
    counts: dict[str, int] = {}
    scenarios = [
        ("faq", 30),
        ("order", 15),
        ("fallback_once", 10),
        ("fallback_handoff", 5),
        ("asked_human", 8),
        ("complaint", 8),
        ("delay", 8),
        ("return", 8),
        ("rating_low", 3),
        ("training", 5),
    ]
    names = [s for s, _ in scenarios]
    weights = [w for _, w in scenarios]
    for i in range(n):
        kind = rng.choices(names, weights)[0]
        counts[kind] = counts.get(kind, 0) + 1
        sender = f"bench-{i:06d}"
        when = start + timedelta(seconds=rng.uniform(0, days * 86400))
        chat = Chat(writer, sender, when, rng.choice(["rest", "socketio", "socketio"])).session()
        chat.say("你好", "greet").act("utter_greet", ("utter_greet", "亲，您好！")).listen()
        if kind == "training":
            chat.say("/start_training", "start_training").act(
                "action_start_training",
                ("utter_training_menu", "培训模式"),
                slots={"training_mode": "menu"},
            ).listen()
        elif kind == "faq":
            question, title = rng.choice(_FAQ)
            for _ in range(rng.randint(1, 3)):
                chat.say(question, "ask_faq", rng.uniform(0.7, 0.99)).act(
                    "action_answer_knowledge", ("utter_knowledge_faq", "……", {"title": title})
                ).listen()
        elif kind == "order":
            chat.say("我的订单到哪了", "check_order_status").act(
                "verify_order_form", ("utter_ask_order_id", "请提供订单号")
            ).listen()
            chat.say("100000000001", "inform").act(
                "action_answer_order", ("utter_order_shipped", "已发货")
            ).listen()
        elif kind in ("fallback_once", "fallback_handoff"):
            text = rng.choice(_UNANSWERED)
            chat.fallback(text, "ask_faq", 0.4, "out_of_scope").listen()
            if kind == "fallback_handoff":
                chat.fallback(text + "呢", "ask_faq", 0.35, "ask_term", second=True).listen()
                handoffs.append((sender, "fallback", chat.time(), None))
            else:
                chat.say("/ask_shipping_policy", "ask_shipping_policy").act(
                    "action_answer_knowledge", ("utter_knowledge_faq", "……", {"title": "发货时间"})
                ).listen()
        elif kind in ("asked_human", "complaint"):
            reason = None
            if kind == "asked_human":
                chat.say("转人工", "request_human").act(
                    "action_request_human",
                    ("utter_handoff_queued", "排队中"),
                    slots={"handoff_requested": True},
                )
                reason = "asked"
            else:
                number = f"TS{i:010d}"
                psychology = rng.choice(["venting", "respect", "remedy", "revenge"])
                escalate = psychology == "revenge"
                slots = {"last_ticket": number, "last_journey": "complaint"}
                if escalate:
                    slots["handoff_requested"] = True
                chat.say("你们太过分了", "file_complaint").act(
                    "action_handle_complaint",
                    (f"utter_complaint_{psychology}", "非常抱歉", {"ticket": number}),
                    slots=slots,
                )
                tickets.append(
                    {
                        "number": number,
                        "kind": "complaint",
                        "priority": "urgent" if escalate else "high",
                        "status": "open",
                        "conversation_id": sender,
                        "psychology": psychology,
                        "anger": rng.randint(0, 3),
                        "details": {"escalated": "threat" if escalate else ""},
                        "created_at": chat.time(),
                        "updated_at": chat.time(),
                    }
                )
                reason = "revenge" if escalate else None
            if reason:
                chat.pause().listen()
                queued = chat.time()
                # an agent claims (pause, agent_name), answers, and hands back (resume)
                chat.wait(rng.uniform(10, 300)).pause().slot("agent_name", "王芳")
                claimed = chat.time()
                chat.agent("您好，我是王芳", gap=rng.uniform(5, 60))
                handoffs.append((sender, reason, queued, (claimed, chat.time())))
                chat.say("好的谢谢", "thank").agent("不客气").wait(30)
                chat.resume().slot("handoff_requested", False).slot("last_journey", "human")
            chat.listen()
            score = rng.choice([3, 4, 5, 5])
            chat.say(str(score), "rate_service").act(
                "action_record_rating", ("utter_rating_thanks", "谢谢")
            ).listen()
            ratings.append((sender, "human" if reason else "complaint", score, chat.time()))
        elif kind == "delay":
            number = f"CJ{i:010d}"
            chat.say("怎么还没到", "urge_delivery").act(
                "action_answer_order",
                ("utter_delay_no_scan", "抱歉"),
                ("utter_urge_ticket", "已催件", {"ticket": number}),
                slots={"last_journey": "delay", "last_ticket": number},
            ).listen()
            tickets.append(
                {
                    "number": number,
                    "kind": "urge",
                    "priority": "normal",
                    "status": "open",
                    "conversation_id": None,
                    "psychology": None,
                    "anger": None,
                    "details": {},
                    "created_at": chat.time(),
                    "updated_at": chat.time(),
                }
            )
            score = rng.choice([2, 4, 5])
            chat.say(str(score), "rate_service").act("action_record_rating").listen()
            ratings.append((sender, "delay", score, chat.time()))
        elif kind == "return":
            rma = f"RMA{i:010d}"
            chat.say("我要退货", "request_return").act(
                "action_submit_return",
                ("utter_return_created", "已提交", {"rma": rma}),
                slots={"last_journey": "return"},
            ).listen()
            returns.append(
                {
                    "rma": rma,
                    "order_id": "100000000001",
                    "item_id": extra["item"],
                    "kind": "return_refund",
                    "reason": rng.choice(["尺码不合适", "不喜欢"]),
                    "status": "requested",
                    "refund_amount": Decimal("99"),
                    "created_at": chat.time(),
                    "updated_at": chat.time(),
                }
            )
        elif kind == "rating_low":
            chat.say("1", "rate_service").act("action_record_rating").listen()
            ratings.append((sender, "", 1, chat.time()))
        chat.say("再见", "goodbye").act("utter_goodbye", ("utter_goodbye", "再见")).listen()
    writer.flush()
    with db.get_engine(shop_url).begin() as conn:
        if handoffs:
            conn.execute(
                insert(models.Handoff.__table__),
                [
                    {
                        "conversation_id": s,
                        "skill_group": "aftersale",
                        "reason": r,
                        "tier": 3,
                        "status": "closed" if times else "waiting",
                        "agent_id": "wangfang" if times else None,
                        "summary": "",
                        "details": {},
                        "queued_at": q,
                        "claimed_at": times[0] if times else None,
                        "first_reply_at": times[1] if times else None,
                        "closed_at": times[1] + timedelta(seconds=60) if times else None,
                    }
                    for s, r, q, times in handoffs
                ],
            )
        if ratings:
            conn.execute(
                insert(models.Rating.__table__),
                [
                    {
                        "conversation_id": s,
                        "journey": j,
                        "score": sc,
                        "comment": "",
                        "created_at": t,
                    }
                    for s, j, sc, t in ratings
                ],
            )
        if tickets:
            conn.execute(insert(models.Ticket.__table__), tickets)
        if returns:
            conn.execute(insert(models.ReturnRequest.__table__), returns)
    return counts
