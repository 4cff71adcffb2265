"""The shop area: the demo shop page, the widget's files and config, customer login and API.

Customer-facing only: nothing here needs an agent. `demo` holds the demo login, which
`create_app` registers only outside production (there the route does not exist: 404), so
no one can mint a customer token without the shop's real login.
"""

from __future__ import annotations

import time

from sanic import Blueprint, response
from sanic.request import Request

from dianxiaoer.core import roster
from dianxiaoer.core.auth import mint_token
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import is_production
from dianxiaoer.shop import handoff
from dianxiaoer.store import handoffs, repository
from webapp.auth import CUSTOMER, agents, requires
from webapp.shared import STATIC, error, json_body, page, public_rasa_url

DEMO_CUSTOMERS = {"C1001": "张伟", "C1002": "李娜"}

bp = Blueprint("shop")
demo = Blueprint("shop_demo")


@bp.get("/")
async def shop(request: Request):
    """The demo shop page."""
    return await page("shop.html")


@bp.get("/orders")
async def orders_page(request: Request):
    """The shop page's "我的订单" view (the same page)."""
    return await page("shop.html")


@bp.get("/widget.js")
async def widget(request: Request):
    """The chat widget bundle (built by `make widget`)."""
    built = STATIC / "widget.js"
    if not built.exists():
        return response.text("widget not built: run `make widget`", status=503)
    return await response.file(built, mime_type="application/javascript")


@bp.get("/api/config")
async def config(request: Request):
    """Where the widget reaches Rasa, the shop's name, and whether the demo login exists."""
    return response.json(
        {
            "rasa": public_rasa_url(request),
            "shop": get_policy()["shop.name"],
            # the shop page offers the demo login only when there is one
            "demo": not is_production(),
        }
    )


@bp.get("/api/products")
async def products(request: Request):
    """The catalogue for the shop page."""
    return response.json(
        [
            {
                "id": p.id,
                "name": p.name,
                "category": p.category,
                "price": f"{p.price:.2f}",
                "in_stock": sum(p.stock.values()) > 0,
                "attributes": p.attributes,
            }
            for p in repository.catalogue()
        ]
    )


@demo.post("/api/login")
async def login(request: Request):
    """Demo login: mints the signed customer token the bot verifies."""
    customer = json_body(request).get("customer")
    if not isinstance(customer, str) or customer not in DEMO_CUSTOMERS:
        return error("unknown demo customer", 400)
    ttl = get_policy()["verification.token_ttl_seconds"]
    return response.json(
        {"customer": customer, "name": DEMO_CUSTOMERS[customer], "token": mint_token(customer, ttl)}
    )


@bp.get("/api/orders")
@requires(CUSTOMER)
async def my_orders(request: Request, customer: str):
    """The logged-in customer's orders (customer token as `Authorization: Bearer`)."""
    return response.json(
        [
            {"id": o.id, "status": o.status, "items": o.items, "total": o.total}
            for o in repository.orders_of(customer)
        ]
    )


@bp.get("/api/handoff/status")
async def handoff_status(request: Request):
    """Queue position for the widget (no personal data)."""
    conversation = request.args.get("conversation") or ""
    entry = handoffs.current(conversation) if conversation else None
    if entry is None:
        return response.json({"status": "none"})
    if entry.status == "active":
        name = next((a["name"] for a in agents() if a["id"] == entry.agent_id), "")
        typing = request.app.ctx.agent_typing.get(conversation, 0.0) > time.monotonic()
        return response.json({"status": "active", "agent": name, "typing": typing})
    place, minutes = handoff.queue_estimate(handoffs.waiting(), conversation, roster.load_agents())
    return response.json({"status": "waiting", "position": place, "wait_minutes": minutes})
