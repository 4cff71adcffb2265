"""Fuzzing the widget's socket.io channel of the running Rasa server.

What a buggy or hostile browser can send: `session_request` and `user_uttered` with ids,
messages and metadata of every type (lone surrogates, NUL, control, zero-width and bidi
characters, over-long, too deep, NaN), the wrong number of arguments, messages before
any `session_request`, 1 MB bodies over long-polling and websocket, and broken engine.io /
socket.io packets. Each refused event gets an `error` event (and the same payload as its
acknowledgement) and is not processed; each valid one is answered; the server stays up,
and at the end a normal widget session — over long-polling and over websocket — still
gets answers. Counts are printed at the end of the run ("survival fuzz counts").
"""

from __future__ import annotations

import asyncio
import json
import queue
import uuid
from typing import Any

import pytest
import requests
import socketio
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.survival.inputs import (
    CONTROL,
    FUZZ_COUNTS,
    MESSAGE_KINDS,
    NOT_A_STRING,
    SHOP_PHRASES,
    WHITESPACE,
    ZERO_WIDTH,
    metadata,
)

pytestmark = pytest.mark.e2e

# Budget: a refused event takes a few ms, a turn on a fresh connection ~0.2-0.5 s.
SESSION_REQUESTS = 150
REFUSED_MESSAGES = 300
ANSWERED_MESSAGES = 60
MINIMUM_TOTAL = 500

RUN = uuid.uuid4().hex[:8]
done: set[str] = set()


def fuzz_settings(examples: int):
    """Fixed examples (CI-stable), no per-example deadline, no example database."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# --- what is sent --------------------------------------------------------------------
#: Characters no conversation id may hold (ASCII space is printable and allowed).
BAD_ID_CHARS = (
    CONTROL
    + WHITESPACE.replace(" ", "")
    + ZERO_WIDTH
    + "\ue000\U000f0000\u0378\U000e0001"  # private use, unassigned, tag
)
#: Printable characters, with what the rest of the system must quote (`/`, `..`, `:`, `@`).
ID_CHARS = st.one_of(
    st.characters(whitelist_categories=("L", "N", "P", "S", "M")),
    st.sampled_from(list(" /.:@%?#&+=中文店小二")),
)
LONE_SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


def _prefixed(text: str) -> str:
    return f"sio-{RUN}-{text}"


WIDGET_IDS = st.uuids().map(lambda u: u.hex)  # the widget's: 32 hex digits
PRINTABLE_IDS = st.text(ID_CHARS, min_size=1, max_size=60).map(_prefixed)
QUOTED_IDS = st.sampled_from(["x/../victim", "a:b@c", "顾客 一号", "../..", "a b c"]).map(_prefixed)
GOOD_IDS = st.one_of(WIDGET_IDS, PRINTABLE_IDS, QUOTED_IDS)
used_ids: set[str] = set()


def unused(session_id: str) -> str:
    """The id, or a variant of it, not yet used for a turn (a handed-over one stays silent)."""
    while session_id in used_ids:
        session_id = f"{session_id}-{len(used_ids)}"
    used_ids.add(session_id)
    return session_id


def _insert(pair: tuple[str, str]) -> str:
    text, bad = pair
    middle = len(text) // 2
    return text[:middle] + bad + text[middle:]


BAD_ID_TEXT = {
    "id_empty_or_space": st.text(alphabet=WHITESPACE, max_size=5),
    "id_too_long": st.integers(256, 3000).map(lambda n: "s" * n),
    "id_control_format_char": st.tuples(
        st.text(ID_CHARS, min_size=0, max_size=10), st.sampled_from(list(BAD_ID_CHARS))
    ).map(_insert),
    "id_nul": st.text(ID_CHARS, max_size=10).map(lambda t: t + "\x00"),
    "id_lone_surrogate": st.tuples(st.text(ID_CHARS, max_size=10), LONE_SURROGATE).map(_insert),
}
BAD_IDS = {
    "id_wrong_type": st.one_of(
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.binary(max_size=8),
    ),
    **BAD_ID_TEXT,
}
NOT_AN_OBJECT = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.binary(max_size=20),
)


def _deep(depth: int) -> dict:
    value: dict = {"leaf": "x"}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


BAD_METADATA = {
    "metadata_not_object": st.one_of(NOT_AN_OBJECT, st.just("{}")),
    "metadata_too_large": st.integers(17, 120).map(lambda kb: {"blob": "x" * (kb * 1000)}),
    "metadata_too_deep": st.integers(9, 400).map(_deep),
    "metadata_bad_text": st.one_of(
        st.sampled_from(["\x00", "a\x00b"]).map(lambda t: {"k": t}),
        st.sampled_from(["\x00", "k\x00"]).map(lambda t: {t: 1}),
        LONE_SURROGATE.map(lambda c: {"page": {"product": "连衣裙" + c}}),
        LONE_SURROGATE.map(lambda c: {c: "v"}),
    ),
    "metadata_not_json": st.one_of(
        st.sampled_from([float("nan"), float("inf"), float("-inf")]).map(lambda f: {"n": f}),
        st.binary(max_size=10).map(lambda b: {"token": b}),
    ),
}
BAD_TEXT = {
    "message_wrong_type": st.one_of(NOT_A_STRING, st.binary(max_size=10)),
    "message_nul": st.sampled_from(SHOP_PHRASES).map(lambda t: t + "\x00"),
    "message_lone_surrogate": st.tuples(st.sampled_from(SHOP_PHRASES), LONE_SURROGATE).map(_insert),
    "message_too_long": st.integers(20_001, 30_000).map(lambda n: "长" * n),
}


def _message(session_id, message="你好", meta=None) -> dict:
    data = {"message": message, "session_id": session_id}
    if meta is not None:
        data["metadata"] = meta
    return data


def by_kind(kinds: dict[str, st.SearchStrategy]) -> st.SearchStrategy[tuple[str, Any]]:
    """(kind, value) with the kind drawn evenly (one_of would favour some branches)."""
    return st.sampled_from(sorted(kinds)).flatmap(
        lambda kind: kinds[kind].map(lambda value: (kind, value))
    )


def _id_request(session_id) -> tuple:
    return ({"session_id": session_id},)


#: session_request kinds: (event arguments, the id to confirm, "" for one the server picks,
#: or None for a refusal).
SESSION_KINDS: dict[str, st.SearchStrategy[tuple[tuple, str | None]]] = {
    "valid_widget_id": WIDGET_IDS.map(lambda i: (_id_request(i), i)),
    "valid_printable_id": PRINTABLE_IDS.map(lambda i: (_id_request(i), i)),
    "valid_quoted_id": QUOTED_IDS.map(lambda i: (_id_request(i), i)),
    "server_picks_id": st.sampled_from([(), (None,), ({},), ({"session_id": None},)]).map(
        lambda args: (args, "")
    ),
    **{
        kind: strategy.map(lambda value: (_id_request(value), None))
        for kind, strategy in BAD_IDS.items()
    },
    "data_not_object": NOT_AN_OBJECT.map(lambda value: ((value,), None)),
    "two_arguments": st.just(((_id_request("a")[0], {"b": 1}), None)),
}

REFUSED_ID = f"sio-{RUN}-refused"
#: user_uttered kinds that must be refused: the event arguments.
REFUSED_KINDS: dict[str, st.SearchStrategy[tuple]] = {
    "no_arguments": st.just(()),
    "null_data": st.just((None,)),
    "data_not_object": NOT_AN_OBJECT.map(lambda value: (value,)),
    "two_arguments": st.sampled_from(SHOP_PHRASES).map(
        lambda text: (_message(REFUSED_ID, text), {"x": 1})
    ),
    "no_session_id": st.sampled_from(SHOP_PHRASES).map(lambda text: ({"message": text},)),
    "no_message": st.just(({"session_id": REFUSED_ID},)),
    **{kind: strategy.map(lambda value: (_message(value),)) for kind, strategy in BAD_IDS.items()},
    **{
        kind: strategy.map(lambda value: (_message(REFUSED_ID, value),))
        for kind, strategy in BAD_TEXT.items()
    },
    **{
        kind: strategy.map(lambda value: (_message(REFUSED_ID, "你好", value),))
        for kind, strategy in BAD_METADATA.items()
    },
}


# --- how it is sent ------------------------------------------------------------------
class Widget:
    """A socket.io client (long-polling, like the widget's fallback) recording every event."""

    def __init__(self, url: str) -> None:
        self.events: queue.Queue = queue.Queue()
        self.seen: list[tuple[str, tuple]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda event, *data: self.events.put((event, data)))
        self.client.connect(url, transports=["polling"], wait_timeout=10)

    def call(self, event: str, args: tuple, timeout: float = 30):
        """Emit with an acknowledgement; the server's answer (the handler's result)."""
        return self.client.call(event, args, timeout=timeout)

    def wait_for(self, event: str, timeout: float) -> tuple:
        """The data of the next `event` (other events are kept aside in `seen`)."""
        while True:
            name, data = self.events.get(timeout=timeout)
            if name == event:
                return data
            self.seen.append((name, data))

    def drain(self) -> list[tuple[str, tuple]]:
        """Every event received so far and not yet consumed."""
        items = list(self.seen)
        self.seen.clear()
        while True:
            try:
                items.append(self.events.get_nowait())
            except queue.Empty:
                return items

    def close(self) -> None:
        self.client.disconnect()


class Shared:
    """One connection for the refused events, reopened when the server closed it."""

    widget: Widget | None = None

    @classmethod
    def get(cls, url: str) -> Widget:
        if cls.widget is None or not cls.widget.client.connected:
            cls.widget = Widget(url)
        return cls.widget


@pytest.fixture(scope="module", autouse=True)
def _close_shared():
    yield
    if Shared.widget is not None:
        Shared.widget.close()
        Shared.widget = None


def alive(servers) -> None:
    """The Rasa server still answers."""
    assert requests.get(servers.rasa_url, timeout=10).ok


def assert_refused(w: Widget, event: str, ack, kind: str) -> None:
    assert isinstance(ack, dict) and 400 <= ack.get("status", 0) < 500, (kind, ack)
    assert ack["event"] == event and ack["error"], (kind, ack)
    # the same payload comes as an `error` event, for clients that do not ask for acks
    assert w.wait_for("error", 10) == (ack,), kind


# --- tests ---------------------------------------------------------------------------
@fuzz_settings(SESSION_REQUESTS)
@given(request=by_kind(SESSION_KINDS))
def test_session_requests_are_confirmed_or_refused_with_an_error_event(servers, request):
    kind, (args, expected) = request
    w = Shared.get(servers.rasa_url)
    ack = w.call("session_request", args)
    FUZZ_COUNTS[f"socketio-session/{kind}"] += 1
    if expected is None:
        assert_refused(w, "session_request", ack, kind)
        assert not any(name == "session_confirm" for name, _ in w.drain()), kind
        return
    confirmed = w.wait_for("session_confirm", 10)[0]
    assert ack == {"session_id": confirmed}, (kind, ack)
    if expected:
        assert confirmed == expected
    else:  # the server picked one, as Rasa does
        assert len(confirmed) == 32 and int(confirmed, 16) >= 0
    done.add("session")


@fuzz_settings(REFUSED_MESSAGES)
@given(message=by_kind(REFUSED_KINDS))
def test_invalid_user_messages_get_an_error_event_and_no_turn(servers, message):
    kind, args = message
    w = Shared.get(servers.rasa_url)
    ack = w.call("user_uttered", args)
    FUZZ_COUNTS[f"socketio-refused/{kind}"] += 1
    assert_refused(w, "user_uttered", ack, kind)
    done.add("refused")


def test_refused_messages_started_no_turn(servers):
    """No bot message reached the connection that sent only refused messages."""
    if "refused" not in done:
        pytest.skip("the refused-message fuzz did not run")
    w = Shared.get(servers.rasa_url)
    try:
        w.wait_for("bot_uttered", 2)
    except queue.Empty:
        pass
    assert not [e for e in w.drain() if e[0] == "bot_uttered"]
    alive(servers)


@fuzz_settings(ANSWERED_MESSAGES)
@given(
    text=by_kind(MESSAGE_KINDS),
    session_id=GOOD_IDS,
    meta=metadata(),
    requested=st.booleans(),
)
def test_valid_user_messages_are_answered_with_or_without_session_request(
    servers, text, session_id, meta, requested
):
    kind, message = text
    session_id = unused(session_id)
    w = Widget(servers.rasa_url)  # a connection of its own: its bot messages are this turn's
    try:
        if requested:
            assert w.call("session_request", ({"session_id": session_id},)) == {
                "session_id": session_id
            }
        ack = w.call("user_uttered", (_message(session_id, message, meta),), timeout=60)
        FUZZ_COUNTS[
            f"socketio-answered/{kind}" + ("" if requested else "_before_session_request")
        ] += 1
        assert ack == {"ok": True}, (kind, message[:80], ack)
        reply = w.wait_for("bot_uttered", 30)[0]
        assert reply.get("text") or reply.get("quick_replies"), reply
        assert not [e for e in w.drain() if e[0] == "error"]
    finally:
        w.close()
    done.add("answered")


# Raw engine.io over long-polling: what no well-behaved client library would send.
RAW_PACKETS = [
    "42[",
    "42{}",
    "42[]",
    "42[null]",
    "42[1,2]",
    '42[["user_uttered"],{}]',
    '42[{"a":1}]',
    '42["user_uttered"',
    '42["user_uttered",{"message":"hi","session_id":"\\ud800"}]',
    '42["user_uttered",{"message":"\\u0000","session_id":"raw"}]',
    '42["session_request",{"session_id":"\\udfff"}]',
    '42["session_request",' + "[" * 5000 + "]" * 5000 + "]",
    '42["user_uttered",{"message":"hi","session_id":"raw","metadata":'
    + '{"k":' * 3000
    + "1"
    + "}" * 3000
    + "}]",
    '42["no_such_event",{"x":1}]',
    '42["connect",{}]',
    '42["disconnect"]',
    '4299999999999999999999["session_request",null]',
    '42-1["session_request",null]',
    '451-["user_uttered",{"_placeholder":true,"num":0}]',
    '451-["user_uttered",{"_placeholder":true,"num":7}]',
    "43",
    "431[]",
    "44",
    "44{}",
    "40/nowhere,",
    "41",
    "4",
    "49",
    "4x",
    "2",
    "3",
    "5",
    "6",
    "9",
    "",
    "\x1e\x1e",
    '42["user_uttered"]\x1e42["user_uttered",1,2,3]',
    "b" + "AAAA",
    "\ud800",
]


#: Packets engine.io answers by closing the session and holding the POST (a client PING,
#: a NOOP): no socket.io v4 client sends them; the server and other sessions go on.
HELD_PACKETS = {"2", "6"}


class RawPolling:
    """An engine.io v4 long-polling session spoken by hand."""

    def __init__(self, url: str) -> None:
        self.url = f"{url}/socket.io/"
        self.params = {"EIO": "4", "transport": "polling"}
        r = requests.get(self.url, params=self.params, timeout=10)
        r.raise_for_status()
        self.params["sid"] = json.loads(r.text[1:])["sid"]
        self.post("40")
        self.poll()  # the namespace's connect answer

    def poll(self) -> requests.Response:
        """One long-poll GET: what the server queued for this session."""
        return requests.get(self.url, params=self.params, timeout=40)

    def post(self, body: str | bytes, timeout: float = 30) -> requests.Response | None:
        """POST a payload; None when the server holds the request past `timeout`.

        engine.io 4.7 closes a session on a packet type a server does not expect (a
        client PING or NOOP) and holds that POST until a poll drains the session's queue,
        which the closed session no longer allows: Sanic's response timeout ends it.
        """
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        try:
            return requests.post(
                self.url,
                params=self.params,
                data=body,
                headers={"Content-Type": "text/plain;charset=UTF-8"},
                timeout=timeout,
            )
        except requests.ReadTimeout:
            return None


@pytest.mark.parametrize("packet", RAW_PACKETS, ids=lambda p: repr(p)[:30])
def test_broken_packets_over_long_polling_do_not_hurt_the_server(servers, packet):
    r = RawPolling(servers.rasa_url).post(packet, timeout=3)
    FUZZ_COUNTS["socketio-raw/broken_packet"] += 1
    if r is None:  # held by engine.io (see RawPolling.post): that session only
        assert packet in HELD_PACKETS, packet
    else:
        assert r.status_code < 500, (packet[:60], r.status_code, r.text[:200])
    alive(servers)


def _big_event(size: int, where: str) -> str:
    pad = "x" * size
    data = {"message": "你好", "session_id": f"sio-{RUN}-big"}
    if where == "message":
        data["message"] = pad
    elif where == "metadata":
        data["metadata"] = {"blob": pad}
    elif where == "session_id":
        data["session_id"] = pad
    else:
        data["pad"] = pad
    return "42" + json.dumps(["user_uttered", data])


BIG = [(1_000_000, w) for w in ("message", "metadata", "session_id", "other")] + [
    (300_000, "message"),
    (2_000_000, "metadata"),
]


@pytest.mark.parametrize(("size", "where"), BIG)
def test_one_megabyte_bodies_over_long_polling_get_413_and_the_session_goes_on(
    servers, size, where
):
    raw = RawPolling(servers.rasa_url)
    r = raw.post(_big_event(size, where))
    FUZZ_COUNTS["socketio-raw/big_body_polling"] += 1
    assert r is not None and r.status_code == 413, r and (r.status_code, r.text[:200])
    assert r.json()["error"].startswith("body larger than")
    # nothing of it was processed, and the same session still works
    session = f"sio-{RUN}-after-big"
    assert raw.post("42" + json.dumps(["session_request", {"session_id": session}])).ok
    assert f'42["session_confirm","{session}"]' in raw.poll().text
    alive(servers)


async def _websocket_session(url: str, frames: list[str], expect: str | None) -> list[str]:
    """Open a raw engine.io websocket, connect the namespace, send frames; what came back.

    With `expect`, read until a frame starting with it arrives; otherwise until the server
    closes the connection (or 10 s).
    """
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    received: list[str] = []
    async with websockets.connect(ws_url, max_size=None, open_timeout=10) as ws:
        assert (await asyncio.wait_for(ws.recv(), 10)).startswith("0")
        await ws.send("40")
        assert (await asyncio.wait_for(ws.recv(), 10)).startswith("40")
        try:
            # the server may close a too-big frame's connection while it is still being sent
            for frame in frames:
                await ws.send(frame)
            while True:
                frame = await asyncio.wait_for(ws.recv(), 30 if expect else 10)
                received.append(frame)
                if expect and frame.startswith(expect):
                    break
        except (websockets.ConnectionClosed, asyncio.TimeoutError):
            pass
    return received


@pytest.mark.parametrize(("size", "where"), BIG)
def test_one_megabyte_frames_over_websocket_close_that_connection_only(servers, size, where):
    received = asyncio.run(_websocket_session(servers.rasa_url, [_big_event(size, where)], None))
    FUZZ_COUNTS["socketio-raw/big_frame_websocket"] += 1
    assert not any(f.startswith('42["bot_uttered"') for f in received), received[:3]
    alive(servers)


def test_websocket_refusal_is_an_error_event(servers):
    frame = "42" + json.dumps(["user_uttered", {"message": "hi", "session_id": "a\u202e"}])
    received = asyncio.run(_websocket_session(servers.rasa_url, [frame], '42["error"'))
    FUZZ_COUNTS["socketio-raw/websocket_refused"] += 1
    event, payload = json.loads(received[-1][2:])
    assert event == "error" and payload["status"] == 400 and "session_id" in payload["error"]


def test_the_lone_surrogate_id_that_stopped_the_server_is_refused(servers):
    """Issue 17: this session id made Rasa's SQL tracker store call sys.exit."""
    w = Widget(servers.rasa_url)
    try:
        for event, data in [
            ("session_request", {"session_id": "\ud800"}),
            ("user_uttered", {"message": "你好", "session_id": "\ud800"}),
        ]:
            assert_refused(w, event, w.call(event, (data,)), "issue-17")
            FUZZ_COUNTS["socketio-issue17/lone_surrogate_id"] += 1
    finally:
        w.close()
    alive(servers)


def test_server_still_up_and_a_normal_widget_session_gets_answers(servers):
    alive(servers)
    assert servers.send(f"sio-{RUN}-after-rest", "你好")
    # long-polling, as tests/survival/test_survive_faults.py's widget turn
    session = uuid.uuid4().hex
    w = Widget(servers.rasa_url)
    try:
        w.client.emit("session_request", {"session_id": session})
        assert w.wait_for("session_confirm", 30) == (session,)
        w.client.emit("user_uttered", {"message": "七天无理由怎么算", "session_id": session})
        assert "无理由" in w.wait_for("bot_uttered", 60)[0]["text"]
    finally:
        w.close()
    # websocket, the widget's first choice
    session = uuid.uuid4().hex
    frames = [
        "42" + json.dumps(["session_request", {"session_id": session}]),
        "42" + json.dumps(["user_uttered", {"message": "你好", "session_id": session}]),
    ]
    received = asyncio.run(_websocket_session(servers.rasa_url, frames, '42["bot_uttered"'))
    assert received and received[-1].startswith('42["bot_uttered"'), received
    assert f'42["session_confirm","{session}"]' in received


def test_enough_socketio_inputs_were_fuzzed(servers):
    alive(servers)
    if done != {"session", "refused", "answered"}:
        pytest.skip("only part of the socket.io fuzz ran")
    total = sum(n for kind, n in FUZZ_COUNTS.items() if kind.startswith("socketio"))
    print(f"socket.io: fuzzed {total} inputs")
    assert total >= MINIMUM_TOTAL
