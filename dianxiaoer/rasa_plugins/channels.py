"""The REST and socket.io input channels, hardened: no crash, and no silent turn.

No client input crashes or stops the server, and no well-formed message is answered with
silence. Both channels check what a client sends with the same validator
(`dianxiaoer.core.inbound`: conversation id, message text, metadata; docs/survival.md).

Registered in credentials.yml as `dianxiaoer.rasa_plugins.channels.SafeRestInput`; its name stays
"rest", so the contract URL stays POST /webhooks/rest/webhook. Compared with Rasa's
`RestInput` (rasa/core/channels/rest.py) it

- validates the body before Rasa sees it: a JSON object with a conversation id `sender`,
  a string `message` and an object (or null) `metadata`, within size limits. Rasa's own
  channel answers a JSON array with a 500, turns a missing `sender` into the shared
  conversation "default" (one customer could read another's replies), silently drops a
  non-string message or metadata, and a sender that is not valid Unicode (a lone
  surrogate) makes the SQL tracker store exit the whole server. Here each of these is a
  4xx with a JSON `{"error": ...}`;
- never answers a well-formed message with silence: when the turn produced no message
  (the action server is down, an action failed, the tracker store failed) it sends the
  holding reply from the policy file (`dianxiaoer.core.resilience`) and records it in the
  tracker when it can. The customer's message is normally already in the tracker store,
  so the next turn carries on normally.

`SafeSocketIOInput` (the widget's channel, name "socketio") is Rasa's socket.io channel
with its `session_request` and `user_uttered` handlers replaced: the same validation (a
refused event gets an `error` event, and the same payload as the acknowledgement when the
client asked for one, and is not processed), an engine.io body limit, and the same
holding reply.

Rasa's SQL tracker store turns any `ValueError` inside a database session into
`sys.exit(1)` (`print_error_and_exit`); raised in a turn, that `SystemExit` would leave the
event loop and stop the server. The turn wrapper here catches it like any exception:
the turn is logged as failed and the customer gets the holding reply.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from dianxiaoer.core import conversation_ids
from dianxiaoer.core.inbound import (
    CLIENT_IP_KEY,
    InboundError,
    Limits,
    check_conversation_id,
    check_input_channel,
    check_user_message,
)
from dianxiaoer.core.resilience import holding_reply
from dianxiaoer.core.text import conversation_script

logger = logging.getLogger(__name__)

#: Metadata key marking a bot message as the channel's holding reply (tracker, analytics).
HOLDING_METADATA_KEY = "holding_reply"

#: A request the channel refuses, with the HTTP status to answer (the validator's error).
RequestError = InboundError

#: What a turn may raise without stopping the server: every exception and `SystemExit`
#: (Rasa's tracker store exits on a database `ValueError`). Not KeyboardInterrupt (Ctrl-C
#: must still stop the server), not asyncio.CancelledError (handled on its own).
TURN_FAILURES = (Exception, SystemExit)

DEFAULT_MAX_BODY_BYTES = 256 * 1024


def _limits(
    max_message_chars: int = Limits.max_message_chars,
    max_sender_chars: int = Limits.max_sender_chars,
    max_metadata_bytes: int = Limits.max_metadata_bytes,
    max_metadata_depth: int = Limits.max_metadata_depth,
) -> Limits:
    return Limits(
        max_sender_chars=int(max_sender_chars),
        max_message_chars=int(max_message_chars),
        max_metadata_bytes=int(max_metadata_bytes),
        max_metadata_depth=int(max_metadata_depth),
    )


class SafeRestInput(RestInput):
    """Rasa's REST channel with body validation and a holding reply instead of silence."""

    def __init__(
        self,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_message_chars: int = Limits.max_message_chars,
        max_sender_chars: int = Limits.max_sender_chars,
        max_metadata_bytes: int = Limits.max_metadata_bytes,
        max_metadata_depth: int = Limits.max_metadata_depth,
    ) -> None:
        """Limits; credentials.yml may override them."""
        self.max_body_bytes = int(max_body_bytes)
        self.limits = _limits(
            max_message_chars, max_sender_chars, max_metadata_bytes, max_metadata_depth
        )

    @classmethod
    def name(cls) -> str:
        """Keep Rasa's name: the URL /webhooks/rest/webhook is the contract."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SafeRestInput:
        """Limits from the channel's section of credentials.yml (all optional)."""
        return cls(**(credentials or {}))

    def parse_body(self, request: Request) -> dict[str, Any]:
        """The validated body: sender, message, metadata, input_channel; else RequestError."""
        if len(request.body or b"") > self.max_body_bytes:
            raise RequestError(413, f"body larger than {self.max_body_bytes} bytes")
        try:
            body = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: thousands of nested brackets
            raise RequestError(400, "body is not valid JSON") from None
        if not isinstance(body, dict):
            raise RequestError(400, "body must be a JSON object")
        return self.validate(body)

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        """Check the fields of a decoded body; RequestError names the first problem."""
        inbound = check_user_message(
            body.get("sender"), body.get("message"), body.get("metadata"), self.limits
        )
        input_channel = check_input_channel(body.get("input_channel"), self.limits)
        return {
            "sender": inbound.sender,
            "message": inbound.message,
            "metadata": inbound.metadata,
            "input_channel": input_channel or self.name(),
        }

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The health route and the validated webhook."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.listener("before_server_start")
        async def decode_conversation_ids(app: Any, _loop: Any) -> None:
            # Rasa's API routes take the conversation id as sent; clients quote it
            # (dianxiaoer.core.conversation_ids), so ids with "/", spaces or Chinese reach
            # their own conversation. Here because the REST channel is always on.
            conversation_ids.install(app)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            try:
                body = self.parse_body(request)
            except RequestError as error:
                return response.json({"error": str(error)}, status=error.status)
            handle = _with_holding_reply(on_new_message, request.app.ctx.agent)
            metadata = with_client_ip(body["metadata"], request)
            args = (body["message"], body["sender"], body["input_channel"], metadata)
            if _bool_arg(request, "stream"):
                return response.stream(
                    self.stream_response(handle, *args), content_type="text/event-stream"
                )
            collector = CollectingOutputChannel()
            await handle(_user_message(collector, *args))
            return response.json(collector.messages)

        return webhook

    @staticmethod
    async def on_message_wrapper(
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        queue: asyncio.Queue,
        sender_id: str,
        input_channel: str,
        metadata: dict[str, Any] | None,
    ) -> None:
        """Streaming variant (?stream=true): replies go to the queue as they come."""
        collector = QueueOutputChannel(queue)
        await on_new_message(_user_message(collector, text, sender_id, input_channel, metadata))
        await queue.put("DONE")


def with_client_ip(metadata: dict[str, Any] | None, request: Request | None) -> dict[str, Any]:
    """`metadata` with the client's address set by the server.

    Whatever the client sent under that key is replaced: only the peer address (or the
    address a configured proxy forwards, Sanic's `remote_addr`) counts, so a client cannot
    spread its verification attempts over made-up addresses.
    """
    metadata = {k: v for k, v in (metadata or {}).items() if k != CLIENT_IP_KEY}
    address = ""
    if request is not None:
        try:
            address = request.remote_addr or request.ip or ""
        except Exception:  # a request without a transport (closed socket)
            address = ""
    if address:
        metadata[CLIENT_IP_KEY] = address
    return metadata


def _bool_arg(request: Request, name: str) -> bool:
    try:
        return str(request.args.get(name, "false")).lower() == "true"
    except SanicException:
        return False


def _user_message(
    output: OutputChannel,
    text: str,
    sender_id: str,
    input_channel: str,
    metadata: dict[str, Any] | None,
) -> UserMessage:
    return UserMessage(text, output, sender_id, input_channel=input_channel, metadata=metadata)


class _CountingOutput(OutputChannel):
    """Passes every bot message on to `inner` and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> str:
        """The wrapped channel's name (the NLG picks channel-specific responses by it)."""
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Count, then deliver."""
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


def _with_holding_reply(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any
) -> Callable[[UserMessage], Awaitable[None]]:
    """`on_new_message` that never raises; a turn that said nothing gets the holding reply."""

    async def handle(message: UserMessage) -> None:
        counting = _CountingOutput(message.output_channel)
        message.output_channel = counting
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            logger.error("turn of %s timed out", message.sender_id)
        except SystemExit as exit_:
            # Rasa's SQL tracker store gave up (print_error_and_exit): one turn lost, not
            # the server
            logger.error(
                "turn of %s failed: Rasa called sys.exit(%s); the server goes on",
                message.sender_id,
                exit_.code,
                exc_info=True,
            )
        except Exception:
            logger.exception("turn of %s failed", message.sender_id)
        if not counting.sent:
            await _hold(agent, message, counting.inner)

    return handle


async def _hold(agent: Any, message: UserMessage, output: OutputChannel) -> None:
    """Send the holding reply and add it to the conversation (agents and analytics see it).

    Not in a paused conversation: there a human agent answers, and the bot stays quiet.
    Never raises: a broken store or client connection is logged.
    """
    text = holding_reply(conversation_script([message.text or ""]))
    sent = False
    try:
        async with agent.lock_store.lock(message.sender_id):
            tracker = await agent.tracker_store.retrieve(message.sender_id)
            if tracker is not None and tracker.is_paused():
                return
            await output.send_response(message.sender_id, {"text": text})
            sent = True
            if tracker is not None:  # None: the turn failed before the tracker was stored
                tracker.update(BotUttered(text, metadata={HOLDING_METADATA_KEY: True}))
                await agent.tracker_store.save(tracker)
    except TURN_FAILURES:
        # the tracker store (or lock) is what fails: still answer, and log why
        logger.exception("could not record the holding reply for %s", message.sender_id)
    if not sent:
        try:
            await output.send_response(message.sender_id, {"text": text})
        except TURN_FAILURES:
            logger.exception("could not send the holding reply to %s", message.sender_id)


class SafeSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel (the widget's): validation, body limit, holding reply.

    Protocol (unchanged for valid input): `session_request` {session_id} is answered with
    `session_confirm` (a new id when session_id is missing or null); `user_uttered`
    {message, session_id, metadata} with `bot_uttered` messages. New: a refused event is
    answered with an `error` event (name `error_evt`) `{"event", "error", "status"}` and
    not processed; when the client asked for an acknowledgement it gets the same payload,
    or `{"session_id": ...}` / `{"ok": true}` for accepted events (after the whole turn).
    A `user_uttered` before any `session_request` is handled like one that follows it:
    the socket joins the conversation's room, so the answers reach it.
    """

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = False,
        socketio_path: str | None = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str | None = "HS256",
        metadata_key: str | None = "metadata",
        *,
        error_evt: str = "error",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        limits: Limits | None = None,
    ) -> None:
        """Rasa's options, the error event's name, the body limit, the validator's limits."""
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.error_evt = error_evt
        self.max_body_bytes = int(max_body_bytes)
        self.limits = limits or Limits()
        # the turn with its holding reply; set by blueprint(), which Rasa calls at start
        self._handle: Callable[[UserMessage], Awaitable[None]] | None = None

    @classmethod
    def name(cls) -> str:
        """Keep Rasa's name: the widget, the agent console and the analytics use it."""
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SafeSocketIOInput:
        """Rasa's socket.io options, `error_evt` and the limits, from credentials.yml."""
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", False),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            error_evt=credentials.get("error_evt", "error"),
            max_body_bytes=credentials.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
            limits=_limits(
                **{
                    key: credentials[key]
                    for key in (
                        "max_message_chars",
                        "max_sender_chars",
                        "max_metadata_bytes",
                        "max_metadata_depth",
                    )
                    if key in credentials
                }
            ),
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's socket.io blueprint with validating event handlers and a body limit.

        Rasa's routes and its connect/disconnect handlers (JWT) stay; `session_request`
        and the user message event are replaced.
        """
        server: dict[str, Any] = {}

        async def handle(message: UserMessage) -> None:
            await _with_holding_reply(on_new_message, server["app"].ctx.agent)(message)

        blueprint = super().blueprint(handle)
        sio = self.sio
        # engine.io closes a websocket whose message is larger (default 1 MB); the bound is
        # the REST channel's
        sio.eio.max_http_buffer_size = self.max_body_bytes
        # a larger long-polling POST would make engine.io close the session and hold the
        # request until the session's queue drains, which it never does once closed: answer
        # 413 at once instead (SocketBlueprint attaches the route at registration, later)
        sio.eio.handle_request = self._limited(sio.eio.handle_request)
        # registering an event again replaces Rasa's handler
        for event, handler in (
            ("session_request", self._session_request),
            (self.user_message_evt, self._user_message),
        ):
            sio.on(event, self._guarded(event, handler), namespace=self.namespace)
        self._handle = handle

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            # the agent (lock and tracker store) is the server's, known once it starts
            server["app"] = app
            conversation_ids.install(app)  # as in SafeRestInput (idempotent)

        return blueprint

    def _limited(
        self, engineio_handler: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        """engine.io's request handler behind the body limit (413 with a JSON error)."""
        limit = self.max_body_bytes

        # same name as engine.io's: Sanic names the route after the handler
        async def handle_request(request: Request, *args: Any, **kwargs: Any) -> Any:
            if len(request.body or b"") > limit:
                return response.json({"error": f"body larger than {limit} bytes"}, status=413)
            return await engineio_handler(request, *args, **kwargs)

        return handle_request

    def _guarded(
        self, event: str, handler: Callable[..., Awaitable[dict[str, Any]]]
    ) -> Callable[..., Awaitable[dict[str, Any]]]:
        """The event handler that refuses invalid input and never raises.

        python-socketio runs each handler as its own asyncio task: an exception there is
        only logged, but a SystemExit would leave the event loop and stop the server.
        """

        async def guarded(sid: str, *args: Any) -> dict[str, Any]:
            try:
                return await handler(sid, *args)
            except InboundError as error:
                return await self._refuse(sid, event, error)
            except TURN_FAILURES:
                logger.exception("socket.io %s from %s failed", event, sid)
                return await self._refuse(
                    sid, event, InboundError(500, "the server could not handle this event")
                )

        return guarded

    async def _refuse(self, sid: str, event: str, error: InboundError) -> dict[str, Any]:
        """Tell the client why its event was not processed; the payload is also the ack."""
        payload = {"event": event, "error": str(error), "status": error.status}
        if error.status < 500:
            logger.info("socket.io %s from %s refused: %s", event, sid, error)
        try:
            await self.sio.emit(self.error_evt, payload, to=sid, namespace=self.namespace)
        except TURN_FAILURES:
            logger.exception("could not send the error event to %s", sid)
        return payload

    async def _session_request(self, sid: str, *args: Any) -> dict[str, Any]:
        data = _one_argument("session_request", args, optional=True)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InboundError(400, "'session_request' data must be an object or null")
        session_id = data.get("session_id")
        if session_id is None:  # Rasa's behaviour: the server picks the id
            session_id = uuid.uuid4().hex
        check_conversation_id(session_id, self.limits, "session_id")
        if self.session_persistence:
            self.sio.enter_room(sid, session_id, namespace=self.namespace)
        await self.sio.emit("session_confirm", session_id, to=sid, namespace=self.namespace)
        return {"session_id": session_id}

    async def _user_message(self, sid: str, *args: Any) -> dict[str, Any]:
        event = self.user_message_evt
        data = _one_argument(event, args)
        if not isinstance(data, dict):
            raise InboundError(400, f"'{event}' data must be a JSON object")
        # without session persistence Rasa uses the socket's id as the conversation id
        sender = data.get("session_id") if self.session_persistence else sid
        inbound = check_user_message(
            sender,
            data.get("message"),
            data.get(self.metadata_key or "metadata"),
            self.limits,
            sender_field="session_id",
        )
        if self.session_persistence:
            # bot messages go to the conversation's room: a message sent before (or
            # without) session_request still gets its answers on this socket
            self.sio.enter_room(sid, inbound.sender, namespace=self.namespace)
        assert self._handle is not None, "blueprint() registers the handlers"
        await self._handle(
            UserMessage(
                inbound.message,
                SocketIOOutput(self.sio, self.bot_message_evt),
                inbound.sender,
                input_channel=self.name(),
                metadata=with_client_ip(inbound.metadata, self._request_of(sid)),
            )
        )
        return {"ok": True}

    def _request_of(self, sid: str) -> Request | None:
        """The HTTP request that opened the socket (engine.io keeps it in the environ)."""
        try:
            environ = self.sio.get_environ(sid, namespace=self.namespace) or {}
        except Exception:  # an unknown sid: no address rather than no answer
            return None
        return environ.get("sanic.request")


def _one_argument(event: str, args: tuple[Any, ...], optional: bool = False) -> Any:
    """The event's single data argument (socket.io events may carry zero or several)."""
    if len(args) == 1:
        return args[0]
    if not args and optional:
        return None
    raise InboundError(400, f"'{event}' takes exactly one data argument")
