"""Who may see an order.

Either a signed customer token from the shop page, or the order number plus the last four
digits of the phone number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

TOKEN_SECRET_ENV = "SHOP_TOKEN_SECRET"
# Used only when the variable is unset, so the demo runs out of the box; `make run`
# prints a warning and any real deployment sets its own secret.
DEMO_SECRET = "dianxiaoer-demo-secret-change-me"


def _secret() -> bytes:
    return (os.environ.get(TOKEN_SECRET_ENV) or DEMO_SECRET).encode()


def _sign(payload: str, secret: bytes) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def mint_token(customer_id: str, ttl_seconds: int, now: float | None = None) -> str:
    """A token "customer_id.expiry.signature" the shop page passes in message metadata."""
    expiry = int((now if now is not None else time.time()) + ttl_seconds)
    payload = f"{customer_id}.{expiry}"
    return f"{payload}.{_sign(payload, _secret())}"


def verify_token(token: str | None, now: float | None = None) -> str | None:
    """The customer id of a valid, unexpired token, else None."""
    if not token or not isinstance(token, str) or token.count(".") != 2:
        return None
    customer_id, expiry, signature = token.split(".")
    if not hmac.compare_digest(_sign(f"{customer_id}.{expiry}", _secret()), signature):
        return None
    try:
        if int(expiry) < (now if now is not None else time.time()):
            return None
    except ValueError:
        return None
    return customer_id or None


TRAINEE_PREFIX = "trainee:"


def mint_trainee_token(trainee_id: str, ttl_seconds: int, now: float | None = None) -> str:
    """A token for a trainee (training page login); never accepted as a customer token."""
    return mint_token(TRAINEE_PREFIX + trainee_id, ttl_seconds, now)


def verify_trainee_token(token: str | None, now: float | None = None) -> str | None:
    """The trainee id of a valid, unexpired trainee token, else None."""
    subject = verify_token(token, now)
    if subject and subject.startswith(TRAINEE_PREFIX) and len(subject) > len(TRAINEE_PREFIX):
        return subject[len(TRAINEE_PREFIX) :]
    return None


def verify_customer_token(token: str | None, now: float | None = None) -> str | None:
    """The customer id of a valid customer token (a trainee token is not one)."""
    subject = verify_token(token, now)
    return None if not subject or subject.startswith(TRAINEE_PREFIX) else subject


def phone_tail_matches(phone: str, tail: str | None) -> bool:
    """True if `tail` is exactly the last four digits of `phone`."""
    digits = "".join(c for c in phone if c.isdigit())
    return bool(tail) and len(tail) == 4 and tail.isdigit() and digits.endswith(tail)
