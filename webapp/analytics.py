"""The analytics page (/analytics) and its API, registered on the web app.

The figures and charts are `dianxiaoer.analytics`'s — the same functions as
`make report` — so the page and the report agree for the same filters. Agents log in
with their console token (`X-Agent-Token`, as on /console); without one the API answers
401 and the page shows only its login form. Metrics are computed in a worker thread and
kept for `ANALYTICS_CACHE_SECONDS` [60] per filter, so the page's charts reuse one pass.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from dianxiaoer.analytics.sources import Filters, parse_day
from dianxiaoer.core.settings import get_settings
from webapp.auth import AGENT, requires
from webapp.shared import error, page

bp = Blueprint("analytics")

P = ParamSpec("P")
R = TypeVar("R")

_cache: dict[tuple, tuple[float, dict, dict[str, bytes]]] = {}
_cache_lock = threading.Lock()


def _ttl() -> float:
    return get_settings().analytics_cache_seconds


def filters_of(request: Request) -> Filters:
    """since/until (YYYY-MM-DD) and channel from the query string (ValueError if malformed)."""
    return Filters(
        parse_day(request.args.get("since")),
        parse_day(request.args.get("until")),
        (request.args.get("channel") or "").strip()[:64] or None,
    )


def metrics_for(filters: Filters) -> tuple[dict, dict[str, bytes]]:
    """(metrics, rendered charts so far) for `filters`, computed at most once per TTL."""
    from dianxiaoer.analytics.metrics import compute_metrics
    from dianxiaoer.analytics.sources import tracker_url
    from dianxiaoer.store.db import database_url

    key = (filters, tracker_url(), database_url())
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < _ttl():
            return hit[1], hit[2]
    metrics = compute_metrics(filters)
    with _cache_lock:
        for stale in [k for k, v in _cache.items() if now - v[0] >= _ttl()]:
            del _cache[stale]
        _cache[key] = (now, metrics, {})
    return metrics, _cache[key][2]


def chart_for(filters: Filters, name: str) -> bytes:
    """One chart PNG of the (cached) metrics for `filters`."""
    from dianxiaoer.analytics.charts import render_chart

    metrics, charts = metrics_for(filters)
    if name not in charts:
        charts[name] = render_chart(name, metrics)
    return charts[name]


def filtered(
    handler: Callable[Concatenate[Request, Filters, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Request, dict, P], Coroutine[Any, Any, R | HTTPResponse]]:
    """Route decorator after `requires(AGENT)`: `handler(request, filters, ...)`, else 400."""

    @wraps(handler)
    async def with_filters(
        request: Request, agent: dict, *args: P.args, **kwargs: P.kwargs
    ) -> R | HTTPResponse:
        try:
            filters = filters_of(request)
        except ValueError:
            return error("dates are YYYY-MM-DD", 400)
        return await handler(request, filters, *args, **kwargs)

    return with_filters


@bp.get("/analytics")
async def analytics_page(request: Request):
    """The analytics page (its API needs an agent token)."""
    return await page("analytics.html")


@bp.get("/api/analytics/metrics")
@requires(AGENT)
@filtered
async def analytics_metrics(request: Request, filters: Filters):
    """The metrics for the filters (the same as `make report`)."""
    metrics, _ = await asyncio.to_thread(metrics_for, filters)
    return response.json(metrics, ensure_ascii=False)


@bp.get("/api/analytics/charts")
@requires(AGENT)
@filtered
async def analytics_chart_names(request: Request, filters: Filters):
    """The names of the charts."""
    from dianxiaoer.analytics.charts import CHARTS  # matplotlib: loaded when first asked

    return response.json(list(CHARTS))


@bp.get("/api/analytics/charts/<name:str>")
@requires(AGENT)
@filtered
async def analytics_chart(request: Request, filters: Filters, name: str):
    """One chart PNG for the filters (404 for an unknown name)."""
    from dianxiaoer.analytics.charts import CHARTS  # matplotlib: loaded when first asked

    name = name.removesuffix(".png")
    if name not in CHARTS:
        return error("no such chart", 404)
    png = await asyncio.to_thread(chart_for, filters, name)
    return response.raw(png, content_type="image/png", headers={"Cache-Control": "no-store"})
