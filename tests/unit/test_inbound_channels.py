"""The channels' use of the inbound validator, and turns that raise.

(dianxiaoer/rasa_plugins/channels.py)

No server: the socket.io handlers are called as python-socketio would call them, with the
server's `emit`/`enter_room` recorded; the agent is a fake whose tracker store can fail
the way Rasa's SQL tracker store does (`sys.exit` from `print_error_and_exit`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import UserMessage

from dianxiaoer.core.resilience import holding_reply
from dianxiaoer.rasa_plugins.channels import (
    RequestError,
    SafeRestInput,
    SafeSocketIOInput,
    _with_holding_reply,
)


class FakeStore:
    """A tracker store that has no tracker, or exits like Rasa's on a database ValueError."""

    def __init__(self, exits: bool = False) -> None:
        self.exits = exits
        self.saved = []

    async def retrieve(self, sender_id):
        if self.exits:
            raise SystemExit(1)
        return None

    async def save(self, tracker):
        self.saved.append(tracker)


class FakeLocks:
    @asynccontextmanager
    async def lock(self, sender_id):
        yield


def fake_agent(exits: bool = False):
    return SimpleNamespace(tracker_store=FakeStore(exits), lock_store=FakeLocks())


class Collect:
    """An output channel that keeps what the bot sent."""

    def __init__(self) -> None:
        self.messages = []

    def name(self):
        return "collector"

    async def send_response(self, recipient_id, message):
        self.messages.append((recipient_id, message))


def turn(raises: BaseException | None, agent):
    async def on_new_message(message):
        if raises is not None:
            raise raises

    output = Collect()
    message = UserMessage("你好", output, "c-1", input_channel="rest")
    asyncio.run(_with_holding_reply(on_new_message, agent)(message))
    return output.messages


@pytest.mark.parametrize(
    "raises", [SystemExit(1), SystemExit("store"), RuntimeError("boom"), ValueError("x"), None]
)
def test_a_failing_or_silent_turn_gets_the_holding_reply_and_nothing_escapes(raises, caplog):
    caplog.set_level(logging.ERROR, logger="dianxiaoer.rasa_plugins.channels")
    assert turn(raises, fake_agent()) == [("c-1", {"text": holding_reply()})]
    if raises is not None:
        assert any("turn of c-1 failed" in r.getMessage() for r in caplog.records)


def test_a_store_that_exits_while_holding_still_gets_the_customer_an_answer(caplog):
    caplog.set_level(logging.ERROR, logger="dianxiaoer.rasa_plugins.channels")
    assert turn(SystemExit(1), fake_agent(exits=True)) == [("c-1", {"text": holding_reply()})]
    logged = [r.getMessage() for r in caplog.records]
    assert any("sys.exit(1)" in m for m in logged), logged
    assert any("could not record the holding reply" in m for m in logged), logged


def test_keyboard_interrupt_still_stops_the_server():
    with pytest.raises(KeyboardInterrupt):
        turn(KeyboardInterrupt(), fake_agent())


# --- REST -------------------------------------------------------------------------------
def parse(body: bytes | str) -> dict:
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    return SafeRestInput().parse_body(SimpleNamespace(body=body))


def refused(body) -> tuple[int, str]:
    with pytest.raises(RequestError) as error:
        parse(body)
    return error.value.status, str(error.value)


def test_rest_accepts_the_ids_other_parts_of_the_system_must_handle():
    for sender in ["x/../victim", "a:b@c", "顾客 一号", "9f1c2d3e4b5a69788796a5b4c3d2e1f0"]:
        body = json.dumps({"sender": sender, "message": "你好", "metadata": {"page": {}}})
        assert parse(body)["sender"] == sender


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ('{"sender": "a\\u0000", "message": "hi"}', 400, "NUL"),
        ('{"sender": "a", "message": "hi\\u0000"}', 400, "NUL"),
        ('{"sender": "a", "message": "hi", "metadata": {"k": "\\u0000"}}', 400, "NUL"),
        ('{"sender": "\\ud800", "message": "hi"}', 400, "surrogate"),
        ('{"sender": "a\\u200b", "message": "hi"}', 400, "printable"),
        ('{"sender": "a", "message": "hi", "metadata": {"n": NaN}}', 400, "NaN"),
        (
            '{"sender": "a", "message": "hi", "metadata": ' + "[" * 9 + "]" * 9 + "}",
            400,
            "JSON object",
        ),
        (
            '{"sender": "a", "message": "hi", "metadata": {"a": ' + "[" * 8 + "]" * 8 + "}}",
            400,
            "deeper",
        ),
        ("[" * 100_000 + "]" * 100_000, 400, "not valid JSON"),  # RecursionError in json
        ('{"sender": "a", "message": "hi", "input_channel": "a\\nb"}', 400, "input_channel"),
    ],
    ids=lambda v: str(v)[:50],
)
def test_rest_refuses_what_the_validator_refuses(body, status, words):
    got_status, message = refused(body)
    assert got_status == status and words in message, message


# --- socket.io --------------------------------------------------------------------------
class FakeSio:
    """Records what the channel's handlers emit and which rooms sockets join."""

    def __init__(self) -> None:
        self.emitted = []
        self.rooms = []

    async def emit(self, event, data=None, to=None, room=None, namespace=None, **kwargs):
        self.emitted.append((event, data, to or room))

    def enter_room(self, sid, room, namespace=None):
        self.rooms.append((sid, room))


class SocketHarness:
    """The channel's registered handlers, driven with a fake server and agent."""

    def __init__(self, on_new_message, agent=None) -> None:
        channel = SafeSocketIOInput.from_credentials(
            {"session_persistence": True, "max_body_bytes": 4096}
        )
        blueprint = channel.blueprint(on_new_message)
        self.buffer = channel.sio.eio.max_http_buffer_size
        self.handlers = channel.sio.handlers["/"]
        # remember_app (the server's agent) and the conversation-id decoder
        app = SimpleNamespace(ctx=SimpleNamespace(agent=agent), middleware=[])
        app.register_middleware = lambda handler, attach_to: app.middleware.append(handler)
        for future in blueprint._future_listeners:
            asyncio.run(future.listener(app, None))
        self.app = app
        self.sio = FakeSio()
        channel.sio = self.sio

    def send(self, event, *args):
        return asyncio.run(self.handlers[event]("sid-1", *args))

    def errors(self):
        return [data for event, data, _ in self.sio.emitted if event == "error"]


def answering(received: list):
    async def on_new_message(message):
        received.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "您好"})

    return on_new_message


def test_socketio_session_request_confirms_valid_ids_and_makes_one_for_none():
    harness = SocketHarness(answering([]))
    assert harness.buffer == 4096
    assert harness.send("session_request", {"session_id": "顾客:1@店"}) == {
        "session_id": "顾客:1@店"
    }
    new = harness.send("session_request", None)["session_id"]
    assert len(new) == 32
    assert harness.send("session_request", {})["session_id"] != new
    assert harness.send("session_request")["session_id"]  # no data at all, as Rasa allows
    assert ("sid-1", "顾客:1@店") in harness.sio.rooms
    assert ("session_confirm", "顾客:1@店", "sid-1") in harness.sio.emitted
    assert not harness.errors()


@pytest.mark.parametrize(
    "args",
    [
        ({"session_id": "\ud800"},),
        ({"session_id": "a\x00"},),
        ({"session_id": 42},),
        ({"session_id": ""},),
        ({"session_id": "s" * 256},),
        ("a string",),
        ([1, 2],),
        ({"session_id": "a"}, "extra"),
    ],
    ids=repr,
)
def test_socketio_bad_session_requests_get_an_error_event_and_no_confirm(args):
    harness = SocketHarness(answering([]))
    ack = harness.send("session_request", *args)
    assert ack["status"] == 400 and ack["event"] == "session_request" and ack["error"]
    assert harness.errors() == [ack]
    assert not harness.sio.rooms
    assert not any(event == "session_confirm" for event, _, _ in harness.sio.emitted)


def test_socketio_valid_message_is_processed_even_before_session_request():
    received: list = []
    harness = SocketHarness(answering(received))
    meta = {"page": {"product": "连衣裙"}, "customer_token": None, "trainee_token": None}
    ack = harness.send("user_uttered", {"message": "你好", "session_id": "s-1", "metadata": meta})
    assert ack == {"ok": True}
    (message,) = received
    assert (message.text, message.sender_id, message.metadata) == ("你好", "s-1", meta)
    assert message.input_channel == "socketio"
    assert ("sid-1", "s-1") in harness.sio.rooms  # so the answer reaches this socket
    assert ("bot_uttered", {"text": "您好"}, "s-1") in harness.sio.emitted


@pytest.mark.parametrize(
    "args",
    [
        (),
        (None,),
        ("你好",),
        ({"message": "你好"},),  # no session_id with session persistence
        ({"message": "你好", "session_id": "\udfff"},),
        ({"message": "你好", "session_id": "a\u202e"},),
        ({"message": "\ud83d", "session_id": "s"},),
        ({"message": "a\x00", "session_id": "s"},),
        ({"message": 5, "session_id": "s"},),
        ({"session_id": "s"},),
        ({"message": "长" * 20_001, "session_id": "s"},),
        ({"message": "hi", "session_id": "s", "metadata": "{}"},),
        ({"message": "hi", "session_id": "s", "metadata": {"k": b"\x00"}},),
        ({"message": "hi", "session_id": "s", "metadata": {"k": "x" * 20_000}},),
        (
            {
                "message": "hi",
                "session_id": "s",
                "metadata": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}},
            },
        ),
        ({"message": "hi", "session_id": "s"}, {"second": "argument"}),
    ],
    ids=lambda v: repr(v)[:60],
)
def test_socketio_bad_messages_get_an_error_event_and_are_not_processed(args):
    received: list = []
    harness = SocketHarness(answering(received))
    ack = harness.send("user_uttered", *args)
    assert ack["status"] in (400, 413) and ack["event"] == "user_uttered", ack
    assert harness.errors() == [ack]
    assert not received and not harness.sio.rooms


def test_socketio_turn_that_exits_gets_the_holding_reply_and_the_handler_returns():
    async def exits(message):
        raise SystemExit(1)

    harness = SocketHarness(exits, agent=fake_agent(exits=True))
    assert harness.send("user_uttered", {"message": "你好", "session_id": "s-2"}) == {"ok": True}
    assert ("bot_uttered", {"text": holding_reply()}, "s-2") in harness.sio.emitted


def test_socketio_handler_failure_outside_the_turn_is_an_error_event_not_a_crash():
    harness = SocketHarness(answering([]))

    def broken_enter_room(sid, room, namespace=None):
        raise SystemExit("the manager gave up")

    harness.sio.enter_room = broken_enter_room
    ack = harness.send("session_request", {"session_id": "s-3"})
    assert ack["status"] == 500
    assert harness.errors() == [ack]
