"""A replica killed (SIGKILL) in the middle of a return form: the conversation goes on on
the other replica, through haproxy, to the RMA — nothing the customer said is lost.

Runs last (file order): the killed replica is started again by the launcher's supervisor
but takes a model load to come back.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time
import uuid
from pathlib import Path

import psycopg2
import requests
from scaled_stack import pg_params

from tests.scale.conftest import haproxy_sessions, say, texts, tracker_messages


def returns_of(scaled, order: str) -> list[str]:
    conn = psycopg2.connect(**pg_params(scaled.shop_db))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT reason FROM returns WHERE order_id = %s", (order,))
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def served_by(before: dict, after: dict) -> dict[int, int]:
    """Requests per replica number between two haproxy stats readings."""
    return {n: after[("rasa", f"rasa{n}")] - before.get(("rasa", f"rasa{n}"), 0) for n in (1, 2)}


def gone(pid: int, port: int, timeout: float = 15) -> None:
    """Wait until the killed process has really ended and its port refuses connections.

    A killed Rasa process takes some tens of milliseconds to be torn down (all its threads
    must exit; its main thread shows as a zombie before that), and meanwhile its listening
    socket still accepts connections: haproxy then gets no answer, a 502 it does not retry
    because the request may have been received. A customer's next message comes seconds
    later; this test sends it the moment the port is closed, before haproxy's health check
    has noticed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():  # collected by its supervisor
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except ConnectionRefusedError:
                return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} or its port {port} still alive {timeout} s after SIGKILL")


def test_return_form_survives_a_killed_replica(scaled):
    who = f"failover-{uuid.uuid4().hex[:8]}"
    assert returns_of(scaled, "202611010003") == []
    sent, replies = [], []

    def turn(url: str, message: str) -> str:
        reply = say(url, who, message)
        sent.append(message)
        replies.append(reply)
        return "".join(t or "" for t in texts(reply))

    # the form starts through haproxy, on the replica this conversation is hashed to ...
    before = haproxy_sessions(scaled)
    assert "订单号" in turn(scaled.lb_url, "这双鞋子我想退货")
    home = next(n for n, count in served_by(before, haproxy_sessions(scaled)).items() if count)
    other = 3 - home
    ask_tail = turn(scaled.replica_urls[home - 1], "202611010003")
    assert "后四位" in ask_tail or "最后4位" in ask_tail

    # ... which dies mid-form, without a chance to clean up
    victim = scaled.replica_pid(home)
    os.kill(victim, signal.SIGKILL)
    gone(victim, scaled.replica_ports[home - 1])
    before = haproxy_sessions(scaled)

    # the next turns reach the balancer at once, before its health check has noticed:
    # a refused connection is retried on the other replica, never processed twice
    assert "提交退货申请" in turn(scaled.lb_url, "5678")
    assert "退货原因" in turn(scaled.lb_url, "/affirm")
    done = turn(scaled.lb_url, '/inform{"return_reason": "尺码不合适"}')
    assert "退货单号 RMA" in done and "退货仓" in done
    assert returns_of(scaled, "202611010003") == ["尺码不合适"]
    assert served_by(before, haproxy_sessions(scaled))[other] >= 3

    # every message of both replicas is in the tracker store, once, in order
    expected = [("session_started", None)]
    for message, reply in zip(sent, replies, strict=True):
        expected.append(("user", message))
        expected += [("bot", t) for t in texts(reply)]
    assert tracker_messages(scaled, who)[who] == expected

    # the supervisor starts the killed replica again (as Kubernetes would)
    deadline = time.monotonic() + 20
    while scaled.replica_pid(home) == victim and time.monotonic() < deadline:
        time.sleep(0.5)
    assert scaled.replica_pid(home) != victim


def followup_done(scaled, ticket: str):
    conn = psycopg2.connect(**pg_params(scaled.shop_db))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT done_at, attempts FROM followups WHERE ticket = %s", (ticket,))
            return cur.fetchone()
    finally:
        conn.close()


def both_replicas_up(scaled, timeout: float = 120) -> None:
    """Wait until each replica answers (a restarted one has loaded its model), and haproxy
    has seen it: a request to a replica still starting would be redispatched to the other."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if all(requests.get(url, timeout=2).ok for url in scaled.replica_urls):
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        raise AssertionError("a replica did not come back")
    time.sleep(5)  # haproxy marks a server up after 2 good checks, 2 s apart (launch.py)


def test_followup_of_a_killed_replica_still_reaches_the_customer(scaled):
    """The 回访 reminder lives in the memory of the replica that set it; that replica dies
    before it is due, and the web app's sweeper triggers it on the other one, once."""
    who = f"followup-{uuid.uuid4().hex[:8]}"
    both_replicas_up(scaled)  # the test before this one killed a replica too
    before = haproxy_sessions(scaled)
    complaint = say(scaled.lb_url, who, "什么破东西，气死我了，太让人失望了")
    served = served_by(before, haproxy_sessions(scaled))
    assert sorted(served.values()) == [0, 1], served  # one replica holds the reminder
    home = next(n for n, count in served.items() if count)
    ticket = re.search(r"TS\d{14}", "".join(t or "" for t in texts(complaint))).group(0)
    # the reminder is due FOLLOWUP_DELAY_SECONDS after the complaint: kill its replica first
    victim = scaled.replica_pid(home)
    os.kill(victim, signal.SIGKILL)
    gone(victim, scaled.replica_ports[home - 1])

    deadline = time.monotonic() + 60
    followup = []
    while time.monotonic() < deadline and not followup:
        time.sleep(1)
        followup = [
            text
            for kind, text in tracker_messages(scaled, who)[who]
            if kind == "bot" and text and text.startswith("【回访】")
        ]
    assert followup and ticket in followup[0], (ticket, tracker_messages(scaled, who)[who])
    time.sleep(3)  # a second firing would come within a sweep or two
    assert len([t for k, t in tracker_messages(scaled, who)[who] if t == followup[0]]) == 1
    done_at, attempts = followup_done(scaled, ticket)
    assert done_at is not None and attempts == 1

    deadline = time.monotonic() + 20
    while scaled.replica_pid(home) == victim and time.monotonic() < deadline:
        time.sleep(0.5)
    assert scaled.replica_pid(home) != victim
