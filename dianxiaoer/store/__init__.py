"""The shop store: customers, products, orders, payments, shipments, returns, tickets.

SQLAlchemy 2.x models (`models`), engine/session handling from DATABASE_URL or the
embedded SQLite file (`db`), Alembic migrations (`migrations/`), demo data (`demo`) and
the queries the journeys need (`repository`). Used by the action server, never by the
Rasa server, which keeps its own SQLAlchemy 1.4 for the tracker store.
"""
