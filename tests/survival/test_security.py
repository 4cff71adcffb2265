"""Security: tokens and logins hold, order data never reaches an unverified sender, output
is never markup.

Runs against the session servers (demo shop: C1001 张伟 phone …1234, C1002 李娜 …5678).
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid

import pytest
import requests

from dianxiaoer.core.settings import PROJECT_ROOT
from tests.conftest import E2E_RASA_API_TOKEN, E2E_TOKEN_SECRET

pytestmark = pytest.mark.e2e

ZHANG_ORDER, ZHANG_TAIL = "202611010001", "1234"  # C1001
LI_ORDER, LI_TAIL = "202611010003", "5678"  # C1002


def sender() -> str:
    return f"sec-{uuid.uuid4().hex[:10]}"


# --- the Rasa HTTP API ------------------------------------------------------------------
RASA_API = [
    ("GET", "/status"),
    ("GET", "/domain"),
    ("GET", "/conversations/{c}/tracker"),
    ("POST", "/conversations/{c}/tracker/events"),
    ("POST", "/conversations/{c}/messages"),
    ("POST", "/conversations/{c}/trigger_intent"),
    ("POST", "/model/parse"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
]


@pytest.mark.parametrize("method, path", RASA_API)
def test_rasa_http_api_requires_its_token(servers, method, path):
    url = servers.rasa_url + path.format(c=sender())
    body = {"text": "你好", "sender": "user", "event": "slot", "name": "verified_customer"}
    attempts = [
        {},
        {"params": {"token": ""}},
        {"params": {"token": "wrong-token"}},
        {"params": {"token": E2E_RASA_API_TOKEN + "x"}},
        # the token is a query parameter; as a bearer header it is an (invalid) JWT
        {"headers": {"Authorization": f"Bearer {E2E_RASA_API_TOKEN}"}},
    ]
    for attempt in attempts:
        r = requests.request(method, url, json=body, timeout=30, **attempt)
        assert r.status_code in (401, 403), (method, path, attempt, r.status_code)


def test_rasa_http_api_answers_with_the_token(servers):
    params = {"token": E2E_RASA_API_TOKEN}
    assert requests.get(f"{servers.rasa_url}/status", params=params, timeout=30).ok
    r = requests.post(
        f"{servers.rasa_url}/model/parse", params=params, json={"text": "你好"}, timeout=30
    )
    assert r.ok and r.json()["intent"]["name"]


# --- the web app: agent console, trainee page, analytics, "my orders" --------------------
WEB_API = [
    ("GET", "/api/agent/me"),
    ("GET", "/api/agent/queue"),
    ("GET", "/api/agent/canned"),
    ("GET", "/api/agent/conversation/x"),
    ("POST", "/api/agent/claim"),
    ("POST", "/api/agent/conversation/x/reply"),
    ("POST", "/api/agent/conversation/x/handback"),
    ("GET", "/api/training/progress"),
    ("GET", "/api/training/plot.png"),
    ("GET", "/api/training/trainees"),
    ("GET", "/api/analytics/metrics"),
    ("GET", "/api/analytics/charts"),
    ("GET", "/api/analytics/charts/intents"),
    ("GET", "/api/orders"),
]


def foreign_credentials(monkeypatch) -> list[dict]:
    """Headers that are no login for the guarded APIs: none, wrong, expired, forged."""
    monkeypatch.setenv("SHOP_TOKEN_SECRET", E2E_TOKEN_SECRET)
    from dianxiaoer.core.auth import mint_token, mint_trainee_token

    expired = mint_token("C1002", 60, now=time.time() - 3600)
    expired_trainee = mint_trainee_token("xiaoli", 60, now=time.time() - 3600)
    monkeypatch.setenv("SHOP_TOKEN_SECRET", "not-the-servers-secret")
    forged = mint_token("C1002", 600)
    forged_trainee = mint_trainee_token("xiaoli", 600)
    return [
        {},
        {"X-Agent-Token": ""},
        {"X-Agent-Token": "wrong"},
        {"X-Agent-Token": "demo-nobody"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {expired_trainee}"},
        {"Authorization": f"Bearer {forged_trainee}"},
    ]


def test_agent_console_trainee_and_analytics_apis_refuse_without_a_login(servers, monkeypatch):
    for headers in foreign_credentials(monkeypatch):
        for method, path in WEB_API:
            r = requests.request(
                method, servers.web_url + path, headers=headers, json={}, timeout=30
            )
            assert r.status_code in (401, 403), (method, path, headers, r.status_code)
    r = requests.post(
        f"{servers.web_url}/api/training/login",
        json={"trainee": "xiaoli", "token": "demo-xiaozhao"},
        timeout=30,
    )
    assert r.status_code == 401


def test_a_customer_or_trainee_login_opens_no_staff_api(servers, monkeypatch):
    monkeypatch.setenv("SHOP_TOKEN_SECRET", E2E_TOKEN_SECRET)
    from dianxiaoer.core.auth import mint_token, mint_trainee_token

    for token in (mint_token("C1002", 600), mint_trainee_token("xiaoli", 600)):
        for headers in ({"Authorization": f"Bearer {token}"}, {"X-Agent-Token": token}):
            for method, path in WEB_API:
                if path.startswith("/api/training/progress") or path.startswith(
                    "/api/training/plot"
                ):
                    continue  # a trainee sees their own progress (tests/store)
                if path == "/api/orders" and token.startswith("C1002"):
                    continue  # a customer sees their own orders
                r = requests.request(
                    method, servers.web_url + path, headers=headers, json={}, timeout=30
                )
                assert r.status_code in (401, 403), (method, path, headers, r.status_code)
    # the right logins work, so the refusals above are no accident
    assert requests.get(
        f"{servers.web_url}/api/agent/me", headers={"X-Agent-Token": "demo-wangfang"}, timeout=30
    ).ok


# --- order data never reaches an unverified sender -----------------------------------------
def order_secrets(servers, customer: str) -> set[str]:
    """What an order of `customer` would give away: items, tracking, address, phone, name."""
    with sqlite3.connect(servers.shop_db) as db:
        rows = db.execute(
            "SELECT p.name, o.address, c.phone, c.name FROM orders o "
            "JOIN customers c ON c.id = o.customer_id "
            "JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id "
            "WHERE o.customer_id = ?",
            (customer,),
        ).fetchall()
        tracking = db.execute(
            "SELECT s.tracking_number FROM shipments s JOIN orders o ON o.id = s.order_id "
            "WHERE o.customer_id = ?",
            (customer,),
        ).fetchall()
    secrets = {value for row in rows for value in row} | {t[0] for t in tracking}
    secrets |= {phone[-8:] for phone in secrets if re.fullmatch(r"1\d{10}", phone)}
    assert len(secrets) > 5
    return secrets


def conversation(servers, messages: list[str], metadata=None) -> str:
    who = sender()
    replies = []
    for message in messages:
        replies += servers.send(who, message, metadata=metadata)
    return "\n".join(r.get("text") or "" for r in replies)


def assert_nothing_of(servers, customer: str, text: str) -> None:
    leaked = [s for s in order_secrets(servers, customer) if s in text]
    assert not leaked, (leaked, text)


def test_wrong_phone_tails_reveal_nothing_even_the_right_one_after_the_lockout(servers):
    for order, customer, wrong_tails, right_tail in (
        (LI_ORDER, "C1002", ["0000", ZHANG_TAIL, "8765"], LI_TAIL),
        (ZHANG_ORDER, "C1001", [LI_TAIL, "1233", "4321"], ZHANG_TAIL),
    ):
        messages = ["帮我查一下订单"]
        for tail in wrong_tails:
            messages += [order, tail]
        # three failures lock verification for the conversation: the right tail is too late
        messages += [order, right_tail, f"订单{order}到哪了", right_tail]
        text = conversation(servers, messages)
        assert "核对不上" in text, text
        assert_nothing_of(servers, customer, text)


def test_an_order_number_without_any_token_asks_for_verification(servers):
    text = conversation(servers, [f"订单{LI_ORDER}到哪了", f"{LI_ORDER}的快递单号是多少"])
    assert "后四位" in text or "最后4位" in text, text
    assert_nothing_of(servers, "C1002", text)


def bad_tokens(monkeypatch) -> dict[str, object]:
    """Tokens that must not open 李娜's (C1002) orders."""
    monkeypatch.setenv("SHOP_TOKEN_SECRET", E2E_TOKEN_SECRET)
    from dianxiaoer.core.auth import mint_token, mint_trainee_token

    zhang = mint_token("C1001", 600)
    _, zhang_expiry, zhang_signature = zhang.split(".")
    li = mint_token("C1002", 600)
    _, li_expiry, li_signature = li.split(".")
    tokens: dict[str, object] = {
        "another customer's valid token": zhang,
        "expired": mint_token("C1002", 60, now=time.time() - 3600),
        "expired an hour ago, refreshed expiry": f"C1002.{int(time.time()) + 3600}.{li_signature}",
        "customer id swapped": f"C1002.{zhang_expiry}.{zhang_signature}",
        "signature of another token": f"C1002.{li_expiry}.{zhang_signature}",
        "no signature": f"C1002.{li_expiry}.",
        "made up": "C1002.9999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "trainee token": mint_trainee_token("xiaoli", 600),
        "not a string": {"customer": "C1002"},
        "a list": ["C1002", li_expiry, li_signature],
        "customer id only": "C1002",
    }
    monkeypatch.setenv("SHOP_TOKEN_SECRET", "not-the-servers-secret")
    tokens["signed with another secret"] = mint_token("C1002", 600)
    monkeypatch.setenv("SHOP_TOKEN_SECRET", E2E_TOKEN_SECRET)
    return tokens


@pytest.mark.parametrize(
    "name",
    [
        "another customer's valid token",
        "expired",
        "expired an hour ago, refreshed expiry",
        "customer id swapped",
        "signature of another token",
        "no signature",
        "made up",
        "trainee token",
        "not a string",
        "a list",
        "customer id only",
        "signed with another secret",
    ],
)
def test_no_order_data_for_wrong_forged_or_expired_tokens(servers, monkeypatch, name):
    token = bad_tokens(monkeypatch)[name]
    text = conversation(
        servers,
        ["我想查下物流", LI_ORDER, "0000", f"订单{LI_ORDER}到哪了", "运单号多少"],
        metadata={"customer_token": token},
    )
    assert "核对不上" in text, text  # the order was asked for, and refused
    assert_nothing_of(servers, "C1002", text)


def test_a_token_replayed_for_another_customers_order_reveals_nothing(servers, monkeypatch):
    monkeypatch.setenv("SHOP_TOKEN_SECRET", E2E_TOKEN_SECRET)
    from dianxiaoer.core.auth import mint_token

    li = {"customer_token": mint_token("C1002", 600)}
    # 李娜's own conversation: her token opens her order (the token works) ...
    assert "运动鞋" in conversation(servers, ["我想查下物流", LI_ORDER], metadata=li)
    # ... replayed by another sender for 张伟's order, it opens nothing of his
    text = conversation(
        servers,
        ["我想查下物流", ZHANG_ORDER, f"订单{ZHANG_ORDER}到哪了", ZHANG_ORDER],
        metadata=li,
    )
    assert_nothing_of(servers, "C1001", text)


# --- output is text, never markup ------------------------------------------------------------
COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
)


def test_the_widget_and_pages_never_insert_markup():
    """Bot and user text reach the DOM as text only (the browser test shows it live:
    tests/browser/test_widget_and_console.py sends <script> and <img onerror>)."""
    sources = [PROJECT_ROOT / "widget" / "src" / "widget.js"] + sorted(
        p for p in (PROJECT_ROOT / "webapp" / "static").glob("*.js") if p.name != "widget.js"
    )
    assert len(sources) >= 4
    for source in sources:
        code = COMMENTS.sub("", source.read_text(encoding="utf-8"))  # "no innerHTML" notes
        hits = HTML_SINKS.findall(code)
        assert not hits, (source.name, hits)


def test_markup_from_a_customer_comes_back_as_json_data_not_html(servers):
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    r = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender(), "message": payload},
        timeout=30,
    )
    assert r.ok and r.headers["content-type"].startswith("application/json")
    for url in (servers.rasa_url, servers.web_url):
        r = requests.get(f"{url}/{payload}", headers={"Accept": "text/html"}, timeout=30)
        assert r.status_code == 404
        assert "<script>" not in r.text and "<img" not in r.text, (url, r.text[:300])
