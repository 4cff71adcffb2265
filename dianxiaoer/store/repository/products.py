"""The catalogue: products with their stock, for pre-sale answers and the shop page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dianxiaoer.store.db import session_scope
from dianxiaoer.store.models import Product


@dataclass(frozen=True)
class ProductView:
    """A catalogue item for pre-sale answers."""

    id: str
    name: str
    category: str
    price: Decimal
    attributes: dict
    size_chart: dict | None
    stock: dict[str, int]
    monthly_sales: int
    launched_at: datetime | None


def catalogue(url: str | None = None) -> list[ProductView]:
    """Every product with its stock per size."""
    with session_scope(url) as session:
        products = session.scalars(select(Product).options(selectinload(Product.stock)))
        return [
            ProductView(
                p.id,
                p.name,
                p.category,
                p.price,
                dict(p.attributes or {}),
                p.size_chart,
                {s.size: s.quantity for s in p.stock},
                p.monthly_sales,
                p.launched_at,
            )
            for p in products
        ]
