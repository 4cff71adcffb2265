"""The machine's PostgreSQL for tests that run against it (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import os

PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def postgres_available() -> bool:
    """Whether the admin database answers within two seconds."""
    try:
        import psycopg2

        psycopg2.connect(PG_ADMIN_URL.replace("+psycopg2", ""), connect_timeout=2).close()
        return True
    except Exception:
        return False
