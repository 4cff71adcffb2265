"""The REST and socket.io input channels, hardened: no crash, and no silent turn.

No client input crashes the server, and no well-formed message is answered with silence.

`SafeSocketIOInput` (the widget's channel, name "socketio") is Rasa's socket.io channel with
the same holding reply as the REST channel below.

Registered in credentials.yml as `dianxiaoer.channels.SafeRestInput`; its name stays
"rest", so the contract URL stays POST /webhooks/rest/webhook. Compared with Rasa's
`RestInput` (rasa/core/channels/rest.py) it

- validates the body before Rasa sees it: a JSON object with a non-empty string `sender`,
  a string `message` and an object (or null) `metadata`, within size limits. Rasa's own
  channel answers a JSON array with a 500, turns a missing `sender` into the shared
  conversation "default" (one customer could read another's replies), silently drops a
  non-string message or metadata, and a sender that is not valid Unicode (a lone
  surrogate) makes the SQL tracker store exit the whole server. Here each of these is a
  4xx with a JSON `{"error": ...}`;
- never answers a well-formed message with silence: when the turn produced no message
  (the action server is down, an action failed) it sends the holding reply from the
  policy file (`dianxiaoer.resilience`) and records it in the tracker. The customer's
  message is already in the tracker store, so the next turn carries on normally.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from dianxiaoer.resilience import holding_reply
from dianxiaoer.text import conversation_script

logger = logging.getLogger(__name__)

#: Metadata key marking a bot message as the channel's holding reply (tracker, analytics).
HOLDING_METADATA_KEY = "holding_reply"


class RequestError(ValueError):
    """A request the channel refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status (400 malformed, 413 too large) and the message."""
        super().__init__(message)
        self.status = status


def _is_unicode(text: str) -> bool:
    """False for strings with lone surrogates: JSON allows them, UTF-8 storage does not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class SafeRestInput(RestInput):
    """Rasa's REST channel with body validation and a holding reply instead of silence."""

    def __init__(
        self,
        max_body_bytes: int = 256 * 1024,
        max_message_chars: int = 20_000,
        max_sender_chars: int = 255,
        max_metadata_bytes: int = 16 * 1024,
    ) -> None:
        """Limits; credentials.yml may override them."""
        self.max_body_bytes = int(max_body_bytes)
        self.max_message_chars = int(max_message_chars)
        # the SQL tracker store's sender_id column is VARCHAR(255)
        self.max_sender_chars = int(max_sender_chars)
        self.max_metadata_bytes = int(max_metadata_bytes)

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
        except (ValueError, UnicodeDecodeError):
            raise RequestError(400, "body is not valid JSON") from None
        if not isinstance(body, dict):
            raise RequestError(400, "body must be a JSON object")
        return self.validate(body)

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        """Check the fields of a decoded body; RequestError names the first problem."""
        sender = body.get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise RequestError(400, "'sender' must be a non-empty string")
        if len(sender) > self.max_sender_chars:
            raise RequestError(400, f"'sender' longer than {self.max_sender_chars} characters")
        if not _is_unicode(sender) or any(not c.isprintable() for c in sender):
            # NUL or a lone surrogate in the conversation id breaks the tracker store
            raise RequestError(400, "'sender' must be printable Unicode text")
        message = body.get("message")
        if not isinstance(message, str):
            raise RequestError(400, "'message' must be a string")
        if len(message) > self.max_message_chars:
            raise RequestError(413, f"'message' longer than {self.max_message_chars} characters")
        if not _is_unicode(message):
            raise RequestError(400, "'message' must be valid Unicode text")
        metadata = body.get("metadata")
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise RequestError(400, "'metadata' must be a JSON object")
            try:
                size = len(json.dumps(metadata, ensure_ascii=False).encode("utf-8"))
            except (UnicodeEncodeError, ValueError):
                raise RequestError(400, "'metadata' must be valid Unicode text") from None
            if size > self.max_metadata_bytes:
                raise RequestError(413, f"'metadata' larger than {self.max_metadata_bytes} bytes")
        input_channel = body.get("input_channel")
        if input_channel is not None and (
            not isinstance(input_channel, str) or not 0 < len(input_channel) <= 64
        ):
            raise RequestError(400, "'input_channel' must be a short string")
        return {
            "sender": sender,
            "message": message,
            "metadata": metadata,
            "input_channel": input_channel or self.name(),
        }

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The health route and the validated webhook."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = self.parse_body(request)
            except RequestError as error:
                return response.json({"error": str(error)}, status=error.status)
            handle = _with_holding_reply(on_new_message, request.app.ctx.agent)
            args = (body["message"], body["sender"], body["input_channel"], body["metadata"])
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

    def name(self) -> str:  # type: ignore[override]
        """The wrapped channel's name (the NLG picks channel-specific responses by it)."""
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Count, then deliver."""
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


def _with_holding_reply(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any
) -> Callable[[UserMessage], Awaitable[None]]:
    """`on_new_message` that answers with the holding reply when the turn said nothing."""

    async def handle(message: UserMessage) -> None:
        counting = _CountingOutput(message.output_channel)
        message.output_channel = counting
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            logger.error("turn of %s timed out", message.sender_id)
        except Exception:
            logger.exception("turn of %s failed", message.sender_id)
        if not counting.sent:
            await _hold(agent, message, counting.inner)

    return handle


async def _hold(agent: Any, message: UserMessage, output: OutputChannel) -> None:
    """Send the holding reply and add it to the conversation (agents and analytics see it).

    Not in a paused conversation: there a human agent answers, and the bot stays quiet.
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
    except Exception:
        # the tracker store (or lock) is what fails: still answer, and log why
        logger.exception("could not record the holding reply for %s", message.sender_id)
        if not sent:
            await output.send_response(message.sender_id, {"text": text})


class SafeSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel (the widget's) with the REST channel's holding reply."""

    @classmethod
    def name(cls) -> str:
        """Keep Rasa's name: the widget, the agent console and the analytics use it."""
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's socket.io blueprint; a turn that said nothing gets the holding reply."""
        server: dict[str, Any] = {}

        async def handle(message: UserMessage) -> None:
            await _with_holding_reply(on_new_message, server["app"].ctx.agent)(message)

        blueprint = super().blueprint(handle)

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            # the agent (lock and tracker store) is the server's, known once it starts
            server["app"] = app

        return blueprint
