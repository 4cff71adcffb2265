"""What a chat client may send: one validator for the REST and the socket.io channel.

No Rasa imports: `dianxiaoer.rasa_plugins.channels` calls it for both channels, the unit
tests call it directly. A refused input raises `InboundError` with the HTTP status the REST channel
answers (400 malformed, 413 too large) and a message the socket.io channel sends back in
its error event.

Rules (limits in `Limits`, overridable per channel in credentials.yml):

- **conversation id** (REST `sender`, socket.io `session_id`): a string of 1 to 255
  characters (the SQL tracker store's `sender_id` column is VARCHAR(255)), not only
  whitespace, every character printable in Python's sense — letters, digits, marks,
  punctuation, symbols and the ASCII space, so ids with `/`, `..`, `:`, `@`, spaces or
  Chinese pass (the web app quotes them in Rasa API URLs), while control characters (NUL
  included), zero-width and bidi format characters, other separators, private-use and
  unassigned code points and lone surrogates do not. A lone surrogate reaching the SQL
  tracker store is a `ValueError` there, which Rasa turns into `sys.exit`;
- **message**: a string of at most 20,000 characters without NUL or lone surrogates
  (other control characters are text the NLU normalizer handles);
- **metadata**: absent/null or a JSON object, at most 16 KiB as UTF-8 JSON and nested at
  most 8 levels (the widget sends 2); keys and values plain JSON (no bytes, NaN or
  infinity) and every string without NUL or lone surrogates. Metadata is stored with
  every event of the turn, so its size is bounded like the message's.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
#: Metadata key for the sender's network address: set by the channels from the peer
#: (whatever a client sends under it is replaced), read by the verification rate limit.
CLIENT_IP_KEY = "client_ip"


@dataclass(frozen=True)
class Limits:
    """Bounds of what one message may carry."""

    max_sender_chars: int = 255
    max_message_chars: int = 20_000
    max_metadata_bytes: int = 16 * 1024
    max_metadata_depth: int = 8
    max_input_channel_chars: int = 64


DEFAULT_LIMITS = Limits()


class InboundError(ValueError):
    """An input the channel refuses: the HTTP status to answer and what is wrong."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        """Keep the status (400 malformed, 413 too large), the message and the field."""
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Inbound:
    """A validated user message."""

    sender: str
    message: str
    metadata: dict[str, Any] | None


def bad_text(text: str) -> str | None:
    """Why `text` cannot be stored or processed (NUL, lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    if _SURROGATE.search(text):
        return "is not valid Unicode (lone surrogate)"
    return None


def check_conversation_id(
    value: Any, limits: Limits = DEFAULT_LIMITS, field: str = "sender"
) -> str:
    """The conversation id if it is a safe printable string; else InboundError."""
    if not isinstance(value, str) or not value.strip():
        raise InboundError(400, f"'{field}' must be a non-empty string", field)
    if len(value) > limits.max_sender_chars:
        raise InboundError(
            400, f"'{field}' longer than {limits.max_sender_chars} characters", field
        )
    problem = bad_text(value)
    if problem:
        raise InboundError(400, f"'{field}' {problem}", field)
    if not value.isprintable():
        raise InboundError(
            400,
            f"'{field}' must be printable text (no control, format or separator characters)",
            field,
        )
    return value


def check_text(value: Any, limits: Limits = DEFAULT_LIMITS, field: str = "message") -> str:
    """The message text if it is a string within the limit, without NUL or lone surrogates."""
    if not isinstance(value, str):
        raise InboundError(400, f"'{field}' must be a string", field)
    if len(value) > limits.max_message_chars:
        raise InboundError(
            413, f"'{field}' longer than {limits.max_message_chars} characters", field
        )
    problem = bad_text(value)
    if problem:
        raise InboundError(400, f"'{field}' {problem}", field)
    return value


def check_metadata(
    value: Any, limits: Limits = DEFAULT_LIMITS, field: str = "metadata"
) -> dict[str, Any] | None:
    """The metadata if it is null or a small, shallow JSON object of clean text."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InboundError(400, f"'{field}' must be a JSON object", field)
    _check_tree(value, limits, field)
    try:
        # depth and types are checked, so this neither recurses deeply nor fails on types
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError):
        raise InboundError(400, f"'{field}' must be plain JSON", field) from None
    if size > limits.max_metadata_bytes:
        raise InboundError(413, f"'{field}' larger than {limits.max_metadata_bytes} bytes", field)
    return value


def _check_tree(root: dict[str, Any], limits: Limits, field: str) -> None:
    """Depth, types and strings of a metadata tree, without recursion (no RecursionError)."""
    budget = limits.max_metadata_bytes  # nodes visited; each costs at least one byte of JSON
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise InboundError(
                413, f"'{field}' larger than {limits.max_metadata_bytes} bytes", field
            )
        if isinstance(node, (dict, list)):
            if depth > limits.max_metadata_depth:
                raise InboundError(
                    400, f"'{field}' nested deeper than {limits.max_metadata_depth} levels", field
                )
            if isinstance(node, dict):
                for key, item in node.items():
                    if not isinstance(key, str):
                        raise InboundError(400, f"'{field}' keys must be strings", field)
                    _check_string(key, field)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str):
            _check_string(node, field)
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise InboundError(400, f"'{field}' must be plain JSON (no NaN or infinity)", field)
        elif node is not None and not isinstance(node, (bool, int)):
            raise InboundError(400, f"'{field}' must be plain JSON", field)


def _check_string(text: str, field: str) -> None:
    problem = bad_text(text)
    if problem:
        raise InboundError(400, f"'{field}' {problem}", field)


def check_input_channel(value: Any, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """An optional channel name (REST `input_channel`): a short printable string."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= limits.max_input_channel_chars
        or not value.isprintable()
    ):
        raise InboundError(400, "'input_channel' must be a short printable string", "input_channel")
    return value


def check_user_message(
    sender: Any,
    message: Any,
    metadata: Any,
    limits: Limits = DEFAULT_LIMITS,
    sender_field: str = "sender",
) -> Inbound:
    """Validate one user message: the id first, then the text, then the metadata."""
    return Inbound(
        sender=check_conversation_id(sender, limits, sender_field),
        message=check_text(message, limits),
        metadata=check_metadata(metadata, limits),
    )
