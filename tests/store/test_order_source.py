"""The HTTP order source against the example order service, a real separate process.

The service (examples/order_service) serves the demo orders over docs/order-api.md on a
free port; the client is `dianxiaoer.store.order_source.HttpOrderSource`, and, with
ORDER_SOURCE=http, the repository functions the actions call.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.shop.verification import Limits
from dianxiaoer.store import order_source, repository
from dianxiaoer.store import verification as checks
from dianxiaoer.store.db import session_scope, upgrade
from dianxiaoer.store.demo import DEMO_ORDERS
from dianxiaoer.store.models import Coupon, Customer, Order, Ticket, VerificationAttempt
from dianxiaoer.store.order_source import (
    ApiPolicy,
    CircuitBreaker,
    HttpOrderSource,
    OrderApiRejected,
    OrderSourceUnavailable,
    StoreOrderSource,
)
from examples.order_service import launch
from tests.conftest import free_port

TOKEN = "order-api-test-token"
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI)
FAST = ApiPolicy(
    retries=2,
    backoff_seconds=0.05,
    backoff_max_seconds=0.08,
    breaker_failures=3,
    breaker_cooldown_seconds=30,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The example order service with the demo orders (data in a file of this module)."""
    tmp = tmp_path_factory.mktemp("order_service")
    running = launch.start(free_port(), TOKEN, tmp / "orders.db")
    yield running
    running.stop()


def client(url: str, policy: ApiPolicy = FAST, timeout: float = 3, **kwargs) -> HttpOrderSource:
    """A client with its own breaker and the test's numbers."""
    return HttpOrderSource(url, TOKEN, timeout, policy, **kwargs)


def service_store(service) -> StoreOrderSource:
    """The service's own database, read directly (what the API must agree with)."""
    return StoreOrderSource(f"sqlite:///{service.db}")


def test_every_order_reads_as_in_the_shop_store(service):
    api, store = client(service.url), service_store(service)
    for order_id in DEMO_ORDERS:
        remote, local = api.find_order(order_id), store.find_order(order_id)
        assert remote is not None and local is not None
        # the assistant's tickets are not the order system's: compared without them
        assert remote == dataclasses.replace(local, tickets=())
        assert remote.created_at.tzinfo is not None


def test_customer_orders_newest_first(service):
    api, store = client(service.url), service_store(service)
    for customer in ("C1001", "C1002"):
        assert api.orders_of(customer) == store.orders_of(customer)
    assert [o.id for o in api.orders_of("C1001")][0] == "202611010007"
    assert api.orders_of("C9999") == []


def test_shipment_and_scan_events(service):
    api = client(service.url)
    parcel = api.shipment("202611010002")
    assert parcel is not None and parcel["courier"] == "圆通"
    assert [s["location"] for s in parcel["scans"]] == ["杭州仓", "杭州转运中心"]
    assert all(s["time"].utcoffset().total_seconds() == 0 for s in parcel["scans"])
    order = api.find_order("202611010002")
    assert order.last_scan.location == "杭州转运中心"
    assert api.shipment("202611010007") is None  # unpaid: no parcel yet
    with pytest.raises(ValueError):
        api.shipment("209900000000")


def test_unknown_order_is_none_not_an_outage(service):
    api = client(service.url)
    assert api.find_order("209900000000") is None
    assert api.breaker.state(FAST.breaker_cooldown_seconds) == CircuitBreaker.CLOSED


def test_return_is_filed_once_per_key_and_shows_on_the_order(service):
    api = client(service.url)
    order = api.find_order("202611010003")
    item = order.items[0].id
    rma = api.create_return(order.id, item, "尺码不合适", NOW, "conv-1|submit|return:1")
    again = api.create_return(order.id, item, "尺码不合适", NOW, "conv-1|submit|return:1")
    assert rma == again and rma.startswith("RMA")
    shown = api.find_order(order.id)
    assert rma in shown.returns
    assert shown.return_requests[-1].refund_amount == order.items[0].price
    with pytest.raises(ValueError):
        api.create_return(order.id, item + 100, "尺码不合适", NOW, None)
    with pytest.raises(ValueError):
        api.create_return("209900000000", item, "尺码不合适", NOW, None)


def test_ticket_cancel_and_address(service):
    api = client(service.url)
    reference = api.file_ticket("CJ-TEST-1", "urge", "202611010002", "C1001", "high", {}, NOW)
    assert reference == api.file_ticket(
        "CJ-TEST-1", "urge", "202611010002", "C1001", "high", {}, NOW
    )
    assert api.change_address("202611010008", "北京市海淀区中关村大街 1 号") is True
    assert api.change_address("202611010003", "北京市海淀区中关村大街 1 号") is False
    assert api.cancel_order("202611010003", NOW, "k-cancel-1") == "shipped"


def test_wrong_token_is_refused_and_answered_as_an_outage(service):
    api = HttpOrderSource(service.url, "wrong-token", 3, FAST)
    with pytest.raises(OrderApiRejected) as error:
        api.find_order("202611010001")
    # the actions' outage path catches the store's driver errors: the same type
    assert isinstance(error.value, DBAPIError)
    assert api.breaker.state(FAST.breaker_cooldown_seconds) == CircuitBreaker.CLOSED


def test_transient_failures_are_retried_with_backoff(tmp_path):
    flaky = launch.start(free_port(), TOKEN, tmp_path / "orders.db", "--fail-first", "2")
    waits: list[float] = []
    try:
        api = client(flaky.url, sleep=waits.append)
        assert api.find_order("202611010001") is not None
        assert flaky.served() == 3
        assert waits == [0.05, 0.08]  # doubling, capped at backoff_max_seconds
    finally:
        flaky.stop()


def test_timeouts_are_retried_then_an_outage_and_writes_are_sent_once(tmp_path):
    slow = launch.start(free_port(), TOKEN, tmp_path / "orders.db", "--delay", "1")
    try:
        api = client(slow.url, timeout=0.3, sleep=lambda _: None)
        started = time.monotonic()
        with pytest.raises(OrderSourceUnavailable, match="timed out"):
            api.find_order("202611010001")
        assert time.monotonic() - started < 2.5
        time.sleep(1.2)  # let the service finish the abandoned requests
        assert slow.served() == 3
        with pytest.raises(OrderSourceUnavailable):
            api.create_return("202611010003", 3, "不想要了", NOW, "k")
        time.sleep(1.2)
        assert slow.served() == 4
    finally:
        slow.stop()


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_circuit_breaker_opens_then_half_opens_and_closes(service, tmp_path):
    down = launch.start(free_port(), TOKEN, tmp_path / "orders.db", "--fail-first", "1000")
    try:
        policy = dataclasses.replace(FAST, retries=0)
        api = client(down.url, policy)
        clock = Clock()
        api.breaker = CircuitBreaker(clock)
        for _ in range(3):
            with pytest.raises(OrderSourceUnavailable, match="503"):
                api.find_order("202611010001")
        assert down.served() == 3
        # open: answered at once, the service is not called
        with pytest.raises(OrderSourceUnavailable, match="breaker open"):
            api.find_order("202611010001")
        assert down.served() == 3
        # after the cool-down one trial goes out; it fails: open again
        clock.now += policy.breaker_cooldown_seconds
        assert api.breaker.state(policy.breaker_cooldown_seconds) == CircuitBreaker.HALF_OPEN
        with pytest.raises(OrderSourceUnavailable, match="503"):
            api.find_order("202611010001")
        with pytest.raises(OrderSourceUnavailable, match="breaker open"):
            api.find_order("202611010001")
        assert down.served() == 4
        # the order system is back: the next trial succeeds and the breaker closes
        api.base_url = service.url
        clock.now += policy.breaker_cooldown_seconds
        assert api.find_order("202611010001") is not None
        assert api.breaker.state(policy.breaker_cooldown_seconds) == CircuitBreaker.CLOSED
        assert api.find_order("202611010002") is not None
    finally:
        down.stop()


def test_killed_service_is_an_outage_and_a_restart_recovers(tmp_path):
    port, db = free_port(), tmp_path / "orders.db"
    running = launch.start(port, TOKEN, db)
    api = client(running.url, sleep=lambda _: None)
    assert api.find_order("202611010001") is not None
    running.stop()
    with pytest.raises(OrderSourceUnavailable) as error:
        api.find_order("202611010001")
    assert isinstance(error.value, DBAPIError)
    running = launch.start(port, TOKEN, db)
    try:
        assert api.find_order("202611010001") is not None
    finally:
        running.stop()


@pytest.fixture
def http_mode(service, tmp_path, monkeypatch):
    """ORDER_SOURCE=http against the service, with an empty assistant store of its own."""
    url = f"sqlite:///{tmp_path / 'assistant.db'}"
    upgrade(url)
    monkeypatch.setenv("SHOP_DB", str(tmp_path / "assistant.db"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ORDER_SOURCE", "http")
    monkeypatch.setenv("ORDER_API_URL", service.url)
    monkeypatch.setenv("ORDER_API_TOKEN", TOKEN)
    order_source._http_source.cache_clear()
    yield url
    order_source._http_source.cache_clear()


def test_repository_dispatches_to_the_order_system(http_mode, service):
    order = repository.find_order("202611010002")
    assert order is not None and order.customer_phone.endswith("1234")
    assert [o.id for o in repository.orders_of("C1001")] == [
        o.id for o in service_store(service).orders_of("C1001")
    ]
    # the assistant's store keeps shadow rows, so its own records can name the order
    with session_scope(http_mode) as session:
        shadow = session.get(Customer, "C1001")
        assert shadow is not None and shadow.phone == "" and shadow.is_vip
        assert session.get(Order, "202611010002") is not None
    urge = repository.urge_delivery(
        "202611010002", "C1001", "high", {"why": "delay"}, NOW, (10, 99, 30, "物流延迟补偿")
    )
    assert urge.ticket.startswith("CJ") and urge.coupon
    assert repository.find_order("202611010002").open_ticket("urge").number == urge.ticket
    # the order system got the 催件 ticket with the assistant's number
    with session_scope(f"sqlite:///{service.db}") as session:
        filed = session.scalars(select(Ticket).where(Ticket.order_id == "202611010002")).all()
        assert urge.ticket in [t.details.get("assistant_ticket") for t in filed]


def test_phone_tail_check_reads_the_owner_from_the_order_system(http_mode):
    limits = Limits.from_policy(get_policy())
    gate = checks.begin("202611010003", "conv-tail", None, NOW, limits)
    assert gate.allowed
    checks.finish(gate.attempt, True, NOW, limits)
    with session_scope(http_mode) as session:
        row = session.scalars(
            select(VerificationAttempt).where(VerificationAttempt.order_id == "202611010003")
        ).one()
        assert row.customer_id == "C1002" and row.outcome == "matched"


def test_outage_keeps_no_half_made_ticket(http_mode, tmp_path, monkeypatch):
    monkeypatch.setenv("ORDER_API_URL", f"http://127.0.0.1:{free_port()}")  # nobody there
    with pytest.raises(OrderSourceUnavailable):
        repository.find_order("202611010001")
    with pytest.raises(OrderSourceUnavailable):
        repository.urge_delivery("202611010002", "C1001", "high", {}, NOW, (10, 99, 30, "x"))
    with pytest.raises(OrderSourceUnavailable):
        repository.create_return("202611010003", 3, "不想要了", NOW)
    with session_scope(http_mode) as session:
        assert session.scalars(select(Ticket)).all() == []
        assert session.scalars(select(Coupon)).all() == []


def test_outage_is_answered_by_the_actions_apology_path():
    from actions.common import STORE_ERRORS

    assert isinstance(OrderSourceUnavailable("down"), STORE_ERRORS)
