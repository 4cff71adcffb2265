"""Invoice requests, quality problems and product comparison on a real SQLite demo store."""

import sqlite3

from rasa_sdk.events import FollowupAction

from actions.invoice import ActionRequestInvoice, ValidateInvoiceForm
from actions.presale import ActionAnswerProduct
from tests.actions.test_orders import answer, confirm, shop, slots_of, verified  # noqa: F401
from tests.actions.trackers import make_tracker, run_action, user_event


def invoice_title(domain, text):
    extracted = {"event": "slot", "name": "invoice_title", "value": text}
    tracker = make_tracker(
        [user_event(text, "inform"), extracted],
        slots={"invoice_title": text, "requested_slot": "invoice_title"},
    )
    tracker.active_loop = {"name": "invoice_form"}
    messages, events = run_action(ValidateInvoiceForm(), tracker, domain)
    return messages, slots_of(events)


def test_invoice_is_recorded_once_with_a_ticket(shop, domain):  # noqa: F811
    messages, events = answer(domain, verified("202611010003", "C1002", "invoice"))
    assert [m["response"] for m in messages] == ["utter_invoice_start"]
    assert FollowupAction("invoice_form") in events
    pending = slots_of(events)["pending_action"]
    assert pending == "invoice:202611010003"

    messages, slots = invoice_title(domain, "杭州某某科技有限公司")
    assert messages[0]["response"] == "utter_invoice_need_tax_id" and slots["invoice_title"] is None
    messages, slots = invoice_title(domain, "杭州某某科技有限公司 税号91330100MA2B3C4D5X")
    assert messages == [] and slots["invoice_tax_id"] == "91330100MA2B3C4D5X"

    tracker = make_tracker(
        [user_event("x", "inform")],
        slots={"pending_action": pending, "verified_customer": "C1002", **slots},
    )
    messages, _ = run_action(ActionRequestInvoice(), tracker, domain)
    assert messages[0]["response"] == "utter_invoice_recorded_company"
    ticket = messages[0]["ticket"]
    assert ticket.startswith("FP")
    with sqlite3.connect(shop) as db:
        assert db.execute(
            "SELECT invoice_requested FROM orders WHERE id='202611010003'"
        ).fetchone() == (1,)
        assert db.execute(
            "SELECT kind, order_id FROM tickets WHERE number=?", (ticket,)
        ).fetchone() == ("invoice", "202611010003")
    # asked again: the open ticket is reported, no second request
    messages, events = answer(domain, verified("202611010003", "C1002", "invoice"))
    assert messages[0]["response"] == "utter_invoice_already" and messages[0]["ticket"] == ticket
    assert FollowupAction("invoice_form") not in events


def test_invoice_on_someone_elses_order_records_nothing(shop, domain):  # noqa: F811
    tracker = make_tracker(
        [user_event("个人", "inform")],
        slots={
            "pending_action": "invoice:202611010003",
            "verified_customer": "C1001",
            "invoice_title": "个人",
        },
    )
    messages, _ = run_action(ActionRequestInvoice(), tracker, domain)
    assert messages[0]["response"] == "utter_ok_deny"
    with sqlite3.connect(shop) as db:
        assert db.execute("SELECT count(*) FROM tickets WHERE kind='invoice'").fetchone() == (0,)


def test_unpaid_order_cannot_be_invoiced(shop, domain):  # noqa: F811
    messages, _ = answer(domain, verified("202611010007", "C1001", "invoice"))
    assert messages[0]["response"] == "utter_invoice_not_unpaid"


def test_quality_problem_after_the_seven_days_gets_an_exchange_ticket(shop, domain):  # noqa: F811
    # 羊毛衫 signed 10 days ago: outside the no-reason window, inside the quality period
    messages, events = answer(domain, verified("202611010004", "C1002", "quality"))
    assert [m["response"] for m in messages] == ["utter_quality_exchange"]
    pending = slots_of(events)["pending_action"]
    assert pending.startswith("aftersale:202611010004:") and pending.endswith(":exchange")
    messages, _ = confirm(domain, {"pending_action": pending, "verified_customer": "C1002"})
    assert messages[0]["response"] == "utter_aftersale_ticket_exchange"
    assert messages[0]["ticket"].startswith("SH") and messages[0]["return_address"]
    with sqlite3.connect(shop) as db:
        assert db.execute(
            "SELECT kind, status FROM tickets WHERE number=?", (messages[0]["ticket"],)
        ).fetchone() == ("aftersale", "open")
    messages, _ = answer(domain, verified("202611010004", "C1002", "quality"))
    assert messages[0]["response"] == "utter_aftersale_exists"


def test_quality_problem_before_signing(shop, domain):  # noqa: F811
    messages, events = answer(domain, verified("202611010002", "C1001", "quality"))
    assert [m["response"] for m in messages] == ["utter_quality_not_signed"]
    assert slots_of(events)["pending_action"] is None


def test_two_products_are_compared(shop, domain):  # noqa: F811
    tracker = make_tracker(
        [
            user_event(
                "耳机和充电宝哪个好",
                "ask_product_info",
                entities=[{"entity": "product", "value": "蓝牙耳机", "start": 0, "end": 2}],
            )
        ]
    )
    messages, events = run_action(ActionAnswerProduct(), tracker, domain)
    (m,) = messages
    assert m["response"] == "utter_product_compare"
    assert (m["a"], m["b"]) == ("蓝牙耳机", "充电宝")
    assert m["a_price"] == "259.00" and m["b_price"] == "129.00" and m["cheaper"] == "充电宝"
    assert slots_of(events)["product"] == "充电宝"


def test_known_customer_naming_a_product_needs_no_order_number(shop, domain):  # noqa: F811
    import asyncio

    from actions.orders import ValidateVerifyOrderForm
    from dianxiaoer.core.auth import mint_token

    entities = [{"entity": "product", "value": "蓝牙耳机", "start": 2, "end": 4}]
    event = user_event("我的耳机到哪了", "check_order_status", entities=entities)
    event["parse_data"]["metadata"] = {"customer_token": mint_token("C1001", 600)}
    tracker = make_tracker([event])
    got = asyncio.run(ValidateVerifyOrderForm().extract_order_id(None, tracker, domain))
    assert got == {"order_id": "202611010002"}
    # someone else's token: 李娜 has no earphones, nothing is guessed
    event["parse_data"]["metadata"] = {"customer_token": mint_token("C1002", 600)}
    got = asyncio.run(
        ValidateVerifyOrderForm().extract_order_id(None, make_tracker([event]), domain)
    )
    assert got == {}
