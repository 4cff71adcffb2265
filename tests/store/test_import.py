"""Import of a shop's catalogue (CSV/XLSX) and orders (JSON Lines): docs/import.md."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.knowledge.vocabulary import load_vocabulary
from dianxiaoer.store.__main__ import main
from dianxiaoer.store.db import session_scope, upgrade
from dianxiaoer.store.importing.catalogue import import_catalogue
from dianxiaoer.store.importing.common import ImportFailed
from dianxiaoer.store.importing.orders import import_orders
from dianxiaoer.store.models import (
    Customer,
    Order,
    OrderItem,
    Product,
    ReturnRequest,
    Shipment,
    Stock,
    TrackingEvent,
)
from dianxiaoer.store.repository.orders import find_order
from dianxiaoer.store.repository.products import catalogue

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEADER = "id,name,category,price,stock,attributes,size_chart,perishable,synonyms\n"


@pytest.fixture
def url(tmp_path):
    """An empty, migrated SQLite shop store."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    return url


@pytest.fixture(autouse=True)
def shop_order_numbers(use_shop_order_numbers):
    """The example shop's order numbers (QH + 11 digits), as its policy overrides say."""
    return use_shop_order_numbers()


@pytest.fixture
def vocab(tmp_path):
    """Where the imported product names go."""
    return tmp_path / "vocabulary_imported.yml"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(url: str, model) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _import_examples(url: str, vocab: Path) -> None:
    import_catalogue(EXAMPLES / "products.csv", url, vocab)
    import_orders(EXAMPLES / "orders.jsonl", url)


def test_good_csv(url, vocab):
    summary = import_catalogue(EXAMPLES / "products.csv", url, vocab)
    assert (summary.counts["products"].inserted, summary.counts["products"].updated) == (10, 0)
    products = {p.id: p for p in catalogue(url)}
    assert len(products) == 10
    pajamas = products["QH-1002"]
    assert pajamas.name == "儿童纯棉睡衣" and pajamas.price == Decimal("89.00")
    assert pajamas.stock == {"110": 12, "120": 18, "130": 9, "140": 0}
    assert pajamas.size_chart["120"] == {"height": [110, 120], "weight": [19, 23]}
    assert pajamas.attributes == {"材质": "A类纯棉", "颜色": "浅蓝条纹"}
    assert pajamas.launched_at == datetime(2026, 10, 15, tzinfo=SHANGHAI)
    assert products["QH-1003"].size_chart["38-39"] == {"foot_length_mm": [235, 245]}
    assert products["QH-1003"].price == Decimal("39.90")
    assert products["QH-1004"].stock == {"": 40}  # one number: a one-size item
    with session_scope(url) as session:
        flags = {
            p.id: [
                f for f in ("customized", "perishable", "digital", "periodical") if getattr(p, f)
            ]
            for p in session.scalars(select(Product))
        }
    assert flags["QH-1005"] == ["perishable"] and flags["QH-1006"] == ["customized"]
    assert flags["QH-1007"] == ["digital"] and flags["QH-1008"] == ["periodical"]
    assert flags["QH-1001"] == []


def test_good_xlsx_reads_like_the_csv(tmp_path, url, vocab):
    """The sample workbook has Chinese headers, numbers and dates as cells."""
    import_catalogue(EXAMPLES / "products.csv", url, vocab)
    other = f"sqlite:///{tmp_path / 'xlsx.db'}"
    upgrade(other)
    summary = import_catalogue(EXAMPLES / "products.xlsx", other, tmp_path / "x.yml")
    assert summary.counts["products"].inserted == 10
    assert sorted(catalogue(other), key=lambda p: p.id) == sorted(
        catalogue(url), key=lambda p: p.id
    )


def test_good_orders(url, vocab):
    import_catalogue(EXAMPLES / "products.csv", url, vocab)
    summary = import_orders(EXAMPLES / "orders.jsonl", url)
    assert summary.counts["orders"].inserted == 5 and summary.counts["customers"].inserted == 3
    shipped = find_order("QH20261201001", url)
    assert shipped is not None and shipped.status == "shipped"
    assert shipped.customer_phone == "13612345678" and shipped.is_vip
    assert shipped.courier == "韵达" and len(shipped.scans) == 3
    assert shipped.scans[-1].location == "杭州转运中心"
    assert shipped.total == Decimal("437.00") and len(shipped.items) == 2
    signed = find_order("QH20261128002", url)
    assert signed is not None and signed.signed_at == datetime(
        2026, 11, 30, 14, 22, tzinfo=SHANGHAI
    )
    # no price or total in the file: the catalogue price times the quantity
    assert signed.items[0].price == Decimal("89.00") and signed.total == Decimal("178.00")
    assert signed.invoice_requested and signed.last_payment_method == "微信支付"
    unpaid = find_order("QH20261204004", url)
    assert unpaid is not None and unpaid.last_failure_reason == "limit"
    # a customer given by id on a later line is the one an earlier line defined
    paid = find_order("QH20261203003", url)
    assert paid is not None and paid.customer_name == "陈晓雯"


def test_bad_catalogue_reports_every_row_and_writes_nothing(tmp_path, url, vocab):
    path = _write(
        tmp_path,
        "bad.csv",
        HEADER
        + "A1,好杯子,家居,12.50,8,,,,\n"  # fine
        + "A2,,家居,abc,S:x,颜色,,maybe,\n"  # line 3: four problems
        + "A3,第三件,家居,1.234,S:1,,S: height=150-140,,\n"  # line 4
        + "A1,另一件,家居,5,5,,,,好杯子\n"  # line 5: id again, a synonym taken
        + "\n"
        + "A6,第六件,家居,5,,,,,\n",  # line 7: stock missing
    )
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(path, url, vocab)
    errors = failed.value.errors
    assert errors == [
        "bad.csv:3: name is required",
        'bad.csv:3: price "abc" is not a number',
        'bad.csv:3: stock of size "S" "x" is not a whole number ≥ 0',
        'bad.csv:3: attributes item "颜色" is not name:value (e.g. 材质:雪纺; 颜色:碎花蓝)',
        'bad.csv:3: perishable "maybe" is not true or false',
        'bad.csv:4: price "1.234" has more than two decimals',
        'bad.csv:4: size_chart "S" height "150-140" is not min-max',
        'bad.csv:5: id "A1" is also on line 2',
        'bad.csv:5: "好杯子" is already a name of product A1 (line 2)',
        "bad.csv:7: stock is required",
    ]
    assert _count(url, Product) == 0 and _count(url, Stock) == 0
    assert not vocab.exists()


def test_bad_header_is_reported_once(tmp_path, url, vocab):
    path = _write(tmp_path, "header.csv", "id,name,prcie,stock\nB1,杯,家居,3\nB2,碗,家居,4\n")
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(path, url, vocab)
    assert failed.value.errors[0].startswith('header.csv:1: unknown column "prcie"')
    assert 'header.csv:1: required column "category" is missing' in failed.value.errors
    assert 'header.csv:1: required column "price" is missing' in failed.value.errors
    assert all(e.startswith("header.csv:1:") for e in failed.value.errors)


def test_bad_orders_report_every_line_and_write_nothing(tmp_path, url, vocab):
    import_catalogue(EXAMPLES / "products.csv", url, vocab)
    good = (EXAMPLES / "orders.jsonl").read_text(encoding="utf-8").splitlines()[0]
    bad = [
        good,  # line 1: fine, still not written
        json.dumps(
            {
                "id": "X2",
                "customer": "nobody",
                "status": "shipped",
                "created_at": "2026-12-01 10:00",
                "paid_at": "2026-12-01 10:01",
                "shipped_at": "2026-12-02",
                "items": [{"product_id": "NOPE"}, {"product_id": "QH-1004", "quantity": 0}],
            },
            ensure_ascii=False,
        ),
        "{not json",
        json.dumps(
            {
                "id": "X4",
                "customer": {"id": "C9", "name": "赵六", "phone": "12"},
                "status": "unpaid",
                "created_at": "yesterday",
                "items": [{"product_id": "QH-1004"}],
                "payment": {"method": "花呗", "status": "failed", "failure_reason": "tired"},
                "colour": "red",
            },
            ensure_ascii=False,
        ),
    ]
    path = _write(tmp_path, "bad.jsonl", "\n".join(bad) + "\n")
    with pytest.raises(ImportFailed) as failed:
        import_orders(path, url)
    errors = failed.value.errors
    lines = [int(e.split(":")[1]) for e in errors]
    assert lines == sorted(lines) and set(lines) == {2, 3, 4}
    text = "\n".join(errors)
    for expected in [
        'bad.jsonl:2: items[2].quantity "0" is less than 1',
        "bad.jsonl:2: status shipped needs a shipment",
        'bad.jsonl:2: items[1].product_id "NOPE" is not in the catalogue',
        'bad.jsonl:2: customer "nobody" is not in the store',
        "bad.jsonl:3: not valid JSON",
        "bad.jsonl:4: colour is not a field",
        'bad.jsonl:4: customer.phone "12" is not a phone number',
        'bad.jsonl:4: created_at "yesterday" is not a date/time',
        'bad.jsonl:4: payment.failure_reason "tired" is not one of limit',
        """bad.jsonl:2: id "X2" is not of this shop's order-number format (policy \
orders.id_pattern QH\\d{11}, e.g. QH20261201001)""",
    ]:
        assert expected in text, expected
    assert _count(url, Order) == 0 and _count(url, Customer) == 0


def test_reimporting_the_catalogue_updates_by_id(tmp_path, url, vocab):
    import_catalogue(EXAMPLES / "products.csv", url, vocab)
    changed = (EXAMPLES / "products.csv").read_text(encoding="utf-8")
    changed = changed.replace(
        "QH-1002,儿童纯棉睡衣,童装,89.00,110:12; 120:18; 130:9; 140:0,",
        "QH-1002,儿童纯棉睡衣,童装,79.00,110:2; 120:18; 130:9,",
    )
    changed = changed.replace(
        '"110: height=100-110, weight=15-19; 120: height=110-120, weight=19-23; '
        '130: height=120-130, weight=23-28; 140: height=130-140, weight=28-34"',
        "",
    )
    changed += "QH-1011,亚麻抱枕,家居,59.00,30,,,否,否,否,否,0,,\n"
    summary = import_catalogue(_write(tmp_path, "again.csv", changed), url, vocab)
    assert (summary.counts["products"].inserted, summary.counts["products"].updated) == (1, 10)
    products = {p.id: p for p in catalogue(url)}
    assert len(products) == 11 and _count(url, Product) == 11
    assert products["QH-1002"].price == Decimal("79.00")
    assert products["QH-1002"].stock == {"110": 2, "120": 18, "130": 9}  # 140 gone
    assert products["QH-1002"].size_chart is None
    # a file without the optional columns leaves them as they are
    summary = import_catalogue(
        _write(
            tmp_path, "short.csv", "id,name,category,price,stock\nQH-1009,香薰蜡烛,家居,69.00,75\n"
        ),
        url,
        vocab,
    )
    candle = {p.id: p for p in catalogue(url)}["QH-1009"]
    assert candle.price == Decimal("69.00") and candle.stock == {"": 75}
    assert candle.monthly_sales == 1720 and candle.attributes["香型"] == "白茶"


def test_reimporting_orders_replaces_them_and_keeps_returned_items(tmp_path, url, vocab):
    _import_examples(url, vocab)
    first = find_order("QH20261128002", url)
    assert first is not None
    with session_scope(url) as session:
        session.add(
            ReturnRequest(
                rma="RMA-T1",
                order_id="QH20261128002",
                item_id=first.items[0].id,
                reason="尺码不合适",
                refund_amount=Decimal("89.00"),
                created_at=datetime(2026, 12, 1, tzinfo=SHANGHAI),
                updated_at=datetime(2026, 12, 1, tzinfo=SHANGHAI),
            )
        )
    lines = (EXAMPLES / "orders.jsonl").read_text(encoding="utf-8").splitlines()
    orders = [json.loads(line) for line in lines]
    orders[0]["status"] = "signed"
    orders[0]["signed_at"] = "2026-12-04 09:30"
    orders[0]["shipments"][0]["scans"].append(
        {
            "time": "2026-12-04 09:30",
            "location": "杭州市西湖区",
            "description": "已签收，签收人：本人",
        }
    )
    orders[0]["customer"]["phone"] = "13612340000"
    text = "\n".join(json.dumps(o, ensure_ascii=False) for o in orders) + "\n"
    summary = import_orders(_write(tmp_path, "again.jsonl", text), url)
    assert (summary.counts["orders"].inserted, summary.counts["orders"].updated) == (0, 5)
    assert summary.counts["customers"].updated == 3
    assert _count(url, Order) == 5 and _count(url, Customer) == 3
    assert _count(url, Shipment) == 2 and _count(url, TrackingEvent) == 7
    again = find_order("QH20261201001", url)
    assert again is not None and again.status == "signed" and len(again.scans) == 4
    assert again.customer_phone == "13612340000"
    kept = find_order("QH20261128002", url)
    assert kept is not None and kept.items[0].id == first.items[0].id  # the return's item
    # an item with a return request cannot disappear from its order
    orders[1]["items"] = [{"product_id": "QH-1009", "quantity": 1}]
    text = "\n".join(json.dumps(o, ensure_ascii=False) for o in orders) + "\n"
    with pytest.raises(ImportFailed) as failed:
        import_orders(_write(tmp_path, "drop.jsonl", text), url)
    assert failed.value.errors == [
        "drop.jsonl:2: the item QH-1002 120 has the return RMA-T1: it must stay in the "
        "order's items"
    ]
    with session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(OrderItem)) == 6


def test_vocabulary_file_has_the_names_and_is_merged(tmp_path, url, vocab):
    summary = import_catalogue(EXAMPLES / "products.csv", url, vocab)
    entries = yaml.safe_load(vocab.read_text(encoding="utf-8"))["product"]
    assert {"name": "明前龙井", "synonyms": ["龙井", "龙井茶"], "id": "QH-1004"} in entries
    assert len(entries) == 10
    terms = {t.name: t for t in load_vocabulary(imported=vocab)}
    assert terms["明前龙井"].entity == "product" and "龙井茶" in terms["明前龙井"].synonyms
    assert "连衣裙" in terms  # the curated file is still there
    assert any(str(vocab) in note for note in summary.notes)
    # a renamed product replaces its own entry; the synonym of a curated product is noted
    renamed = HEADER + "QH-1004,狮峰龙井,茶叶,298.00,30,,,,龙井; 裙子\n"
    summary = import_catalogue(_write(tmp_path, "renamed.csv", renamed), url, vocab)
    names = [e["name"] for e in yaml.safe_load(vocab.read_text(encoding="utf-8"))["product"]]
    assert "狮峰龙井" in names and "明前龙井" not in names and len(names) == 10
    assert any('"裙子"' in note and "连衣裙" in note for note in summary.notes)
    terms = {t.name: t for t in load_vocabulary(imported=vocab)}
    assert terms["狮峰龙井"].synonyms == ("龙井",)  # 裙子 stays the curated dress's


def test_a_name_of_another_imported_product_is_refused(tmp_path, url, vocab):
    import_catalogue(EXAMPLES / "products.csv", url, vocab)
    clash = HEADER + "QH-2001,白茶香薰,家居,59.00,10,,,,蜡烛\n"
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(_write(tmp_path, "clash.csv", clash), url, vocab)
    assert failed.value.errors == ['clash.csv:2: "蜡烛" is already a name of product QH-1009']


def test_a_broken_imported_vocabulary_does_not_stop_loading(tmp_path):
    broken = _write(
        tmp_path, "broken.yml", "product:\n  - name: 杯\n    synonyms: [碗]\n  - name: 碗\n"
    )
    names = {t.name for t in load_vocabulary(imported=broken)}
    assert "连衣裙" in names and "杯" not in names


def test_the_demo_store_takes_a_shop_catalogue(store_url, tmp_path, vocab):
    """Imported into the demo store, a product named like a demo product is refused."""
    clash = HEADER + "S-1,连衣裙,女装,99.00,S:1,,,,\n"
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(_write(tmp_path, "clash.csv", clash), store_url, vocab)
    assert failed.value.errors == ['clash.csv:2: name "连衣裙" is already product P001\'s']
    summary = import_catalogue(EXAMPLES / "products.csv", store_url, vocab)
    assert summary.counts["products"].inserted == 10
    assert len(catalogue(store_url)) == 34


def test_cli_exit_codes_and_output(tmp_path, url, vocab, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SHOP_IMPORTED_VOCABULARY_FILE", str(vocab))
    bad = _write(tmp_path, "bad.csv", HEADER + "C1,,家居,x,1,,,,\nC2,杯,家居,1,-3,,,,\n")
    assert main(["import-catalogue", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"error: {bad}: 3 problems, nothing imported:" in err
    assert "bad.csv:2: name is required" in err and 'bad.csv:3: stock "-3" is negative' in err
    assert main(["import-catalogue", str(tmp_path / "missing.csv")]) == 1
    assert "nothing imported" in capsys.readouterr().err
    assert main(["import-catalogue", str(EXAMPLES / "products.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "products: 10 inserted, 0 updated" in out and vocab.exists()
    copy = tmp_path / "orders.jsonl"
    shutil.copy(EXAMPLES / "orders.jsonl", copy)
    assert main(["import-orders", str(copy)]) == 0
    assert "orders: 5 inserted, 0 updated" in capsys.readouterr().out
    assert main(["import-orders", str(copy)]) == 0
    assert "orders: 0 inserted, 5 updated" in capsys.readouterr().out


def test_orders_not_of_the_policys_number_format_are_refused(
    tmp_path, url, vocab, shop_order_numbers
):
    """With the shipped policy (12 digits) the example shop's QH numbers are refused, each
    with its line: customers could not name those orders."""
    shop_order_numbers.unlink()
    import_catalogue(EXAMPLES / "products.csv", url, vocab)
    with pytest.raises(ImportFailed) as failed:
        import_orders(EXAMPLES / "orders.jsonl", url)
    refused = [e for e in failed.value.errors if "order-number format" in e]
    assert len(refused) == len((EXAMPLES / "orders.jsonl").read_text().splitlines())
    assert refused[0].startswith('orders.jsonl:1: id "QH20261201001"')
    assert "e.g. 202611010001" in refused[0]
    assert _count(url, Order) == 0
