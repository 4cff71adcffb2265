"""Where orders come from: the shop store, or the shop's own order system over HTTP.

`ORDER_SOURCE` (settings) picks the source. `store` (the default) is the SQL repository;
`http` is the JSON contract of docs/order-api.md, which a shop implements in front of its
own order system (Taobao/Tmall, JD, Youzan, Shopify, an ERP). The repository functions the
actions call (`find_order`, `orders_of`, `cancel_order`, `change_address`, `create_return`,
and the forwarding of order tickets) dispatch here, so the actions and the verification do
not know which source answers.

The HTTP source is defensive because a shop's system fails in ways the store does not:

- every request has a timeout (`ORDER_API_TIMEOUT_SECONDS`);
- idempotent reads (GET) are retried with exponential backoff; writes are sent once,
  carrying an idempotency key, so a write the service did receive is never made twice;
- a circuit breaker opens after `order_api.breaker_failures` consecutive failures and
  answers at once, without calling, until `order_api.breaker_cooldown_seconds` have passed;
  then one trial call goes through (half-open): success closes it, failure opens it again;
- an outage (timeout, refused connection, 5xx, an unreadable answer, an open breaker)
  raises `OrderSourceUnavailable`, a subclass of the SQL driver error the store raises
  when it is down, so the actions' outage path (`actions.common.survives_store_outage`)
  gives the customer the same apology;
- an order whose id or owner is not the one asked for is not used (it would be another
  customer's).

The numbers (retries, backoff, breaker) are in `config/policy.yml` under `order_api`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote

import requests
from sqlalchemy.exc import OperationalError

from dianxiaoer.core.settings import get_settings

logger = logging.getLogger(__name__)

UTC = timezone.utc
#: Return flags of an item (docs/order-api.md); a flag the service leaves out is false.
ITEM_FLAGS = ("customized", "perishable", "digital", "periodical")
#: Ticket kinds the order system acts on (the warehouse urges the courier, the after-sale
#: desk exchanges or repairs), so they are filed there too. Complaints, invoices and
#: handoffs stay with the assistant's own service desk.
FORWARDED_TICKETS = frozenset({"urge", "aftersale"})


class OrderSourceUnavailable(OperationalError):
    """The order source cannot be reached: the customer hears the store-outage apology.

    A subclass of SQLAlchemy's `OperationalError` (a `DBAPIError`) on purpose: that is
    what the shop store raises when its database is down, and what the actions' outage
    handling catches; one exception type, one apology.
    """

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        """`message` says what failed; `cause` is the underlying error, if any."""
        super().__init__(f"order API: {message}", None, cause or ConnectionError(message))
        self.message = message

    def __str__(self) -> str:
        """The message, without the SQL statement framing of DBAPIError."""
        return f"order API unavailable: {self.message}"

    def __reduce__(self):
        # DBAPIError pickles with its own constructor arguments; keep ours
        return (type(self), (self.message,))


class OrderApiRejected(OrderSourceUnavailable):
    """The order API refused our token (401/403).

    A configuration error, answered as an outage (the customer cannot be helped either
    way) but logged as what it is.
    """


@dataclass(frozen=True)
class ApiPolicy:
    """Retry and breaker numbers of the HTTP source (`order_api` in config/policy.yml)."""

    retries: int
    backoff_seconds: float
    backoff_max_seconds: float
    breaker_failures: int
    breaker_cooldown_seconds: float

    @classmethod
    def from_policy(cls, policy) -> ApiPolicy:
        """The numbers of a loaded `Policy`."""
        return cls(
            retries=int(policy["order_api.retries"]),
            backoff_seconds=float(policy["order_api.backoff_seconds"]),
            backoff_max_seconds=float(policy["order_api.backoff_max_seconds"]),
            breaker_failures=int(policy["order_api.breaker_failures"]),
            breaker_cooldown_seconds=float(policy["order_api.breaker_cooldown_seconds"]),
        )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1, 2, ...): doubling, capped."""
        return min(self.backoff_max_seconds, self.backoff_seconds * 2 ** (attempt - 1))


class CircuitBreaker:
    """Closed → open after `failures` consecutive failures → half-open after a cool-down.

    While open, calls fail at once (the customer gets the apology in milliseconds instead
    of after every timeout and retry). Half-open lets one trial call through; its result
    closes or reopens the breaker. Thread-safe: the action server may call from threads.
    """

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """A closed breaker; `clock` is monotonic seconds (tests pass their own)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    def state(self, cooldown: float) -> str:
        """The state now, given the cool-down."""
        with self._lock:
            return self._state(cooldown)

    def _state(self, cooldown: float) -> str:
        if self._opened_at is None:
            return self.CLOSED
        if self._clock() - self._opened_at >= cooldown:
            return self.HALF_OPEN
        return self.OPEN

    def allow(self, cooldown: float) -> bool:
        """Whether a call may go out now (half-open: only the one trial call)."""
        with self._lock:
            state = self._state(cooldown)
            if state == self.CLOSED:
                return True
            if state == self.HALF_OPEN and not self._trial:
                self._trial = True
                return True
            return False

    def success(self) -> None:
        """A call succeeded: close."""
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, False

    def failure(self, threshold: int) -> None:
        """A call failed: count it; open (again) at `threshold` or after a failed trial."""
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= threshold:
                if self._opened_at is None or self._trial:
                    logger.warning(
                        "order API circuit breaker opens after %d failures", self._failures
                    )
                self._opened_at = self._clock()
            self._trial = False


class OrderSource(Protocol):
    """What the repository asks of an order source (docs/order-api.md for the meanings)."""

    def find_order(self, order_id: str) -> Any:
        """The order (an `OrderView`), or None when there is no such order."""

    def orders_of(self, customer_id: str) -> list[Any]:
        """The customer's orders (`OrderSummary`), newest first."""

    def cancel_order(self, order_id: str, now: datetime, idempotency_key: str | None) -> str:
        """One of "cancelled", "refund", "shipped" (see `repository.cancel_order`)."""

    def change_address(self, order_id: str, address: str) -> bool:
        """Whether the address was changed (False: shipped already)."""

    def create_return(
        self, order_id: str, item_id: int, reason: str, now: datetime, idempotency_key: str | None
    ) -> str:
        """File a return request for one item; its RMA number."""

    def file_ticket(
        self,
        number: str,
        kind: str,
        order_id: str,
        customer_id: str | None,
        priority: str,
        details: dict,
        now: datetime,
    ) -> str:
        """File the assistant's ticket with the order system; the system's reference."""


# --- the HTTP source ---------------------------------------------------------------------


def parse_time(value: Any, field: str = "time") -> datetime | None:
    """An ISO 8601 time with an offset (docs/order-api.md) as aware UTC; None for null."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be an ISO 8601 string")
    # Python 3.10's fromisoformat does not take the "Z" suffix
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        # a time without offset is ambiguous by 8 hours in a Chinese shop: refuse it
        raise ValueError(f"{field} has no UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def format_time(value: datetime | None, tz=UTC) -> str | None:
    """An aware time as ISO 8601 with its offset (in `tz`), or None."""
    return None if value is None else value.astimezone(tz).isoformat()


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{field} is not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"{field} is not an amount: {value!r}")
    return amount


def order_from_json(data: dict[str, Any]) -> Any:
    """The `OrderView` of the contract's order object (ValueError/KeyError when malformed)."""
    from dianxiaoer.store.repository.orders import ItemView, OrderView, ScanView
    from dianxiaoer.store.repository.returns import ReturnView

    customer = data["customer"]
    payment = data.get("payment") or {}
    shipment = data.get("shipment") or None
    items = tuple(
        ItemView(
            id=int(i["id"]),
            product_id=str(i.get("product_id") or ""),
            name=str(i["name"]),
            size=str(i.get("size") or ""),
            price=_money(i["price"], "item price"),
            flags={f: bool((i.get("flags") or {}).get(f)) for f in ITEM_FLAGS},
            category=str(i.get("category") or ""),
        )
        for i in data.get("items") or []
    )
    scans: tuple = ()
    if shipment:
        scans = tuple(
            sorted(
                (
                    ScanView(
                        parse_time(s["time"], "scan time"),  # type: ignore[arg-type]
                        str(s.get("location") or ""),
                        str(s.get("description") or ""),
                    )
                    for s in shipment.get("scans") or []
                ),
                key=lambda s: s.time,
            )
        )
        if any(s.time is None for s in scans):
            raise ValueError("a scan has no time")
    returns = tuple(
        ReturnView(
            str(r["rma"]),
            str(r["status"]),
            _money(r["refund_amount"], "refund amount"),
            parse_time(r["created_at"], "return created_at"),  # type: ignore[arg-type]
        )
        for r in data.get("returns") or []
    )
    created_at = parse_time(data["created_at"], "created_at")
    if created_at is None:
        raise ValueError("created_at is required")
    return OrderView(
        id=str(data["id"]),
        customer_id=str(customer["id"]),
        customer_name=str(customer.get("name") or ""),
        customer_phone=str(customer.get("phone") or ""),
        is_vip=bool(customer.get("vip")),
        status=str(data["status"]),
        created_at=created_at,
        paid_at=parse_time(data.get("paid_at"), "paid_at"),
        shipped_at=parse_time(data.get("shipped_at"), "shipped_at"),
        signed_at=parse_time(data.get("signed_at"), "signed_at"),
        promised_ship_by=parse_time(data.get("promised_ship_by"), "promised_ship_by"),
        auto_cancel_at=parse_time(data.get("auto_cancel_at"), "auto_cancel_at"),
        total=_money(data["total"], "total"),
        address=str(data.get("address") or ""),
        items=items,
        courier=str(shipment["courier"]) if shipment and shipment.get("courier") else None,
        tracking_number=(
            str(shipment["tracking_number"])
            if shipment and shipment.get("tracking_number")
            else None
        ),
        scans=scans,
        last_payment_method=payment.get("method"),
        last_payment_status=payment.get("status"),
        last_failure_reason=payment.get("failure_reason"),
        returns=tuple(r.rma for r in returns),
        return_requests=returns,
        invoice_requested=bool(data.get("invoice_requested")),
    )


def _summary_from_json(data: dict[str, Any]) -> Any:
    from dianxiaoer.store.repository.orders import OrderSummary

    items = "、".join(
        f"{i['name']} {i['size']}码" if i.get("size") else str(i["name"])
        for i in data.get("items") or []
    )
    return OrderSummary(
        str(data["id"]), str(data["status"]), items, f"{_money(data['total'], 'total'):.2f}"
    )


class _Retryable(Exception):
    """A failed attempt that a retry may cure (timeout, connection, 5xx)."""


class HttpOrderSource:
    """The order API of docs/order-api.md, called with `requests`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float,
        policy: ApiPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`policy` None: the numbers are read from config/policy.yml at every call."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._policy = policy
        self._sleep = sleep
        self.breaker = CircuitBreaker()
        self._session = requests.Session()
        self._session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

    def policy(self) -> ApiPolicy:
        """The retry and breaker numbers in force."""
        if self._policy is not None:
            return self._policy
        from dianxiaoer.core.policy import get_policy

        return ApiPolicy.from_policy(get_policy())

    # - transport -

    def _attempt(self, method: str, path: str, body: dict | None) -> requests.Response:
        try:
            response = self._session.request(
                method, self.base_url + path, json=body, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise _Retryable(f"{method} {path} timed out after {self.timeout:g} s") from exc
        except requests.RequestException as exc:
            raise _Retryable(f"{method} {path}: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retryable(f"{method} {path} answered {response.status_code}")
        return response

    def _call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        """One logical call: retried when idempotent, guarded by the breaker.

        Returns responses below 500 (the caller reads 2xx/404/4xx); raises
        `OrderSourceUnavailable` for an outage.
        """
        policy = self.policy()
        if not self.breaker.allow(policy.breaker_cooldown_seconds):
            raise OrderSourceUnavailable("circuit breaker open (recent failures)")
        attempts = 1 + (policy.retries if method == "GET" else 0)
        error: _Retryable | None = None
        for attempt in range(attempts):
            if attempt:
                self._sleep(policy.backoff(attempt))
            try:
                response = self._attempt(method, path, body)
            except _Retryable as exc:
                error = exc
                logger.warning("order API attempt %d/%d failed: %s", attempt + 1, attempts, exc)
                continue
            if response.status_code in (401, 403):
                # the service is up: a wrong token is no reason to open the breaker
                self.breaker.success()
                logger.error(
                    "order API refused the token (%d): check ORDER_API_TOKEN", response.status_code
                )
                raise OrderApiRejected(f"{method} {path} refused the token")
            self.breaker.success()
            return response
        self.breaker.failure(policy.breaker_failures)
        assert error is not None  # the loop ran at least once and only failed
        raise OrderSourceUnavailable(str(error), error.__cause__ or error) from error

    def _json(self, response: requests.Response, what: str) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise OrderSourceUnavailable(f"{what}: not JSON", exc) from exc
        if not isinstance(data, dict):
            raise OrderSourceUnavailable(f"{what}: not a JSON object")
        return data

    @staticmethod
    def _client_error(response: requests.Response, what: str) -> ValueError:
        try:
            detail = response.json().get("message") or response.json().get("error")
        except (ValueError, AttributeError):
            detail = response.text[:200]
        return ValueError(f"{what}: {response.status_code} {detail}")

    # - reads -

    def find_order(self, order_id: str) -> Any:
        """GET /orders/{id}: the order, or None (404)."""
        response = self._call("GET", f"/orders/{quote(order_id, safe='')}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._client_error(response, "get order")
        data = self._json(response, "get order")
        try:
            order = order_from_json(data.get("order") or {})
        except (KeyError, TypeError, ValueError) as exc:
            raise OrderSourceUnavailable(f"get order: malformed order ({exc})", exc) from exc
        if order.id != order_id:
            # never show an order that is not the one asked for (a proxy mixing answers)
            logger.error("order API answered order %s for %s; ignored", order.id, order_id)
            raise OrderSourceUnavailable("get order: answered another order")
        return order

    def shipment(self, order_id: str) -> dict[str, Any] | None:
        """GET /orders/{id}/shipment: the parcel with its scans (times parsed), or None.

        Raises ValueError for an unknown order.
        """
        response = self._call("GET", f"/orders/{quote(order_id, safe='')}/shipment")
        if response.status_code == 404:
            raise ValueError("no such order")
        if response.status_code != 200:
            raise self._client_error(response, "get shipment")
        shipment = self._json(response, "get shipment").get("shipment")
        if shipment is None:
            return None
        try:
            return {
                **shipment,
                "shipped_at": parse_time(shipment.get("shipped_at"), "shipped_at"),
                "delivered_at": parse_time(shipment.get("delivered_at"), "delivered_at"),
                "scans": [
                    {**s, "time": parse_time(s["time"], "scan time")}
                    for s in shipment.get("scans") or []
                ],
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise OrderSourceUnavailable(f"get shipment: malformed ({exc})", exc) from exc

    def orders_of(self, customer_id: str) -> list[Any]:
        """GET /customers/{id}/orders: newest first; [] for an unknown customer."""
        response = self._call("GET", f"/customers/{quote(customer_id, safe='')}/orders")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise self._client_error(response, "get customer orders")
        rows = self._json(response, "get customer orders").get("orders")
        try:
            own = [
                r
                for r in rows or []
                # another customer's order in the list is dropped, never shown
                if str(r.get("customer_id", customer_id)) == customer_id
            ]
            created = [(parse_time(r["created_at"], "created_at"), r) for r in own]
            if any(when is None for when, _ in created):
                raise ValueError("an order has no created_at")
            # the contract asks for newest first; sorted here in case a system does not
            created.sort(key=lambda pair: pair[0] or datetime.min.replace(tzinfo=UTC), reverse=True)
            return [_summary_from_json(r) for _, r in created]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise OrderSourceUnavailable(f"get customer orders: malformed ({exc})", exc) from exc

    # - writes (sent once; the idempotency key makes a resend safe) -

    def _post(self, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        response = self._call("POST", path, body)
        if response.status_code == 404:
            raise ValueError("no such order")
        if response.status_code not in (200, 201):
            raise self._client_error(response, what)
        return self._json(response, what)

    def cancel_order(self, order_id: str, now: datetime, idempotency_key: str | None) -> str:
        """POST /orders/{id}/cancel."""
        data = self._post(
            f"/orders/{quote(order_id, safe='')}/cancel",
            {"idempotency_key": idempotency_key, "requested_at": format_time(now)},
            "cancel order",
        )
        result = data.get("result")
        if result not in ("cancelled", "refund", "shipped"):
            raise OrderSourceUnavailable(f"cancel order: unknown result {result!r}")
        return str(result)

    def change_address(self, order_id: str, address: str) -> bool:
        """POST /orders/{id}/address."""
        data = self._post(
            f"/orders/{quote(order_id, safe='')}/address", {"address": address}, "change address"
        )
        return bool(data.get("changed"))

    def create_return(
        self, order_id: str, item_id: int, reason: str, now: datetime, idempotency_key: str | None
    ) -> str:
        """POST /orders/{id}/returns: the RMA number."""
        data = self._post(
            f"/orders/{quote(order_id, safe='')}/returns",
            {
                "item_id": item_id,
                "reason": reason,
                "requested_at": format_time(now),
                "idempotency_key": idempotency_key,
            },
            "file return",
        )
        rma = (data.get("return") or {}).get("rma")
        if not rma:
            raise OrderSourceUnavailable("file return: no RMA number in the answer")
        return str(rma)

    def file_ticket(
        self,
        number: str,
        kind: str,
        order_id: str,
        customer_id: str | None,
        priority: str,
        details: dict,
        now: datetime,
    ) -> str:
        """POST /orders/{id}/tickets: the order system's reference of the ticket."""
        data = self._post(
            f"/orders/{quote(order_id, safe='')}/tickets",
            {
                "number": number,
                "kind": kind,
                "customer_id": customer_id,
                "priority": priority,
                "details": details,
                "created_at": format_time(now),
            },
            "file ticket",
        )
        return str((data.get("ticket") or {}).get("reference") or number)


# --- choosing the source -----------------------------------------------------------------


@lru_cache(maxsize=4)
def _http_source(base_url: str, token: str, timeout: float) -> HttpOrderSource:
    # one per configuration, so the breaker's state lasts across the calls of a process
    return HttpOrderSource(base_url, token, timeout)


def remote(url: str | None = None) -> HttpOrderSource | None:
    """The HTTP source when `ORDER_SOURCE=http` and no store `url` was given, else None.

    A caller that names a store `url` (tests, the example order service) always means
    that store.
    """
    if url is not None:
        return None
    settings = get_settings()
    if settings.order_source != "http":
        return None
    if not settings.order_api_url:
        raise OrderSourceUnavailable("ORDER_SOURCE=http but ORDER_API_URL is not set")
    return _http_source(
        settings.order_api_url, settings.order_api_token, settings.order_api_timeout_seconds
    )


def idempotency_key(key: Any) -> str | None:
    """The idempotency key sent to the order API for a repository `EffectKey`."""
    if key is None:
        return None
    return f"{key.conversation_id}|{key.action}|{key.anchor}"[:255]


# --- the store source --------------------------------------------------------------------


class StoreOrderSource:
    """Today's SQL repository as an `OrderSource` (the example order service serves it).

    Always the store at `url` (default: the configured shop store), whatever
    `ORDER_SOURCE` says.
    """

    #: The conversation id of `EffectKey`s made from the API's idempotency keys.
    API_CALLER = "order-api"

    def __init__(self, url: str | None = None) -> None:
        """The store at `url`, or the configured one (DATABASE_URL / SHOP_DB)."""
        from dianxiaoer.store.db import database_url

        self.url = url or database_url()

    def _key(self, action: str, idempotency_key: str | None) -> Any:
        from dianxiaoer.store.repository.common import EffectKey

        if not idempotency_key:
            return None
        return EffectKey(self.API_CALLER, action, idempotency_key)

    def find_order(self, order_id: str) -> Any:
        """The order, or None."""
        from dianxiaoer.store.repository import orders

        return orders.find_order(order_id, url=self.url)

    def orders_of(self, customer_id: str) -> list[Any]:
        """The customer's orders, newest first."""
        from dianxiaoer.store.repository import orders

        return orders.orders_of(customer_id, url=self.url)

    def cancel_order(self, order_id: str, now: datetime, idempotency_key: str | None) -> str:
        """Cancel (once per idempotency key)."""
        from dianxiaoer.store.repository import orders

        return orders.cancel_order(
            order_id, now, url=self.url, key=self._key("cancel", idempotency_key)
        )

    def change_address(self, order_id: str, address: str) -> bool:
        """Change the address before shipment."""
        from dianxiaoer.store.repository import orders

        return orders.change_address(order_id, address, url=self.url)

    def create_return(
        self, order_id: str, item_id: int, reason: str, now: datetime, idempotency_key: str | None
    ) -> str:
        """File a return (once per idempotency key); its RMA."""
        from dianxiaoer.store.repository import returns

        return returns.create_return(
            order_id, item_id, reason, now, url=self.url, key=self._key("return", idempotency_key)
        )

    def file_ticket(
        self,
        number: str,
        kind: str,
        order_id: str,
        customer_id: str | None,
        priority: str,
        details: dict,
        now: datetime,
    ) -> str:
        """Record the assistant's ticket `number` as a ticket of this store (once)."""
        from dianxiaoer.store.repository import tickets

        return tickets.create_ticket(
            kind,
            now,
            order_id,
            customer_id,
            priority,
            {**details, "assistant_ticket": number},
            url=self.url,
            key=self._key("ticket", number),
        )
