"""200 conversations at once, spread over both replicas, none lost, none doubled.

20 threads each own 10 conversations and advance them turn by turn, so all 200 are open at
the same time and their turns interleave in the tracker store. Even-numbered conversations
go through haproxy (which keeps each conversation on one replica and spreads the
conversations over both); odd-numbered ones alternate replicas directly on every
turn, so every second turn of such a conversation is served by the replica that did not
see the previous one. Afterwards the PostgreSQL tracker store must hold, per conversation,
exactly the user messages sent and the bot messages received, in that order.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from bench_scale import ORDERS

from tests.scale.conftest import haproxy_sessions, say, texts, tracker_messages

CONVERSATIONS = 200
THREADS = 20
#: every fifth conversation gives another customer's order with its own phone tail
FOREIGN = ("202611010006", "1234")
ORDER_DETAILS = ("签收", "发出", "运单号", "备货", "已付款")


def script(number: int) -> tuple[list[str], str, bool]:
    """(messages, order, whether the phone tail belongs to the order)."""
    if number % 5 == 4:
        order, tail = FOREIGN
        return ["查一下订单", order, tail, "谢谢"], order, False
    order, tail = ORDERS[number % len(ORDERS)]
    return ["查一下订单", order, tail, "谢谢"], order, True


def test_200_interleaved_conversations_keep_every_event_once(scaled):
    prefix = f"scale-{uuid.uuid4().hex[:8]}-"
    before = haproxy_sessions(scaled)
    replies: dict[int, list[list[dict]]] = {n: [] for n in range(CONVERSATIONS)}
    errors: list[str] = []

    def url_for(number: int, turn: int) -> str:
        if number % 2 == 0:
            return scaled.lb_url
        return scaled.replica_urls[(number + turn) % 2]

    def worker(numbers: list[int]) -> None:
        for turn in range(4):
            for n in numbers:
                messages, _, _ = script(n)
                try:
                    replies[n].append(say(url_for(n, turn), f"{prefix}{n}", messages[turn]))
                except requests.RequestException as exc:
                    errors.append(f"conversation {n} turn {turn}: {exc}")

    groups = [list(range(t, CONVERSATIONS, THREADS)) for t in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, groups))
    assert not errors, errors[:5]

    # what the customer saw: the right order, and nothing of an order not verified
    all_orders = {o for o, _ in ORDERS} | {FOREIGN[0]}
    for n in range(CONVERSATIONS):
        _, order, own = script(n)
        answer = "".join(t or "" for t in texts(replies[n][2]))
        others = [o for o in all_orders - {order} if o in answer]
        assert not others, f"conversation {n} saw {others}: {answer}"
        if own:
            assert order in answer, f"conversation {n}: {answer}"
        else:
            assert "核对不上" in answer and not any(w in answer for w in ORDER_DETAILS), answer

    # what the tracker store kept: exactly those messages, once each, in order
    stored = tracker_messages(scaled, prefix)
    assert len(stored) == CONVERSATIONS
    for n in range(CONVERSATIONS):
        messages, _, _ = script(n)
        expected = [("session_started", None)]
        for message, reply in zip(messages, replies[n], strict=True):
            expected.append(("user", message))
            expected += [("bot", t) for t in texts(reply)]
        assert stored[f"{prefix}{n}"] == expected, f"conversation {n}"

    # haproxy spread its conversations over both replicas
    after = haproxy_sessions(scaled)
    served = [after[("rasa", s)] - before.get(("rasa", s), 0) for s in ("rasa1", "rasa2")]
    assert sum(served) >= CONVERSATIONS // 2 * 4
    assert min(served) >= 0.25 * sum(served), served

    # the web app's analytics read the same PostgreSQL tracker store
    metrics = requests.get(
        f"{scaled.web_url}/api/analytics/metrics",
        headers={"X-Agent-Token": "demo-chenjing"},
        timeout=120,
    ).json()
    assert metrics["totals"]["conversations"] >= CONVERSATIONS


def test_simultaneous_messages_of_one_conversation_are_all_kept(scaled):
    """A customer who sends two messages at once (double click, two tabs): both turns are
    processed one after the other and both are in the tracker store. Through haproxy both
    requests reach the same replica, whose lock queues the second one."""
    prefix = f"twice-{uuid.uuid4().hex[:8]}-"
    senders = [f"{prefix}{n}" for n in range(30)]
    for sender in senders:
        say(scaled.lb_url, sender, "你好")

    def both(sender: str) -> None:
        with ThreadPoolExecutor(2) as pair:
            list(pair.map(lambda m: say(scaled.lb_url, sender, m), ["查一下订单", "谢谢"]))

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(both, senders))
    stored = tracker_messages(scaled, prefix)
    for sender in senders:
        users = [text for kind, text in stored[sender] if kind == "user"]
        assert users[0] == "你好" and sorted(users[1:]) == sorted(["查一下订单", "谢谢"]), users
        assert [k for k, _ in stored[sender]].count("session_started") == 1
