"""The console's callback API on a real web app process (`python -m webapp`, SQLite store)
against a stand-in for Rasa's HTTP API that records what the web app appends."""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest
import requests

from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.store import handoffs
from dianxiaoer.store.db import session_scope, upgrade
from dianxiaoer.store.demo import load_demo_data
from tests.conftest import stack
from tests.store.conftest import NOW

WANGFANG = {"X-Agent-Token": "demo-wangfang"}  # 售后, 投诉, 售中
LIUYANG = {"X-Agent-Token": "demo-liuyang"}  # 售前, 售中, 售后
CHENJING = {"X-Agent-Token": "demo-chenjing"}  # supervisor: every group
#: Conversation ids that break unquoted URLs (docs: ids are quoted in every Rasa call).
ODD_ID = "x/../受害者 a:b@c"


class FakeRasa(BaseHTTPRequestHandler):
    """GET .../tracker answers a tracker; POST .../tracker/events is recorded (or fails)."""

    calls: list = []
    fail = False

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sender(self) -> str:
        # a Rasa whose app decodes quoted ids (dianxiaoer.core.conversation_ids.install)
        return unquote(urlsplit(self.path).path.split("/")[2])

    def do_GET(self):  # noqa: N802 (http.server's name)
        FakeRasa.calls.append(("GET", self.path, None))
        events = [
            {"event": "user", "text": "我的耳机怎么还没到", "timestamp": 1},
            {"event": "bot", "text": "已为您登记，上班后人工客服会优先回复您", "timestamp": 2},
        ]
        slots = {"verified_order": "202611010002", "verified_customer": "C1001", "anger": 1}
        self._reply(200, {"sender_id": self._sender(), "events": events, "slots": slots})

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        if FakeRasa.fail:
            self._reply(500, {"error": "down"})
            return
        FakeRasa.calls.append(("POST", self.path, body))
        self._reply(200, {"sender_id": self._sender(), "events": body, "slots": {}})

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """(base URL, shop store URL) of a web app whose Rasa is the stand-in."""
    tmp = tmp_path_factory.mktemp("callbacks-web")
    url = f"sqlite:///{tmp / 'shop.db'}"
    upgrade(url)
    with session_scope(url) as session:
        load_demo_data(session, now=NOW)
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "SHOP_DB": str(tmp / "shop.db"),
        "RASA_URL": f"http://127.0.0.1:{rasa.server_address[1]}",
        "RASA_API_TOKEN": "callbacks-test",
    }
    env.pop("DATABASE_URL", None)
    try:
        with stack.web_app(env, tmp) as base:
            yield base, url
    finally:
        rasa.shutdown()


def _callback(url, conversation, group, minutes_ago, customer=None):
    return handoffs.enqueue(
        conversation,
        group,
        "asked",
        3,
        NOW - timedelta(minutes=minutes_ago),
        customer,
        {"psychology": None, "ticket": None},
        "callback",
        url,
    ).id


def test_callbacks_by_group_oldest_first_detail_and_done(web):
    base, url = web
    late = _callback(url, ODD_ID, "aftersale", 10, "C1001")
    early = _callback(url, "cb-web-early", "complaint", 50, "C1002")
    presale = _callback(url, "cb-web-presale", "presale", 30)

    assert requests.get(f"{base}/api/agent/callbacks", timeout=10).status_code == 401
    mine = requests.get(f"{base}/api/agent/callbacks", headers=WANGFANG, timeout=10).json()
    assert [c["id"] for c in mine["callbacks"]] == [early, late] and mine["count"] == 2
    row = mine["callbacks"][1]
    assert (row["conversation_id"], row["skill_name"], row["customer_name"]) == (
        ODD_ID,
        "售后",
        "张伟",
    )
    assert row["phone"] == "138****1234"  # masked in the list
    theirs = requests.get(f"{base}/api/agent/callbacks", headers=LIUYANG, timeout=10).json()
    assert [c["id"] for c in theirs["callbacks"]] == [presale, late]
    every = requests.get(f"{base}/api/agent/callbacks", headers=CHENJING, timeout=10).json()
    assert [c["id"] for c in every["callbacks"]] == [early, presale, late]

    # another group's request does not exist for this agent
    assert (
        requests.get(f"{base}/api/agent/callbacks/{presale}", headers=WANGFANG, timeout=10)
    ).status_code == 404

    FakeRasa.calls.clear()
    detail = requests.get(f"{base}/api/agent/callbacks/{late}", headers=WANGFANG, timeout=10)
    detail = detail.json()
    # the id is quoted as one path segment (":" and "@" are path characters)
    assert FakeRasa.calls[0][1].split("?")[0] == (
        "/conversations/x%2F..%2F%E5%8F%97%E5%AE%B3%E8%80%85%20a:b@c/tracker"
    )
    assert detail["order"]["id"] == "202611010002"
    assert (detail["phone"], detail["phone_source"]) == ("13800001234", "order")
    assert [m["text"] for m in detail["messages"]][0] == "我的耳机怎么还没到"
    assert detail["status"] == "callback" and detail["contact"] == {}

    # done by a message in the shop's wording, appended to the conversation through Rasa
    FakeRasa.calls.clear()
    done = requests.post(
        f"{base}/api/agent/callbacks/{late}/done",
        headers=WANGFANG,
        json={"how": "message", "note": "已留言"},
        timeout=10,
    )
    assert done.status_code == 200, done.text
    message = done.json()["message"]
    assert "王芳" in message and "{" not in message
    # the conversation is checked first (Rasa names the same id), then the event appended
    assert FakeRasa.calls[0][0] == "GET"
    method, path, body = FakeRasa.calls[1]
    parts = urlsplit(path)
    assert method == "POST" and parts.path.endswith("a:b@c/tracker/events")
    assert "output_channel=socketio" in parts.query
    assert body == [
        {"event": "bot", "text": message, "metadata": {"agent": "王芳", "callback": late}}
    ]
    again = requests.post(
        f"{base}/api/agent/callbacks/{late}/done", headers=WANGFANG, json={"how": "phone"}
    )
    assert again.status_code == 409
    after = requests.get(f"{base}/api/agent/callbacks", headers=WANGFANG, timeout=10).json()
    assert [c["id"] for c in after["callbacks"]] == [early]
    entry = handoffs.callback(late, url)
    assert entry.entry.status == "callback_done" and entry.entry.agent_id == "wangfang"
    assert entry.contact["how"] == "message" and entry.entry.summary == "已留言"

    # the widget finds the message when its customer comes back (and only theirs)
    shown = requests.get(f"{base}/api/callback/messages", params={"conversation": ODD_ID}).json()
    assert [m["text"] for m in shown] == [message]
    other = {"conversation": "cb-web-early"}
    assert requests.get(f"{base}/api/callback/messages", params=other).json() == []

    # by phone: nothing is sent to the conversation
    FakeRasa.calls.clear()
    by_phone = requests.post(
        f"{base}/api/agent/callbacks/{early}/done",
        headers=WANGFANG,
        json={"how": "phone", "note": "电话已联系，客户同意换货"},
        timeout=10,
    )
    assert by_phone.status_code == 200 and by_phone.json()["message"] is None
    assert FakeRasa.calls == []
    assert handoffs.callback(early, url).contact["note"] == "电话已联系，客户同意换货"


def test_free_text_message_bad_requests_and_rasa_down(web):
    base, url = web
    entry = _callback(url, "cb-web-free", "presale", 5)
    bad = requests.post(
        f"{base}/api/agent/callbacks/{entry}/done", headers=LIUYANG, json={"how": "email"}
    )
    assert bad.status_code == 400
    missing = requests.post(
        f"{base}/api/agent/callbacks/999999/done", headers=LIUYANG, json={"how": "phone"}
    )
    assert missing.status_code == 404

    # Rasa unreachable: nothing recorded, the request stays on the list
    FakeRasa.fail = True
    try:
        down = requests.post(
            f"{base}/api/agent/callbacks/{entry}/done",
            headers=LIUYANG,
            json={"how": "message", "text": "您好"},
            timeout=30,
        )
    finally:
        FakeRasa.fail = False
    assert down.status_code == 502
    assert handoffs.callback(entry, url).entry.status == "callback"

    FakeRasa.calls.clear()
    text = "亲，我是刘洋，您问的尺码我们查过了，M码有货。"
    sent = requests.post(
        f"{base}/api/agent/callbacks/{entry}/done",
        headers=LIUYANG,
        json={"how": "message", "text": text, "note": ""},
        timeout=10,
    )
    assert sent.status_code == 200 and sent.json()["message"] == text
    posted = [body for method, _, body in FakeRasa.calls if method == "POST"]
    assert posted[0][0]["metadata"]["agent"] == "刘洋"


def test_can_see_and_mask_phone():
    from webapp.callbacks import can_see, mask_phone

    assert can_see({"skills": ["presale"]}, "presale")
    assert not can_see({"skills": ["presale"]}, "complaint")
    assert can_see({"skills": [], "role": "supervisor"}, "complaint")
    assert mask_phone("13800001234") == "138****1234"
    assert mask_phone("1234") == "****" and mask_phone(None) is None
