"""The web app's defences: security headers with a CSP, a body limit, login attempt limits.

Values come from the `security` section of config/policy.yml (checked when the app is
built, so a typo fails the start and not the first login).

Login limits count *different* wrong secrets (an agent token, a trainee's token) per client
IP and, for the trainee login, per account within `login_window_seconds`; at the limit
that IP or account is locked for `login_lockout_seconds`: every attempt, the right secret
included, answers 429 with `Retry-After` (otherwise the limit would still tell a guesser
when a guess is right). Repeating the same wrong secret is no new guess, so a console
left open with an old token, polling every 2 s, does not lock its office out.

The counters live in this process. `make run` and the scaled setup (docs/scaling.md) run
exactly one web app, so every login goes through them; several web app replicas would each
count on their own (the limit multiplied by the replicas) and would need shared state
(e.g. the shop store). The client IP is the socket's peer unless Sanic is told about a
proxy (`SANIC_PROXIES_COUNT`, `SANIC_REAL_IP_HEADER`, `SANIC_FORWARDED_SECRET`): behind a
reverse proxy without that, all clients share the proxy's address and its limit.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from sanic import Sanic, response
from sanic.request import Request

from dianxiaoer.core.policy import Policy, PolicyError, get_policy

#: security.* keys of config/policy.yml and their types (validated by `limits()`).
SECURITY_KEYS: dict[str, type[int] | tuple[type[int], type[float]]] = {
    "security.login_failures_per_ip": int,
    "security.login_failures_per_account": int,
    "security.login_window_seconds": (int, float),
    "security.login_lockout_seconds": (int, float),
    "security.max_body_bytes": int,
}

T = TypeVar("T")

#: Keys (IPs, accounts) remembered at most; the oldest are forgotten first.
MAX_KEYS = 10_000


@dataclass(frozen=True)
class Limits:
    """The `security` section of the policy."""

    failures_per_ip: int
    failures_per_account: int
    window_seconds: float
    lockout_seconds: float
    max_body_bytes: int


def limits(policy: Policy | None = None) -> Limits:
    """The validated `security` values of `policy` (default: the live one).

    PolicyError when one is missing or wrong.
    """
    policy = policy or get_policy()
    for key, expected in SECURITY_KEYS.items():
        value = policy.get(key)
        if isinstance(value, bool) or not isinstance(value, expected) or value <= 0:
            raise PolicyError(
                f"{policy.source}: '{key}' must be a positive {expected}, got {value!r}"
            )
    return Limits(
        policy["security.login_failures_per_ip"],
        policy["security.login_failures_per_account"],
        float(policy["security.login_window_seconds"]),
        float(policy["security.login_lockout_seconds"]),
        policy["security.max_body_bytes"],
    )


class LoginLimiter:
    """Different wrong secrets per key within a window; a key at its limit is locked."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """An empty limiter (`clock` for tests)."""
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (wrong-secret fingerprint -> time of the last try)
        self._failures: OrderedDict[str, dict[str, float]] = OrderedDict()
        self._locked_until: dict[str, float] = {}

    def retry_after(self, keys: list[str]) -> int:
        """Seconds until every key may try again (0: none is locked)."""
        now = self._clock()
        with self._lock:
            until = max((self._locked_until.get(k, 0.0) for k in keys), default=0.0)
        return max(0, math.ceil(until - now))

    def fail(self, keys: dict[str, int], secret: str, window: float, lockout: float) -> None:
        """Count a wrong `secret` for each key (key -> its limit); lock keys at their limit."""
        fingerprint = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        now = self._clock()
        with self._lock:
            for key, limit in keys.items():
                tried = self._failures.pop(key, {})
                tried = {f: t for f, t in tried.items() if now - t < window}
                tried[fingerprint] = now
                self._failures[key] = tried  # most recent last (forgetting order)
                if len(tried) >= limit:
                    self._locked_until[key] = now + lockout
                    tried.clear()
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)
            expired = [k for k, until in self._locked_until.items() if until <= now]
            for key in expired:
                del self._locked_until[key]

    def succeed(self, keys: list[str]) -> None:
        """Forget the wrong secrets of these keys (a right login of that account)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


#: The web app's one limiter (see the module docstring for why in-process is enough).
LIMITER = LoginLimiter()


def client_ip(request: Request) -> str:
    """The client's address: Sanic's proxy-aware `remote_addr` if configured, else the peer."""
    return request.remote_addr or request.ip or "?"


def too_many(seconds: int) -> response.HTTPResponse:
    """429 with Retry-After."""
    return response.json(
        {"error": "too many failed logins, try again later", "retry_after": seconds},
        status=429,
        headers={"Retry-After": str(seconds)},
    )


def check_login(
    request: Request,
    secret: str,
    verify: Callable[[str], T | None],
    account: str | None = None,
) -> tuple[T | None, response.HTTPResponse | None]:
    """(who `verify(secret)` found, None) or (None, 429) for a locked IP or account.

    A wrong non-empty `secret` counts against the client IP and the `account` if given;
    an empty one is no guess (the page before a login). The caller answers a None with
    its own 401.
    """
    keys = {f"ip:{client_ip(request)}": None}
    if account:
        keys[f"account:{account}"] = None
    wait = LIMITER.retry_after(list(keys))
    if wait:
        return None, too_many(wait)
    who = verify(secret) if secret else None
    if who is None and secret:
        conf = limits()
        limit = {
            k: conf.failures_per_account if k.startswith("account:") else conf.failures_per_ip
            for k in keys
        }
        LIMITER.fail(limit, secret, conf.window_seconds, conf.lockout_seconds)
        wait = LIMITER.retry_after(list(keys))
        if wait:
            return None, too_many(wait)
    elif who is not None and account:
        LIMITER.succeed([f"account:{account}"])
    return who, None


def _origins(url: str) -> list[str]:
    """The origin of `url` and its websocket twin (socket.io uses both)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return []
    origin = f"{parts.scheme}://{parts.netloc}"
    twin = {"http": "ws", "https": "wss"}.get(parts.scheme)
    return [origin] + ([f"{twin}://{parts.netloc}"] if twin else [])


def content_security_policy(rasa_url: str) -> str:
    """The pages' CSP: scripts only from this origin; the widget may reach Rasa.

    Inline styles stay allowed because the widget injects its stylesheet as a `<style>`
    element (it is embedded on other shops' pages too); inline style cannot run script.
    Images may be `blob:` (the analytics and training charts are fetched with a token)
    and `data:`.
    """
    connect = " ".join(["'self'", *_origins(rasa_url)])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            f"connect-src {connect}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def install(app: Sanic, rasa_url_of: Callable[[Request], str]) -> None:
    """Body limit and security headers on every response of `app`.

    `rasa_url_of(request)` is the Rasa address the page's widget connects to (the same as
    /api/config's), allowed in connect-src.
    """
    app.config.REQUEST_MAX_SIZE = limits().max_body_bytes

    @app.on_response
    async def security_headers(request: Request, resp) -> None:
        headers = resp.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", content_security_policy(rasa_url_of(request)))
