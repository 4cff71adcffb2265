"""The role-play engine's facts (computed from demo_shop.yml and the policy) agree with
the demo orders the shop store builds (needs SQLAlchemy 2: the action server's env)."""

from datetime import datetime

from dianxiaoer.coaching import roleplay
from dianxiaoer.core.service_hours import SHANGHAI

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)


def test_facts_match_the_demo_orders_of_the_shop_store():
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from dianxiaoer.store.demo import load_demo_data
    from dianxiaoer.store.models import Base, Order

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        load_demo_data(session, NOW)
        orders = {o.id: o for o in session.scalars(select(Order))}
        delay = roleplay.start("delay:quiet:venting", NOW)["facts"]
        o2 = orders[delay["order_id"]]
        shipment = o2.shipments[0]
        last = max(shipment.events, key=lambda e: e.time)
        assert (shipment.courier, shipment.tracking_number) == (
            delay["courier"],
            delay["tracking"],
        )
        assert last.location == delay["last_scan_location"]
        assert last.time == datetime.fromisoformat(delay["last_scan_at"])
        assert o2.items[0].product.name == delay["product"]
        back = roleplay.start("return:quiet:venting", NOW)["facts"]
        o4 = orders[back["order_id"]]
        assert o4.signed_at == datetime.fromisoformat(back["signed_at"])
        assert o4.items[0].size == back["size"]
        pay = roleplay.start("payment:quiet:venting", NOW)["facts"]
        o7 = orders[pay["order_id"]]
        assert o7.auto_cancel_at == datetime.fromisoformat(pay["auto_cancel_at"])
        assert (o7.payments[0].method, o7.payments[0].failure_reason) == (
            pay["method"],
            pay["reason"],
        )
