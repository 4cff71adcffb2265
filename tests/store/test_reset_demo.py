"""`make demo-data` (python -m dianxiaoer.store reset-demo) deletes only demo data.

A store whose customers, products and orders are the demo ones — with whatever demo
conversations left (tickets, coupons, ratings, handoffs, chat trainees' quizzes) — is
reloaded; anything else is refused with exit code 2 and a list of what is not demo data,
unless --force, which prints per table what it deletes. DXE_MODE=production refuses too.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dianxiaoer.store.__main__ import main
from dianxiaoer.store.db import session_scope
from dianxiaoer.store.demo import DEMO_ORDERS, demo_set, survey
from dianxiaoer.store.models import (
    Coupon,
    Customer,
    Handoff,
    Order,
    Product,
    QuizAttempt,
    Rating,
    Ticket,
)
from tests.store.conftest import NOW


@pytest.fixture
def store(store_url, monkeypatch):
    """The demo store of `store_url` as the store `python -m dianxiaoer.store` works on."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.delenv("DXE_MODE", raising=False)
    return store_url


def counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {t.table: t.rows for t in survey(session)}


def add(url: str, *rows) -> None:
    with session_scope(url) as session:
        session.add_all(rows)


def demo_conversation_rows():
    """What `make run` conversations with the demo customers leave in the store."""
    return [
        Ticket(
            number="TS20261125000001",
            kind="complaint",
            customer_id="C1001",
            order_id="202611010002",
            conversation_id="web-1",
            created_at=NOW,
            updated_at=NOW,
        ),
        # a complaint before verification names no one
        Ticket(number="RG20261125000002", kind="handoff", created_at=NOW, updated_at=NOW),
        Coupon(
            code="QY20261125000003",
            customer_id="C1001",
            amount=Decimal("10"),
            min_spend=Decimal("0"),
            expires_at=NOW + timedelta(days=30),
            created_at=NOW,
        ),
        Rating(conversation_id="web-1", customer_id="C1001", score=2, created_at=NOW),
        Handoff(
            conversation_id="web-2",
            skill_group="presale",
            reason="asked",
            tier=2,
            queued_at=NOW,
        ),
        QuizAttempt(
            trainee_id="chat-web-3",
            question_id="q1",
            kind="choice",
            level=1,
            score=1.0,
            correct=True,
            created_at=NOW,
        ),
        QuizAttempt(
            trainee_id="xiaoli",
            question_id="q1",
            kind="choice",
            level=1,
            score=0.0,
            correct=False,
            created_at=NOW,
        ),
    ]


def test_the_demo_set_is_what_the_demo_loads(store):
    demo = demo_set()
    with session_scope(store) as session:
        orders = {o.id: o.customer_id for o in session.scalars(select(Order))}
        customers = {c.id: (c.name, c.phone) for c in session.scalars(select(Customer))}
        products = {p.id: p.name for p in session.scalars(select(Product))}
    assert orders == DEMO_ORDERS == demo.orders
    assert customers == demo.customers
    assert products == demo.products
    assert all(t.not_demo == 0 for t in survey_of(store))


def survey_of(url: str):
    with session_scope(url) as session:
        return survey(session)


def test_a_demo_store_used_by_demo_conversations_is_reloaded(store, capsys):
    add(store, *demo_conversation_rows())
    assert counts(store)["tickets"] == 2
    assert main(["reset-demo"]) == 0
    out = capsys.readouterr().out
    assert "deleting the demo data" in out
    assert "tickets" in out and "quiz_attempts" in out
    after = counts(store)
    # conversation rows gone, demo data back with times relative to now
    for table in ("tickets", "coupons", "ratings", "handoffs", "quiz_attempts"):
        assert table not in after
    assert after["orders"] == len(DEMO_ORDERS) and after["customers"] == 3


def test_a_store_with_other_customers_and_orders_is_refused(store, capsys):
    add(
        store,
        Customer(id="C2001", name="赵六", phone="13612345678", created_at=NOW),
        Order(id="202501010001", customer_id="C2001", status="paid", created_at=NOW, total=1),
        Ticket(
            number="TS20261125000009",
            kind="complaint",
            customer_id="C2001",
            created_at=NOW,
            updated_at=NOW,
        ),
    )
    before = counts(store)
    assert main(["reset-demo"]) == 2
    err = capsys.readouterr().err
    assert "reset-demo refused" in err and "2 rows that are not demo data" in err
    assert "customers" in err and "C2001" in err
    assert "orders" in err and "202501010001" in err
    assert "FORCE=1" in err and "--force" in err
    # neither the name nor the phone of a customer is printed
    assert "赵六" not in err and "13612345678" not in err
    assert counts(store) == before  # nothing deleted


@pytest.mark.parametrize(
    "change",
    [
        "phone",  # a demo id with someone else's phone is someone else
        "order owner",
        "product",
        "trainee",
    ],
)
def test_what_is_not_demo_data(store, change):
    with session_scope(store) as session:
        if change == "phone":
            session.get(Customer, "C1003").phone = "13500000000"
        elif change == "order owner":
            session.get(Order, "202611010008").customer_id = "C1003"
        elif change == "product":
            session.add(Product(id="P999", name="新品", category="数码", price=Decimal("1")))
        else:
            session.add(
                QuizAttempt(
                    trainee_id="zhangsan",
                    question_id="q",
                    kind="choice",
                    level=1,
                    score=1.0,
                    correct=True,
                    created_at=NOW,
                )
            )
    assert sum(t.not_demo for t in survey_of(store)) == 1
    assert main(["reset-demo"]) == 2


def test_force_prints_per_table_what_it_deletes(store, capsys):
    add(
        store,
        Customer(id="C2001", name="赵六", phone="13612345678", created_at=NOW),
        *demo_conversation_rows(),
    )
    assert main(["reset-demo", "--force"]) == 0
    out = capsys.readouterr().out
    assert "reset-demo --force: deleting every row" in out and "(1 not demo data)" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("    ")}
    assert "4 rows, 1 not demo data (e.g. C2001)" in lines["customers"]
    assert "2 rows" in lines["tickets"] and "8 rows" in lines["orders"]
    assert "1 row" in lines["coupons"]
    with session_scope(store) as session:
        assert session.get(Customer, "C2001") is None
        assert session.scalar(select(func.count()).select_from(Order)) == len(DEMO_ORDERS)


def test_production_refuses_unless_forced(store, capsys, monkeypatch):
    monkeypatch.setenv("DXE_MODE", "production")
    add(store, *demo_conversation_rows())
    before = counts(store)
    assert main(["reset-demo"]) == 2
    assert "DXE_MODE=production" in capsys.readouterr().err
    assert counts(store) == before
    assert main(["reset-demo", "--force"]) == 0
    assert "tickets" not in counts(store)


def test_an_unknown_mode_is_an_error(store, capsys, monkeypatch):
    monkeypatch.setenv("DXE_MODE", "staging")
    assert main(["reset-demo"]) == 2
    assert "DXE_MODE must be" in capsys.readouterr().err


def test_a_new_store_is_created_and_loaded(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DXE_MODE", raising=False)
    assert survey_of(url) == []
    assert main(["reset-demo"]) == 0
    assert counts(url)["orders"] == len(DEMO_ORDERS)
    assert "demo data loaded" in capsys.readouterr().out


def test_prepare_loads_demo_data_only_in_demo_mode(tmp_path, monkeypatch, capsys):
    """A production store is migrated but never gets the README's demo customers."""
    production = f"sqlite:///{tmp_path / 'production.db'}"
    monkeypatch.setenv("DATABASE_URL", production)
    monkeypatch.setenv("DXE_MODE", "production")
    assert main(["prepare"]) == 0
    assert "no demo data loaded" in capsys.readouterr().out
    assert counts(production).get("orders", 0) == 0
    demo = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", demo)
    monkeypatch.setenv("DXE_MODE", "demo")
    assert main(["prepare"]) == 0
    assert counts(demo)["orders"] == len(DEMO_ORDERS)
