"""Who may see an order.

Either a signed customer token from the shop page, or the order number plus the last four
digits of the phone number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from dianxiaoer.core.settings import get_settings, is_production

TOKEN_SECRET_ENV = "SHOP_TOKEN_SECRET"
# Used only in demo mode when the variable is unset, so the demo runs out of the box;
# `make run` says so on start (dianxiaoer.core.startup_check). Production refuses it.
DEMO_SECRET = "dianxiaoer-demo-secret-change-me"
#: A signed token may be minted ahead of the verifier's clock by this much.
CLOCK_SKEW_SECONDS = 60


class MissingSecretError(RuntimeError):
    """A production process was asked to sign or verify without its own secret."""


def _secret() -> bytes:
    secret = get_settings().shop_token_secret
    if secret and secret != DEMO_SECRET:
        return secret.encode()
    if is_production():
        # the startup check refuses this earlier; never sign with a public secret
        raise MissingSecretError(f"{TOKEN_SECRET_ENV} must be set in production")
    return (secret or DEMO_SECRET).encode()


def _max_ttl() -> int:
    from dianxiaoer.core.policy import get_policy

    return int(get_policy()["verification.token_ttl_seconds"])


def _sign(payload: str, secret: bytes) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def mint_token(customer_id: str, ttl_seconds: int, now: float | None = None) -> str:
    """A token "customer_id.expiry.signature" the shop page passes in message metadata.

    The lifetime is capped at the policy's `verification.token_ttl_seconds`: a longer one
    would be refused by `verify_token` anyway.
    """
    ttl_seconds = min(int(ttl_seconds), _max_ttl())
    expiry = int((now if now is not None else time.time()) + ttl_seconds)
    payload = f"{customer_id}.{expiry}"
    return f"{payload}.{_sign(payload, _secret())}"


def verify_token(token: str | None, now: float | None = None) -> str | None:
    """The customer id of a valid, unexpired token, else None.

    A token that expires later than the maximum lifetime from now is refused too: whoever
    holds the secret cannot hand out tokens that never expire.
    """
    if not token or not isinstance(token, str) or token.count(".") != 2 or len(token) > 512:
        return None
    customer_id, expiry, signature = token.split(".")
    if not hmac.compare_digest(
        _sign(f"{customer_id}.{expiry}", _secret()).encode(), signature.encode("utf-8", "replace")
    ):
        return None
    current = now if now is not None else time.time()
    try:
        expires = int(expiry)
    except ValueError:
        return None
    if expires < current or expires > current + _max_ttl() + CLOCK_SKEW_SECONDS:
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
    if not tail:
        return False
    digits = "".join(c for c in phone if c.isdigit())
    return len(tail) == 4 and tail.isdigit() and digits.endswith(tail)
