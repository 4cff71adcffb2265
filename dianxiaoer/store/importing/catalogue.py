"""Import of a shop's product list (CSV or XLSX) into the products and stock tables.

One row per product, columns as in docs/import.md (English names or their Chinese
aliases). Every row is checked before anything is written; a file with any problem writes
nothing. A product whose id is in the store is updated; columns the file leaves out keep
their stored values. New names go to the imported vocabulary file (`names`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.core.settings import get_settings
from dianxiaoer.knowledge.vocabulary import form_key
from dianxiaoer.store.db import session_scope, upgrade
from dianxiaoer.store.importing import names
from dianxiaoer.store.importing.common import (
    ImportFailed,
    ImportSummary,
    canonical_header,
)
from dianxiaoer.store.importing.fields import FULL_WIDTH, Problems, Row, shown, whole_number
from dianxiaoer.store.importing.sources import read_table
from dianxiaoer.store.models import Product, Stock

FLAGS = ("customized", "perishable", "digital", "periodical")
REQUIRED = ("id", "name", "category", "price", "stock")
#: Accepted header spellings (lower case) -> column. Chinese headers are what a shop's
#: own export usually has.
ALIASES: dict[str, str] = {
    **{column: column for column in (*REQUIRED, "attributes", "size_chart", *FLAGS)},
    **{column: column for column in ("monthly_sales", "launched_at", "synonyms")},
    "商品编号": "id",
    "编号": "id",
    "商品id": "id",
    "名称": "name",
    "商品名称": "name",
    "类目": "category",
    "分类": "category",
    "价格": "price",
    "售价": "price",
    "库存": "stock",
    "属性": "attributes",
    "尺码表": "size_chart",
    "定制": "customized",
    "生鲜": "perishable",
    "易腐": "perishable",
    "数字商品": "digital",
    "虚拟": "digital",
    "期刊": "periodical",
    "月销量": "monthly_sales",
    "上架时间": "launched_at",
    "别名": "synonyms",
}
#: Size chart measures: body height (cm), weight (kg), foot length (mm), as the pre-sale
#: size advice reads them (dianxiaoer.shop.orders.advise_size).
MEASURES = {
    "height": "height",
    "身高": "height",
    "weight": "weight",
    "体重": "weight",
    "foot_length_mm": "foot_length_mm",
    "脚长": "foot_length_mm",
}
#: Column widths of the products and stock tables (models.py).
ID_LIMIT, NAME_LIMIT, CATEGORY_LIMIT, SIZE_LIMIT = 16, 64, 32, 16
ATTRIBUTE_LIMIT = 64
_ITEM_SPLIT = re.compile(r"[;\n]")
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[-~～]\s*(\d+(?:\.\d+)?)\s*$")


@dataclass
class ProductRow:
    """One valid row of the file, with the columns the file has (`present`)."""

    line: int
    id: str
    name: str
    category: str
    price: Decimal
    stock: dict[str, int]
    present: frozenset[str]
    attributes: dict[str, Any] = field(default_factory=dict)
    size_chart: dict[str, Any] | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    monthly_sales: int = 0
    launched_at: datetime | None = None
    synonyms: list[str] = field(default_factory=list)
    #: False when the row has problems: still checked against the store, never written
    ok: bool = True


def read_catalogue(path: Path) -> tuple[list[ProductRow], Problems]:
    """The rows of a .csv/.xlsx product list (bad ones too) and every problem found in it."""
    problems = Problems(path.name)
    header, records = read_table(path, problems)
    columns = canonical_header(header, ALIASES, REQUIRED, problems)
    if problems.errors:
        return [], problems  # with a wrong header every row would only repeat it
    present = frozenset(c for c in columns if c)
    rows: list[ProductRow] = []
    first_line: dict[str, int] = {}  # id -> line
    for line, cells in records:
        values = {column: cells.get(name) for name, column in zip(header, columns, strict=True)}
        row = Row(problems, line, values)
        if row.raw(""):
            row.fail("a cell under a column without a name")
        product = _product(row, present)
        # names and synonyms repeated across rows are found by check_names
        if product.id in first_line:
            row.fail(f"id {shown(product.id)} is also on line {first_line[product.id]}")
        elif product.id:
            first_line[product.id] = line
        product.ok = row.ok
        rows.append(product)
    if not records:
        problems.add(0, "no products below the header row")
    return rows, problems


def _product(row: Row, present: frozenset[str]) -> ProductRow:
    # fields are read in the documented column order, so a row's problems are too
    identifier = row.text("id", ID_LIMIT, required=True)
    if identifier and not re.fullmatch(r"[\w.-]+", identifier):
        row.fail(f"id {shown(identifier)} may hold only letters, digits, '-', '_' and '.'")
    name = row.text("name", NAME_LIMIT, required=True)
    category = row.text("category", CATEGORY_LIMIT, required=True)
    price = row.money("price") or Decimal("0")
    stock = _stock(row)
    attributes = _attributes(row)
    chart = _size_chart(row)
    if chart and stock and set(chart) - set(stock):
        extra = ", ".join(sorted(set(chart) - set(stock)))
        row.fail(f"size_chart has sizes that stock does not list: {extra}")
    return ProductRow(
        line=row.line,
        id=identifier,
        name=name,
        category=category,
        price=price,
        stock=stock,
        present=present,
        attributes=attributes,
        size_chart=chart,
        flags={flag: row.boolean(flag) for flag in FLAGS},
        monthly_sales=row.integer("monthly_sales"),
        launched_at=row.moment("launched_at"),
        synonyms=_synonyms(row),
    )


def _items(text: str) -> list[str]:
    """`a; b; c` (or one per line) as its non-blank items."""
    return [item.strip() for item in _ITEM_SPLIT.split(text.translate(FULL_WIDTH)) if item.strip()]


def _json_object(row: Row, key: str, value: Any) -> dict[str, Any] | None:
    """A cell written as a JSON object (`{...}`), or None with the problem recorded."""
    try:
        data = json.loads(str(value))
    except json.JSONDecodeError as error:
        row.fail(f"{key} looks like JSON but is not valid ({error.msg})")
        return None
    if not isinstance(data, dict):
        row.fail(f"{key} must be a JSON object")
        return None
    return data


def _pairs(row: Row, key: str, example: str) -> list[tuple[str, str]] | None:
    """A `name: value; name: value` cell as pairs; None (problem recorded) when malformed."""
    value = row.raw(key)
    if value is None:
        return []
    pairs = []
    for item in _items(str(value)):
        name, colon, rest = item.partition(":")
        if not colon or not name.strip() or not rest.strip():
            row.fail(f"{key} item {shown(item)} is not name:value (e.g. {example})")
            return None
        pairs.append((name.strip(), rest.strip()))
    return pairs


def _stock(row: Row) -> dict[str, int]:
    """`S:12; M:0; L:8`, or one number for a one-size item (size "")."""
    value = row.raw("stock")
    if value is None:
        row.missing("stock")
        return {}
    if (number := whole_number(value)) is not None:
        if number < 0:
            row.fail(f"stock {shown(value)} is negative")
        return {"": number}
    if str(value).lstrip().startswith("{"):
        data = _json_object(row, "stock", value)
        raw_pairs = [(str(k), v) for k, v in (data or {}).items()]
    else:
        raw_pairs = list(_pairs(row, "stock", "S:12; M:0; L:8") or [])
    stock: dict[str, int] = {}
    for size, quantity in raw_pairs:
        count = whole_number(quantity)
        if len(size) > SIZE_LIMIT:
            row.fail(f"stock size {shown(size)} is longer than {SIZE_LIMIT} characters")
        elif size in stock:
            row.fail(f"stock lists size {shown(size)} twice")
        elif count is None or count < 0:
            row.fail(f"stock of size {shown(size)} {shown(quantity)} is not a whole number ≥ 0")
        else:
            stock[size] = count
    return stock


def _attributes(row: Row) -> dict[str, Any]:
    """`材质:雪纺; 颜色:碎花蓝` (or a JSON object of texts and numbers)."""
    value = row.raw("attributes")
    if value is not None and str(value).lstrip().startswith("{"):
        data = _json_object(row, "attributes", value) or {}
        for name, item in data.items():
            if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                row.fail(f"attributes {shown(name)} must be text or a number")
        return data
    attributes: dict[str, Any] = {}
    for name, text in _pairs(row, "attributes", "材质:雪纺; 颜色:碎花蓝") or []:
        if name in attributes:
            row.fail(f"attributes lists {shown(name)} twice")
        elif len(name) > ATTRIBUTE_LIMIT or len(text) > ATTRIBUTE_LIMIT * 4:
            row.fail(f"attributes {shown(name)} is too long")
        attributes[name] = text
    return attributes


def _size_chart(row: Row) -> dict[str, Any] | None:
    """`S: height=150-158, weight=40-48; M: …` or `38: foot_length_mm=235-240; …` (or JSON).

    Each size maps each measure to [min, max], as demo_shop.yml's charts do.
    """
    value = row.raw("size_chart")
    if value is None:
        return None
    if str(value).lstrip().startswith("{"):
        data = _json_object(row, "size_chart", value)
        if data is None:
            return None
        spec = {str(size): measures for size, measures in data.items()}
    else:
        pairs = _pairs(row, "size_chart", "S: height=150-158, weight=40-48; M: …")
        if pairs is None:
            return None
        spec = {}
        for size, text in pairs:
            measures: dict[str, str] = {}
            for part in text.split(","):
                measure, equals, bounds = part.partition("=")
                if not equals:
                    row.fail(
                        f"size_chart {shown(size)}: {shown(part.strip())} is not measure=min-max"
                    )
                    return None
                measures[measure.strip()] = bounds
            spec[size] = measures
    return _checked_chart(row, spec)


def _checked_chart(row: Row, spec: dict[str, Any]) -> dict[str, Any] | None:
    chart: dict[str, Any] = {}
    kinds: set[frozenset[str]] = set()
    for size, measures in spec.items():
        if not isinstance(measures, dict) or not measures:
            row.fail(f"size_chart {shown(size)} names no measure")
            return None
        ranges = {}
        for name, bounds in measures.items():
            measure = MEASURES.get(str(name).strip().lower())
            if measure is None:
                known = ", ".join(sorted(set(MEASURES)))
                row.fail(f"size_chart {shown(size)}: unknown measure {shown(name)} ({known})")
                return None
            low_high = _bounds(bounds)
            if low_high is None:
                row.fail(f"size_chart {shown(size)} {measure} {shown(bounds)} is not min-max")
                return None
            ranges[measure] = low_high
        chart[size] = ranges
        kinds.add(frozenset(ranges))
    if len(kinds) > 1:
        # size advice compares every size on the same measures
        row.fail("size_chart sizes must all give the same measures")
        return None
    return chart


def _bounds(value: Any) -> list[float | int] | None:
    if isinstance(value, list) and len(value) == 2:
        low, high = (_number(v) for v in value)
    else:
        match = _RANGE.match(str(value))
        if not match:
            return None
        low, high = _number(match[1]), _number(match[2])
    if low is None or high is None or low > high:
        return None
    return [low, high]


def _number(value: Any) -> float | int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def _synonyms(row: Row) -> list[str]:
    value = row.raw("synonyms")
    if value is None:
        return []
    found: list[str] = []
    for item in _items(str(value).replace(",", ";").replace("、", ";")):
        if len(item) > NAME_LIMIT:
            row.fail(f"synonyms {shown(item)} is longer than {NAME_LIMIT} characters")
        elif item not in found:
            found.append(item)
    return found


def check_names(
    rows: list[ProductRow],
    session: Session,
    entries: dict[str, dict[str, Any]],
    problems: Problems,
) -> list[str]:
    """Names and synonyms that would be ambiguous; returns notes on curated overlaps.

    A product name must not belong to another product of the store (the assistant finds
    products by name); a synonym must not be another imported product's name or synonym.
    A form the curated vocabulary already has is only noted: it wins at load. Rows with
    problems are checked too (so every problem is listed at once), as far as they have
    a name.
    """
    imported = {row.id for row in rows}
    stored = {
        form_key(name): pid
        for pid, name in session.execute(select(Product.id, Product.name))
        if pid not in imported
    }
    owners: dict[str, str] = {}
    for entry in entries.values():
        if entry.get("id") in imported:
            continue  # replaced by this import
        for form in (entry["name"], *entry["synonyms"]):
            owners[form_key(form)] = f"product {entry.get('id') or entry['name']}"
    for row in rows:
        if not row.name:
            continue
        if (other := stored.get(form_key(row.name))) is not None:
            problems.add(row.line, f"name {shown(row.name)} is already product {other}'s")
        mine = f"product {row.id or '?'} (line {row.line})"
        for form in (row.name, *row.synonyms):
            owner = owners.setdefault(form_key(form), mine)
            if owner != mine:
                problems.add(row.line, f"{shown(form)} is already a name of {owner}")
    curated = names.curated_forms()
    return [
        f"{shown(form)} ({row.id}) is in the curated vocabulary as {curated[form_key(form)]}, "
        "which it keeps meaning"
        for row in rows
        for form in (row.name, *row.synonyms)
        if row.name
        and form_key(form) in curated
        and curated[form_key(form)] != f"product {row.name}"
    ]


def _apply(product: Product, row: ProductRow, now: datetime) -> None:
    """Copy the row onto `product`: required columns always, optional ones when present."""
    product.name, product.category, product.price = row.name, row.category, row.price
    optional: dict[str, Any] = {
        "attributes": row.attributes,
        "size_chart": row.size_chart,
        "monthly_sales": row.monthly_sales,
        "launched_at": row.launched_at,
        **row.flags,
    }
    for column, value in optional.items():
        if column in row.present:
            setattr(product, column, value)
    if product.launched_at is None and "launched_at" not in row.present:
        product.launched_at = now  # a new product without a date is new today
    # stock rows are updated in place: (product, size) is unique, and a flush inserts
    # new rows before it deletes old ones
    by_size = {s.size: s for s in product.stock}
    for size, quantity in row.stock.items():
        if size in by_size:
            by_size[size].quantity = quantity
        else:
            product.stock.append(Stock(size=size, quantity=quantity))
    for size, stock in by_size.items():
        if size not in row.stock:
            product.stock.remove(stock)


def import_catalogue(
    path: Path,
    url: str | None = None,
    vocabulary_file: Path | None = None,
    now: datetime | None = None,
) -> ImportSummary:
    """Check the whole file, then insert or update its products in one transaction.

    Raises ImportFailed (with every problem) without writing anything; on success the
    imported vocabulary file (`vocabulary_file`, default SHOP_IMPORTED_VOCABULARY_FILE)
    has the products' names and synonyms.
    """
    vocabulary_file = vocabulary_file or get_settings().imported_vocabulary_file
    now = now or datetime.now(SHANGHAI)
    rows, problems = read_catalogue(path)
    try:
        entries = names.read_entries(vocabulary_file)
    except (OSError, UnicodeDecodeError, ValueError) as error:  # yaml errors are ValueErrors
        raise ImportFailed(
            [f"{vocabulary_file}: cannot read the imported vocabulary ({error}); fix or delete it"]
        ) from error
    upgrade(url)
    summary = ImportSummary()
    with session_scope(url) as session:
        summary.notes = check_names(rows, session, entries, problems)
        if problems.errors:
            session.rollback()
            raise ImportFailed(problems.in_order())
        stored = {
            p.id: p
            for p in session.scalars(
                select(Product)
                .where(Product.id.in_([row.id for row in rows]))
                .options(selectinload(Product.stock))
            )
        }
        for row in rows:
            product = stored.get(row.id)
            if product is None:
                product = Product(id=row.id, stock=[])  # column defaults fill the rest
                session.add(product)
            _apply(product, row, now)
            summary.count("products", inserted=row.id not in stored)
        session.flush()
    # after the commit: the names are only promised once the products exist
    for row in rows:
        entries[row.id] = {"id": row.id, "name": row.name, "synonyms": row.synonyms}
    names.write_entries(vocabulary_file, entries)
    summary.notes.append(
        f"{len(rows)} product names written to {vocabulary_file}; the entity extractor "
        "learns them at the next start (make run regenerates the jieba dictionary)"
    )
    return summary
