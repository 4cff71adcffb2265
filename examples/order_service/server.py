"""The example order service: docs/order-api.md over its own SQLite copy of the demo orders.

A shop's order system is a separate program with its own database; so is this one. At
start it creates a SQLite database (a temporary one, or `--db PATH` to keep it across
restarts) with the demo catalogue, customers and orders (`dianxiaoer.store.demo`, times
relative to the start) and answers the contract with the store repository of this project
(`StoreOrderSource` with an explicit database url, whatever ORDER_SOURCE says).

Standard library HTTP server (one thread per request); every API path needs
`Authorization: Bearer <token>`; `GET /health` does not. Two switches make it misbehave
on purpose, for the adapter's tests: `--delay SECONDS` answers every API request late,
`--fail-first N` answers the first N API requests with 503.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.store.order_source import ITEM_FLAGS, StoreOrderSource, format_time

logger = logging.getLogger("order_service")

#: Largest request body read (bytes); a larger one answers 413.
MAX_BODY = 64 * 1024
_ORDER = re.compile(r"^/orders/([^/]+)$")
_ORDER_PART = re.compile(r"^/orders/([^/]+)/(shipment|returns|tickets|cancel|address)$")
_CUSTOMER_ORDERS = re.compile(r"^/customers/([^/]+)/orders$")


class ApiError(Exception):
    """An error answer: HTTP status, machine code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """The answer `{"error": code, "message": message}` with `status`."""
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _time(value: datetime | None) -> str | None:
    # the contract's times carry their offset; a Chinese shop writes +08:00
    return format_time(value, SHANGHAI)


def order_json(order: Any) -> dict[str, Any]:
    """The contract's order object of an `OrderView`."""
    shipment = None
    if order.courier or order.scans:
        shipment = shipment_json(order)
    return {
        "id": order.id,
        "customer": {
            "id": order.customer_id,
            "name": order.customer_name,
            "phone": order.customer_phone,
            "vip": order.is_vip,
        },
        "status": order.status,
        "created_at": _time(order.created_at),
        "paid_at": _time(order.paid_at),
        "shipped_at": _time(order.shipped_at),
        "signed_at": _time(order.signed_at),
        "promised_ship_by": _time(order.promised_ship_by),
        "auto_cancel_at": _time(order.auto_cancel_at),
        "total": f"{order.total:.2f}",
        "address": order.address,
        "items": [
            {
                "id": i.id,
                "product_id": i.product_id,
                "name": i.name,
                "category": i.category,
                "size": i.size,
                "quantity": 1,
                "price": f"{i.price:.2f}",
                "flags": {f: bool(i.flags.get(f)) for f in ITEM_FLAGS},
            }
            for i in order.items
        ],
        "payment": (
            {
                "method": order.last_payment_method,
                "status": order.last_payment_status,
                "failure_reason": order.last_failure_reason,
            }
            if order.last_payment_method
            else None
        ),
        "shipment": shipment,
        "returns": [
            {
                "rma": r.rma,
                "status": r.status,
                "refund_amount": f"{r.refund_amount:.2f}",
                "created_at": _time(r.created_at),
            }
            for r in order.return_requests
        ],
        "invoice_requested": order.invoice_requested,
    }


def shipment_json(order: Any) -> dict[str, Any]:
    """The contract's shipment object of an `OrderView` (its parcel and scans)."""
    return {
        "courier": order.courier,
        "tracking_number": order.tracking_number,
        "shipped_at": _time(order.shipped_at),
        "delivered_at": _time(order.signed_at),
        "scans": [
            {"time": _time(s.time), "location": s.location, "description": s.description}
            for s in order.scans
        ],
    }


def _text(body: dict[str, Any], key: str, longest: int, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise ApiError(422, "invalid_request", f"'{key}' must be text of 1-{longest} characters")
    return value.strip()


@dataclass
class OrderService:
    """The contract's operations over one store; `now` is the service's clock."""

    source: StoreOrderSource
    now: Callable[[], datetime] = lambda: datetime.now(SHANGHAI)
    served: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        """Count an API request; returns how many were served before it."""
        with self._lock:
            self.served += 1
            return self.served - 1

    def _order(self, order_id: str) -> Any:
        order = self.source.find_order(order_id)
        if order is None:
            raise ApiError(404, "order_not_found", f"no order {order_id}")
        return order

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        """Answer a GET of the contract."""
        if match := _ORDER.match(path):
            return 200, {"order": order_json(self._order(match[1]))}
        if (match := _ORDER_PART.match(path)) and match[2] == "shipment":
            order = self._order(match[1])
            has_parcel = order.courier or order.scans
            return 200, {"shipment": shipment_json(order) if has_parcel else None}
        if match := _CUSTOMER_ORDERS.match(path):
            customer = match[1]
            orders = [self.source.find_order(o.id) for o in self.source.orders_of(customer)]
            return 200, {
                "orders": [
                    {
                        "id": o.id,
                        "customer_id": o.customer_id,
                        "status": o.status,
                        "created_at": _time(o.created_at),
                        "total": f"{o.total:.2f}",
                        "items": [{"name": i.name, "size": i.size, "quantity": 1} for i in o.items],
                    }
                    for o in orders
                    if o is not None
                ]
            }
        raise ApiError(404, "not_found", f"no such path {path}")

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer a POST of the contract."""
        match = _ORDER_PART.match(path)
        if not match or match[2] == "shipment":
            raise ApiError(404, "not_found", f"no such path {path}")
        order = self._order(match[1])
        action = match[2]
        key = body.get("idempotency_key")
        if key is not None and (not isinstance(key, str) or len(key) > 255):
            raise ApiError(422, "invalid_request", "'idempotency_key' must be text up to 255")
        if action == "cancel":
            return 200, {"result": self.source.cancel_order(order.id, self.now(), key)}
        if action == "address":
            address = _text(body, "address", 120)
            assert address is not None  # required
            return 200, {"changed": self.source.change_address(order.id, address)}
        if action == "returns":
            return self._return(order, body, key)
        return self._ticket(order, body)

    def _return(self, order: Any, body: dict[str, Any], key: str | None):
        item_id = body.get("item_id")
        if not isinstance(item_id, int) or isinstance(item_id, bool):
            raise ApiError(422, "invalid_request", "'item_id' must be an integer")
        if all(i.id != item_id for i in order.items):
            raise ApiError(422, "item_not_in_order", f"item {item_id} is not in the order")
        reason = _text(body, "reason", 64)
        assert reason is not None  # required
        before = set(order.returns)
        rma = self.source.create_return(order.id, item_id, reason, self.now(), key)
        filed = next(r for r in self._order(order.id).return_requests if r.rma == rma)
        return (200 if rma in before else 201), {
            "return": {
                "rma": filed.rma,
                "status": filed.status,
                "refund_amount": f"{filed.refund_amount:.2f}",
                "created_at": _time(filed.created_at),
            }
        }

    def _ticket(self, order: Any, body: dict[str, Any]):
        number = _text(body, "number", 64)
        kind = _text(body, "kind", 16)
        priority = _text(body, "priority", 8, required=False) or "normal"
        details = body.get("details") or {}
        if not isinstance(details, dict):
            raise ApiError(422, "invalid_request", "'details' must be an object")
        assert number is not None and kind is not None  # required
        known = {t.number for t in order.tickets}
        reference = self.source.file_ticket(
            number, kind, order.id, order.customer_id, priority, details, self.now()
        )
        return (200 if reference in known else 201), {
            "ticket": {"reference": reference, "number": number, "kind": kind, "status": "open"}
        }


def handler_class(service: OrderService, token: str, delay: float, fail_first: int):
    """The request handler bound to `service` and the switches."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "ExampleOrderService/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
            logger.info("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, error: ApiError) -> None:
            self._send(error.status, {"error": error.code, "message": error.message})

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            given = header[7:] if header.startswith("Bearer ") else ""
            return hmac.compare_digest(given.encode(), token.encode())

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ApiError(413, "too_large", f"body over {MAX_BODY} bytes")
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw or b"{}")
            except ValueError as exc:
                raise ApiError(400, "invalid_json", "the body is not JSON") from exc
            if not isinstance(body, dict):
                raise ApiError(400, "invalid_json", "the body must be a JSON object")
            return body

        def _handle(self, method: str) -> None:
            path = self.path.split("?", 1)[0]
            if method == "GET" and path == "/health":
                self._send(200, {"status": "ok", "served": service.served})
                return
            if not self._authorized():
                self._error(ApiError(401, "unauthorized", "missing or wrong bearer token"))
                return
            number = service.count()
            if delay:
                time.sleep(delay)
            if number < fail_first:
                self._error(ApiError(503, "unavailable", "failing on purpose (--fail-first)"))
                return
            try:
                if method == "GET":
                    status, body = service.get(path)
                else:
                    status, body = service.post(path, self._body())
            except ApiError as error:
                self._error(error)
                return
            except ValueError as error:  # the store's "no such order" / "item does not belong"
                self._error(ApiError(422, "rejected", str(error)))
                return
            except Exception:  # noqa: BLE001 (a service answers 500, it does not die)
                logger.exception("error answering %s %s", method, path)
                self._error(ApiError(500, "internal", "internal error"))
                return
            self._send(status, body)

        def do_GET(self) -> None:  # noqa: N802 (stdlib's name)
            """Read an order, its shipment or a customer's orders."""
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802 (stdlib's name)
            """File a return or ticket, cancel, change the address."""
            self._handle("POST")

    return Handler


def prepare_database(path: Path, now: datetime | None = None, demo: bool = True) -> str:
    """Create the service's SQLite database at `path`; its url.

    The demo data is added once, unless `demo` is false: a store filled by
    `make import-orders` is then served as it is.
    """
    from dianxiaoer.store.db import get_engine, session_scope
    from dianxiaoer.store.demo import load_demo_data
    from dianxiaoer.store.models import Base

    url = f"sqlite:///{path}"
    Base.metadata.create_all(get_engine(url))
    if demo:
        with session_scope(url) as session:
            load_demo_data(session, now)
    return url


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m examples.order_service", description=__doc__)
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--token",
        default=os.environ.get("ORDER_API_TOKEN", ""),
        help="the bearer token clients must send (default: ORDER_API_TOKEN)",
    )
    parser.add_argument("--db", type=Path, help="SQLite file kept across restarts")
    parser.add_argument(
        "--no-demo",
        action="store_true",
        help="serve the orders already in --db (e.g. imported) without adding the demo data",
    )
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 503 to the first N")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the service and serve until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not args.token:
        print("order service: give --token or ORDER_API_TOKEN", file=sys.stderr)
        return 2
    if args.db is None:
        args.db = Path(tempfile.mkdtemp(prefix="order-service-")) / "orders.db"
    url = prepare_database(args.db, demo=not args.no_demo)
    service = OrderService(StoreOrderSource(url))
    server = ThreadingHTTPServer(
        (args.host, args.port), handler_class(service, args.token, args.delay, args.fail_first)
    )
    server.daemon_threads = True
    print(f"order service on http://{args.host}:{server.server_port} (data {args.db})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
