"""Conversation ids in Rasa's HTTP API paths: quoted by the clients, decoded by the server.

A conversation id is whatever the customer's channel sent (`dianxiaoer.core.inbound` lets ids
with "/", "..", ":", "@", spaces and Chinese through). Rasa 3.6 registers its
conversation routes as `/conversations/<conversation_id:path>/…` on Sanic 21.12, which
hands the handler the path text *as sent*, not percent-decoded: a client that quotes the
id ("a%20b", "x%2F..%2Fvictim") names a conversation that is not the customer's, and one
that does not quote it has "/" and ".." taken as path structure (the HTTP client even
removes "x/../" before sending) and spaces or Chinese quoted on the way.

- `path_segment(id)` is how a client (the web app) writes an id into such a path: one
  segment, "/" and everything outside RFC 3986's path characters percent-encoded, "." and
  ".." encoded so no client drops them as dot segments. Ids made only of letters, digits,
  "-._~!$&'()*+,;=:@" stay as they are, so they reach an undecoding Rasa unchanged.
- `install(app)` adds a request middleware to Rasa's Sanic app that percent-decodes the
  `conversation_id` of those routes once, so every quoted id reaches its own conversation.

Clients must check the `sender_id` of the tracker Rasa answers with (webapp/shared.py does):
without `install` an id with other characters names another conversation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

#: Characters kept unquoted in a path segment besides letters, digits and "-._~".
PATH_SAFE = "!$&'()*+,;=:@"
_INSTALLED = "dxe_conversation_ids_decoded"


def path_segment(conversation_id: str) -> str:
    """`conversation_id` as one percent-encoded path segment (see the module docstring)."""
    segment = quote(conversation_id, safe=PATH_SAFE)
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def decode_conversation_id(request: Any) -> Any:
    """Request middleware: percent-decode the matched `conversation_id` once.

    An escape that is not UTF-8 answers 400 (no conversation has such an id).
    """
    params = request.match_info
    value = params.get("conversation_id") if isinstance(params, dict) else None
    if isinstance(value, str) and "%" in value:
        try:
            decoded = unquote(value, errors="strict")
        except UnicodeDecodeError:
            from sanic import response

            return response.json({"error": "conversation id is not UTF-8"}, status=400)
        # the handler is called with **request.match_info: this is the id it gets
        params["conversation_id"] = decoded
    return None


def install(app: Any) -> None:
    """Decode quoted conversation ids on Rasa's Sanic `app` (idempotent)."""
    if getattr(app.ctx, _INSTALLED, False):
        return
    app.register_middleware(decode_conversation_id, "request")
    setattr(app.ctx, _INSTALLED, True)
