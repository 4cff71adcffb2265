"""The same conversations in PostgreSQL (tracker store and shop store) give the same figures
as in SQLite: the analytics are plain SQLAlchemy Core over Rasa's `events` table."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from dianxiaoer.analytics.metrics import compute_metrics
from dianxiaoer.analytics.sources import Filters, tracker_engine
from dianxiaoer.store.db import get_engine
from tests.analytics.conftest import build
from tests.postgres import PG_ADMIN_URL, postgres_available

pytestmark = pytest.mark.skipif(
    not postgres_available(), reason="PostgreSQL at 127.0.0.1:5432 not reachable"
)


@pytest.fixture
def pg_urls():
    import psycopg2

    admin = psycopg2.connect(PG_ADMIN_URL.replace("+psycopg2", ""))
    admin.autocommit = True
    names = [f"dxe_analytics_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for name in names:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
    urls = [PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}" for name in names]
    yield urls
    tracker_engine(urls[0]).dispose()
    get_engine(urls[1]).dispose()
    for name in names:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def without_time(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k != "generated_at"}


def test_postgresql_stores_give_the_same_figures(stores, pg_urls, tmp_path):
    pg = build(tmp_path, tracker=pg_urls[0], shop=pg_urls[1])
    for filters in (Filters(), Filters(since=date(2026, 11, 3)), Filters(channel="socketio")):
        on_sqlite = compute_metrics(filters, stores.tracker, stores.shop, low_score=2)
        on_postgres = compute_metrics(filters, pg.tracker, pg.shop, low_score=2)
        assert without_time(on_postgres) == without_time(on_sqlite)
    assert compute_metrics(Filters(), pg.tracker, pg.shop, 2)["totals"]["conversations"] == 10
