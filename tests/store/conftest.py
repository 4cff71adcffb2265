"""Shop store fixtures: a migrated, demo-loaded database on SQLite and, when reachable,
on the local PostgreSQL (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.store.db import get_engine, session_scope, upgrade
from dianxiaoer.store.demo import load_demo_data
from tests.postgres import PG_ADMIN_URL, postgres_available

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI)


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not postgres_available(), reason="PostgreSQL at 127.0.0.1:5432 not reachable"
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """URL of a fresh store with the schema migrated and the demo data loaded at NOW."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
        cleanup = None
    else:
        import psycopg2

        name = f"dxe_test_{uuid.uuid4().hex[:10]}"
        admin = psycopg2.connect(PG_ADMIN_URL.replace("+psycopg2", ""))
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

        def cleanup():
            get_engine(url).dispose()
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

    upgrade(url)
    with session_scope(url) as session:
        assert load_demo_data(session, now=NOW)
    yield url
    if cleanup:
        cleanup()
