"""The admin page's API on a real web app process (`python -m webapp`): admins only, 400
with reasons for what the loaders refuse, override files and audit rows written, and the
change seen by another process (this one, as the action server would) without a restart.

The web app and this process share temporary override, audit and fingerprint files
(environment variables): the repository's files are never touched.
"""

from __future__ import annotations

import os

import pytest
import requests
import yaml

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import CONFIG_DIR, PROJECT_ROOT
from dianxiaoer.knowledge.base import get_knowledge_base
from dianxiaoer.store.db import upgrade
from tests.conftest import stack

ADMIN = {"X-Agent-Token": "demo-zhaomin"}
REPO_FILES = (PROJECT_ROOT / "knowledge" / "faq_shop.yml", CONFIG_DIR / "policy_shop.yml")
GIFT_WRAP = {
    "topic": "包装",
    "question": "可以礼品包装吗",
    "paraphrases": [
        "能包装成礼物吗",
        "有礼盒吗",
        "送人可以包装一下吗",
        "礼品包装收费吗",
        "帮忙包成礼物",
    ],
    "answer": "可以的亲，付款后{ship_hours}小时内发货。",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The temporary files, named in this process's environment too."""
    tmp = tmp_path_factory.mktemp("admin-web")
    named = {
        "SHOP_FAQ_OVERRIDES": tmp / "faq_shop.yml",
        "SHOP_POLICY_OVERRIDES": tmp / "policy_shop.yml",
        "ADMIN_AUDIT_LOG": tmp / "audit.jsonl",
        "FAQ_TRAINED_FINGERPRINT": tmp / "trained.faq.json",
    }
    previous = {name: os.environ.get(name) for name in [*named, "SHOP_POLICY_FILE"]}
    os.environ.update({name: str(path) for name, path in named.items()})
    os.environ.pop("SHOP_POLICY_FILE", None)
    yield tmp, named
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def web(files):
    """Base URL of a web app on a free port, using the temporary files."""
    tmp, _ = files
    stamps = {p: p.exists() and p.stat().st_mtime_ns for p in REPO_FILES}
    upgrade(f"sqlite:///{tmp / 'shop.db'}")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "SHOP_DB": str(tmp / "shop.db")}
    env.pop("DATABASE_URL", None)
    with stack.web_app(env, tmp) as base:
        yield base
    assert {p: p.exists() and p.stat().st_mtime_ns for p in REPO_FILES} == stamps


def call(web, method, path, token="demo-zhaomin", **kwargs):
    headers = {"X-Agent-Token": token} if token else {}
    return requests.request(method, f"{web}{path}", headers=headers, timeout=30, **kwargs)


def test_the_page_is_served(web):
    r = requests.get(f"{web}/admin", timeout=10)
    assert r.status_code == 200 and "charset=utf-8" in r.headers["content-type"]
    for text in ("/static/common.js", "/static/admin.js", "店铺管理后台", "修改记录"):
        assert text in r.text
    assert requests.get(f"{web}/static/admin.css", timeout=10).ok


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/admin/me", None),
        ("GET", "/api/admin/faq", None),
        ("POST", "/api/admin/faq", GIFT_WRAP),
        ("PUT", "/api/admin/faq/faq.ship_time", GIFT_WRAP),
        ("PUT", "/api/admin/faq/faq.ship_time/status", {"disabled": True}),
        ("POST", "/api/admin/faq/faq.ship_time/revert", None),
        ("POST", "/api/admin/preview", {"answer": "{ship_hours}"}),
        ("GET", "/api/admin/policy", None),
        ("PUT", "/api/admin/policy", {"key": "shipping.ship_within_hours", "value": 1}),
        ("GET", "/api/admin/audit", None),
    ],
)
def test_only_admins_get_in(web, files, method, path, body):
    _, named = files
    assert call(web, method, path, token=None, json=body).status_code == 401
    assert call(web, method, path, token="wrong-token", json=body).status_code == 401
    for agent in ("demo-wangfang", "demo-chenjing"):  # an agent and a supervisor
        r = call(web, method, path, token=agent, json=body)
        assert r.status_code == 403 and r.json()["error"] == "admins only"
    assert not named["SHOP_FAQ_OVERRIDES"].exists()
    assert not named["SHOP_POLICY_OVERRIDES"].exists()


def test_me(web):
    assert call(web, "GET", "/api/admin/me").json() == {"id": "zhaomin", "name": "赵敏"}


def test_faq_list_and_search(web):
    data = call(web, "GET", "/api/admin/faq").json()
    assert data["total"] == len(data["entries"]) >= 40
    first = data["entries"][0]
    assert set(first) >= {"id", "question", "paraphrases", "answer", "origin", "needs_training"}
    assert "发货物流" in data["topics"] and data["placeholders"]["ship_hours"]
    found = call(web, "GET", "/api/admin/faq", params={"q": "退貨"}).json()  # traditional
    assert 0 < len(found["entries"]) < data["total"]
    assert all(e["id"] for e in found["entries"])


def test_faq_add_edit_disable_and_audit(web, files):
    _, named = files
    refused = call(web, "POST", "/api/admin/faq", json={**GIFT_WRAP, "answer": "{nope}"})
    assert refused.status_code == 400
    assert refused.json()["reasons"] == ["未知的占位符 {nope}"]
    refused = call(web, "POST", "/api/admin/faq", json={**GIFT_WRAP, "paraphrases": ["礼盒"]})
    assert refused.status_code == 400 and "至少要 5 个" in refused.json()["error"]
    assert call(web, "POST", "/api/admin/faq", json=[1, 2]).status_code == 400
    assert not named["SHOP_FAQ_OVERRIDES"].exists()

    kb_before = get_knowledge_base()
    added = call(web, "POST", "/api/admin/faq", json=GIFT_WRAP)
    assert added.status_code == 201, added.text
    entry = added.json()["entry"]
    assert entry["id"] == "faq.shop_1" and entry["origin"] == "新增"
    assert entry["needs_training"] is True  # new questions: the intent model must learn them
    stored = yaml.safe_load(named["SHOP_FAQ_OVERRIDES"].read_text(encoding="utf-8"))
    assert stored["entries"][0]["question"] == "可以礼品包装吗"
    # another process (here: this one, as the action server) sees it at its next call
    kb = get_knowledge_base()
    assert kb is not kb_before and kb.search("帮忙包成礼物")[0].entry.id == "faq.shop_1"
    duplicate = call(web, "POST", "/api/admin/faq", json={**GIFT_WRAP, "id": "faq.shop_1"})
    assert duplicate.status_code == 400 and "已存在" in duplicate.json()["error"]

    new_answer = "可以的亲，礼品包装免费，付款后{ship_hours}小时内发货。"
    edited = call(web, "PUT", "/api/admin/faq/faq.shop_1", json={**entry, "answer": new_answer})
    assert edited.status_code == 200 and edited.json()["changed"] is True
    assert get_knowledge_base().by_id["faq.shop_1"].answer == new_answer
    unknown = call(web, "PUT", "/api/admin/faq/faq.nothing_here", json=GIFT_WRAP)
    assert unknown.status_code == 400 and "没有编号" in unknown.json()["error"]

    hidden = call(web, "PUT", "/api/admin/faq/faq.shop_1/status", json={"disabled": True})
    assert hidden.status_code == 200 and hidden.json()["entry"]["disabled"] is True
    assert "faq.shop_1" not in get_knowledge_base().by_id
    assert call(web, "PUT", "/api/admin/faq/faq.shop_1/status", json={}).status_code == 400
    missing = call(web, "PUT", "/api/admin/faq/faq.nope/status", json={"disabled": True})
    assert missing.status_code == 404
    reverted = call(web, "POST", "/api/admin/faq/faq.shop_1/revert")
    assert reverted.status_code == 400 and "停用" in reverted.json()["error"]

    rows = call(web, "GET", "/api/admin/audit").json()["entries"]
    assert [(r["target"], r["action"]) for r in rows[:3]] == [
        ("faq.shop_1", "停用"),
        ("faq.shop_1", "修改"),
        ("faq.shop_1", "新增"),
    ]
    change = rows[1]
    assert change["agent"] == "zhaomin" and change["name"] == "赵敏" and change["time"]
    assert change["before"]["answer"] == GIFT_WRAP["answer"]
    assert change["after"]["answer"] == new_answer
    assert rows[2]["before"] is None
    assert len(call(web, "GET", "/api/admin/audit", params={"limit": 1}).json()["entries"]) == 1
    assert call(web, "GET", "/api/admin/audit", params={"limit": "x"}).status_code == 400


def test_preview(web):
    r = call(web, "POST", "/api/admin/preview", json={"answer": "退货后{refund_days}天内退款"})
    assert r.status_code == 200
    days = get_policy().reply_values()["refund_days"]
    assert r.json()["simplified"] == f"退货后{days}天内退款"
    assert r.json()["traditional"] == f"退貨後{days}天內退款"
    bad = call(web, "POST", "/api/admin/preview", json={"answer": "{nope}"}).json()
    assert bad["simplified"] is None and bad["errors"] == ["未知的占位符 {nope}"]
    assert call(web, "POST", "/api/admin/preview", json={}).status_code == 400


def test_policy_values_are_validated_written_and_live(web, files):
    _, named = files
    fields = call(web, "GET", "/api/admin/policy").json()["fields"]
    hours = next(f for f in fields if f["key"] == "shipping.ship_within_hours")
    assert hours["kind"] == "int" and hours["changed"] is False
    for body, reason in [
        ({"key": "shipping.ship_within_hours", "value": "abc"}, "请填数字"),
        ({"key": "returns.no_reason_days", "value": 10}, "no_reason_hours"),
        ({"key": "security.max_body_bytes", "value": -1}, "security.max_body_bytes"),
        ({"key": "nothing.here", "value": 1}, "没有这个政策项"),
        ({"key": "shipping.ship_within_hours"}, "需要 key 和 value"),
    ]:
        r = call(web, "PUT", "/api/admin/policy", json=body)
        assert r.status_code == 400 and reason in r.json()["error"], r.text
    assert not named["SHOP_POLICY_OVERRIDES"].exists()

    shipped = hours["shipped"]
    r = call(
        web, "PUT", "/api/admin/policy", json={"key": "shipping.ship_within_hours", "value": "24"}
    )
    assert r.status_code == 200 and r.json()["field"]["value"] == 24
    assert r.json()["field"]["changed"] is True
    assert get_policy()["shipping.ship_within_hours"] == 24  # another process, no restart
    # the web app's own answers use it too (it reloads as well)
    shown = call(web, "POST", "/api/admin/preview", json={"answer": "{ship_hours}小时"}).json()
    assert shown["simplified"] == "24小时"
    row = call(web, "GET", "/api/admin/audit").json()["entries"][0]
    assert (row["kind"], row["target"], row["before"], row["after"]) == (
        "policy",
        "shipping.ship_within_hours",
        shipped,
        24,
    )
    back = call(
        web,
        "PUT",
        "/api/admin/policy",
        json={"key": "shipping.ship_within_hours", "value": shipped},
    )
    assert back.status_code == 200 and back.json()["field"]["changed"] is False
    assert get_policy()["shipping.ship_within_hours"] == shipped
