"""Queries and commands of the journeys, returning plain snapshots (no ORM objects).

Every function takes an optional `url` (tests pass their own database) and an explicit
`now` where time matters. The commands that change the shop for a customer take an
optional `key` (`EffectKey`) and then make their change once (see `common`).

One module per aggregate — `orders` (views, cancel, address, 催件), `tickets`, `coupons`,
`returns`, `products`, `invoices`, `complaints`, `ratings`, `churn`, `customers` — and
`common` for what they share. Callers use this package: `repository.find_order(...)`,
`from dianxiaoer.store.repository import EffectKey`.
"""

from __future__ import annotations

from dianxiaoer.store.repository.churn import record_churn_signal
from dianxiaoer.store.repository.common import EffectKey, insert_ignore, side_effect
from dianxiaoer.store.repository.complaints import complaints_of, create_complaint
from dianxiaoer.store.repository.coupons import issue_coupon
from dianxiaoer.store.repository.customers import customer_is_vip
from dianxiaoer.store.repository.invoices import request_invoice
from dianxiaoer.store.repository.orders import (
    ItemView,
    OrderSummary,
    OrderView,
    ScanView,
    Urge,
    cancel_order,
    change_address,
    find_order,
    orders_of,
    urge_delivery,
)
from dianxiaoer.store.repository.products import ProductView, catalogue
from dianxiaoer.store.repository.ratings import record_rating, update_rating
from dianxiaoer.store.repository.returns import ReturnView, create_return
from dianxiaoer.store.repository.tickets import (
    TicketView,
    create_ticket,
    open_ticket_for,
    ticket,
    ticket_details,
)

__all__ = [
    "EffectKey",
    "ItemView",
    "OrderSummary",
    "OrderView",
    "ProductView",
    "ReturnView",
    "ScanView",
    "TicketView",
    "Urge",
    "cancel_order",
    "catalogue",
    "change_address",
    "complaints_of",
    "create_complaint",
    "create_return",
    "create_ticket",
    "customer_is_vip",
    "find_order",
    "insert_ignore",
    "issue_coupon",
    "open_ticket_for",
    "orders_of",
    "record_churn_signal",
    "record_rating",
    "request_invoice",
    "side_effect",
    "ticket",
    "ticket_details",
    "update_rating",
    "urge_delivery",
]
