"""The web app's defences on real `python -m webapp` processes (no Rasa needed).

- pages: no inline script, security headers, a CSP that lets the widget reach Rasa;
- a request body limit;
- the demo customer login exists in demo mode only;
- agents see, read and claim only their skill groups (a supervisor sees all);
- conversation ids reach Rasa's API quoted, and nothing is sent when Rasa would answer for
  another id — checked against a stand-in Rasa API that either does not percent-decode
  the id (as Rasa 3.6 does) or does;
- login attempt limits (agent tokens, trainee login) with 429 + Retry-After.

The end-to-end version through the real Rasa server is tests/e2e/test_console_security.py.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests

from dianxiaoer.core import roster
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.store import handoffs
from tests.conftest import production_secrets, stack

STATIC = PROJECT_ROOT / "webapp" / "static"
WANG = {"X-Agent-Token": "demo-wangfang"}  # aftersale, complaint, insale
LIU = {"X-Agent-Token": "demo-liuyang"}  # presale, insale, aftersale
CHEN = {"X-Agent-Token": "demo-chenjing"}  # supervisor (complaint, aftersale)
#: ids a customer's channel may choose: path traversal, dot segments, reserved characters,
#: spaces and Chinese
TRICKY_IDS = ["x/../victim-1", "..", "user:42@shop", "a b", "客户张三", "50%off", "q?x=1#f"]


# --- a stand-in for Rasa's HTTP API ---------------------------------------------------
class FakeRasa:
    """Answers /conversations/<id>/{tracker,tracker/events,trigger_intent} like Rasa 3.6.

    `decodes=False` is Rasa 3.6 itself: the id is the raw path text between
    /conversations/ and the suffix (`<conversation_id:path>`, not percent-decoded).
    """

    SUFFIXES = ("/tracker/events", "/tracker", "/trigger_intent")

    def __init__(self) -> None:
        self.decodes = False
        self.events: dict[str, list[dict]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, method: str) -> None:
                path = urlsplit(self.path).path
                raw = path.removeprefix("/conversations/")
                suffix = next((s for s in self.SUFFIXES if raw.endswith(s)), None)
                if not path.startswith("/conversations/") or suffix is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                cid = raw[: -len(suffix)]
                cid = unquote(cid) if fake.decodes else cid
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                log = fake.events.setdefault(cid, [])
                if method == "POST" and suffix == "/tracker/events":
                    log.extend(body)
                state = {"sender_id": cid, "events": list(log), "slots": {}}
                data = {"tracker": state} if suffix == "/trigger_intent" else state
                out = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

        Handler.SUFFIXES = self.SUFFIXES
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self, cid: str) -> list[str]:
        return [e.get("text") for e in self.events.get(cid, []) if e.get("event") == "bot"]

    def kinds(self, cid: str) -> list[str]:
        return [e["event"] for e in self.events.get(cid, [])]


def policy_with(tmp: Path, **security: int) -> Path:
    """config/policy.yml with other `security` values."""
    text = (PROJECT_ROOT / "config" / "policy.yml").read_text(encoding="utf-8")
    for key, value in security.items():
        text, n = re.subn(rf"(\n  {key}: )\d+", rf"\g<1>{value}", text)
        assert n == 1, key
    path = tmp / "policy.yml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def start_web(tmp: Path, extra: dict[str, str]) -> Iterator[str]:
    """A web app on a free port with its own migrated shop store (demo data)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "SHOP_DB": str(tmp / "shop.db"),
        "SHOP_TOKEN_SECRET": "web-security-test-secret-0123456789",
        "RASA_PORT": "5999",
        "RASA_URL": "http://127.0.0.1:9",  # no Rasa unless a test brings one
        **extra,
    }
    env.pop("DATABASE_URL", None)
    env.pop("DXE_MODE", None)
    env.update({k: v for k, v in extra.items() if k == "DXE_MODE"})
    stack.prepare_store(env)
    with stack.web_app(env, tmp) as base:
        yield base


@pytest.fixture(scope="module")
def fake_rasa():
    rasa = FakeRasa()
    yield rasa
    rasa.server.shutdown()


@pytest.fixture(scope="module")
def web(tmp_path_factory, fake_rasa):
    """(base URL, shop store URL) of a demo-mode web app talking to the stand-in Rasa."""
    tmp = tmp_path_factory.mktemp("web-security")
    with start_web(tmp, {"RASA_URL": fake_rasa.url}) as base:
        yield base, f"sqlite:///{tmp / 'shop.db'}"


# --- pages and headers ----------------------------------------------------------------
def test_pages_have_no_inline_script_or_handlers():
    for page in STATIC.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
        assert scripts, page.name
        for attrs, body in scripts:
            assert "src=" in attrs and not body.strip(), (page.name, attrs)
        assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I), page.name
        assert "javascript:" not in html.lower(), page.name


def test_security_headers_and_csp(web):
    base, _ = web
    rasa = requests.get(f"{base}/api/config", timeout=10).json()["rasa"]
    assert rasa == "http://127.0.0.1:5999"
    for path in (
        "/",
        "/orders",
        "/console",
        "/training",
        "/analytics",
        "/api/config",
        "/static/shop.js",
        "/api/agent/me",
        "/nope",
    ):
        r = requests.get(base + path, timeout=10)
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
        assert r.headers["Referrer-Policy"] == "no-referrer", path
        assert r.headers["X-Frame-Options"] == "DENY", path
        csp = dict(
            (d.split()[0], d.split()[1:]) for d in r.headers["Content-Security-Policy"].split("; ")
        )
        assert csp["script-src"] == ["'self'"], path  # no inline script, no eval
        assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
        # the widget's socket.io: polling over http, then a websocket
        assert {"'self'", "http://127.0.0.1:5999", "ws://127.0.0.1:5999"} == set(csp["connect-src"])
        assert "blob:" in csp["img-src"] and "'self'" in csp["style-src"]


def test_request_bodies_are_limited(web):
    base, _ = web
    big = b'{"trainee": "xiaoli", "token": "' + b"x" * (1024 * 1024) + b'"}'
    r = requests.post(
        f"{base}/api/training/login",
        data=big,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413
    small = requests.post(f"{base}/api/login", json={"customer": "C1001"}, timeout=10)
    assert small.status_code == 200  # the limit leaves ordinary requests alone


# --- demo login: demo mode only -----------------------------------------------------------
def test_demo_login_only_in_demo_mode(web, tmp_path):
    base, _ = web
    assert requests.get(f"{base}/api/config", timeout=10).json()["demo"] is True
    r = requests.post(f"{base}/api/login", json={"customer": "C1001"}, timeout=10)
    assert r.status_code == 200 and r.json()["token"]
    assert (
        requests.post(f"{base}/api/login", json={"customer": "C9"}, timeout=10).status_code == 400
    )

    # production: every secret set (the start-up check refuses demo values), no demo login
    secrets = production_secrets()
    with start_web(tmp_path, {"DXE_MODE": "production", **secrets}) as prod:
        assert requests.get(f"{prod}/api/config", timeout=10).json()["demo"] is False
        assert (
            requests.post(f"{prod}/api/login", json={"customer": "C1001"}, timeout=10).status_code
            == 404
        )
        assert requests.get(f"{prod}/api/login", timeout=10).status_code in (404, 405)
        # the page still loads; its script hides the demo buttons (tests/browser)
        assert requests.get(prod, timeout=10).ok
        # the demo agent token is no login in production, the configured one is
        assert requests.get(f"{prod}/api/agent/me", headers=WANG, timeout=10).status_code == 401
        real = {"X-Agent-Token": secrets["AGENT_TOKEN_WANGFANG"]}
        assert requests.get(f"{prod}/api/agent/me", headers=real, timeout=10).ok


# --- skill groups -----------------------------------------------------------------------
def queue_ids(base: str, headers: dict) -> set[str]:
    r = requests.get(f"{base}/api/agent/queue", headers=headers, timeout=10)
    assert r.ok, r.text
    return {w["conversation_id"] for w in r.json()["waiting"]}


def enqueue(shop: str, cid: str, group: str) -> None:
    handoffs.enqueue(cid, group, "asked", 3, datetime.now(timezone.utc), url=shop)


def test_agents_see_read_and_claim_only_their_skill_groups(web, fake_rasa):
    base, shop = web
    enqueue(shop, "sg-complaint", "complaint")
    enqueue(shop, "sg-presale", "presale")
    # who is who
    assert requests.get(f"{base}/api/agent/me", headers=CHEN, timeout=10).json()["supervisor"]
    assert not requests.get(f"{base}/api/agent/me", headers=LIU, timeout=10).json()["supervisor"]

    liu, wang, chen = queue_ids(base, LIU), queue_ids(base, WANG), queue_ids(base, CHEN)
    assert "sg-presale" in liu and "sg-complaint" not in liu
    assert "sg-complaint" in wang and "sg-presale" not in wang
    assert {"sg-presale", "sg-complaint"} <= chen  # the supervisor sees every group

    def read(headers, cid, how="query"):
        if how == "query":
            return requests.get(
                f"{base}/api/agent/conversation", params={"id": cid}, headers=headers, timeout=10
            )
        return requests.get(f"{base}/api/agent/conversation/{cid}", headers=headers, timeout=10)

    # another group's conversation is "not in your queue" (404), read or claimed
    for how in ("query", "path"):
        assert read(LIU, "sg-complaint", how).status_code == 404
        assert read(WANG, "sg-presale", how).status_code == 404
    assert read(LIU, "no-such-conversation").status_code == 404
    r = requests.post(
        f"{base}/api/agent/claim", json={"conversation_id": "sg-complaint"}, headers=LIU, timeout=10
    )
    assert r.status_code == 404 and fake_rasa.kinds("sg-complaint") == []
    # one's own group: read and claim
    assert read(WANG, "sg-complaint").status_code == 200
    r = requests.post(
        f"{base}/api/agent/claim",
        json={"conversation_id": "sg-complaint"},
        headers=WANG,
        timeout=10,
    )
    assert r.status_code == 200 and fake_rasa.kinds("sg-complaint")[0] == "pause"
    # a colleague of the group may still read it; another group may not; the lead may
    assert read(CHEN, "sg-complaint").status_code == 200
    assert read(LIU, "sg-complaint").status_code == 404
    # only the claiming agent replies
    r = requests.post(
        f"{base}/api/agent/reply",
        json={"conversation_id": "sg-complaint", "text": "x"},
        headers=CHEN,
        timeout=10,
    )
    assert r.status_code == 409

    # "typing" signals: only the claiming agent sends them; the widget's status shows them
    # with the agent's name and no personal data
    def typing(headers, cid):
        return requests.post(
            f"{base}/api/agent/typing", json={"conversation_id": cid}, headers=headers, timeout=10
        ).status_code

    def status(cid):
        return requests.get(
            f"{base}/api/handoff/status", params={"conversation": cid}, timeout=10
        ).json()

    assert status("sg-complaint")["typing"] is False
    assert typing(CHEN, "sg-complaint") == 409 and typing(LIU, "sg-presale") == 409
    assert requests.post(f"{base}/api/agent/typing", json={}, timeout=10).status_code == 401
    assert typing(WANG, "sg-complaint") == 200
    assert status("sg-complaint") == {"status": "active", "agent": "王芳", "typing": True}
    # the supervisor reads and claims outside their own skills
    assert read(CHEN, "sg-presale").status_code == 200
    r = requests.post(
        f"{base}/api/agent/claim", json={"conversation_id": "sg-presale"}, headers=CHEN, timeout=10
    )
    assert r.status_code == 200
    # "next" (ACD) never hands an agent another group's conversation
    enqueue(shop, "sg-complaint-2", "complaint")
    r = requests.post(f"{base}/api/agent/claim", json={}, headers=LIU, timeout=10)
    assert r.status_code == 404 or r.json()["conversation_id"] != "sg-complaint-2"


# --- conversation ids -------------------------------------------------------------------
def serve(base: str, cid: str, marker: str) -> list[int]:
    """Claim, reply and hand back `cid` as 王芳 (complaint group); the status codes."""
    codes = []
    for path, body in (
        ("/api/agent/claim", {"conversation_id": cid}),
        ("/api/agent/reply", {"conversation_id": cid, "text": marker}),
        ("/api/agent/handback", {"conversation_id": cid, "summary": "ok"}),
    ):
        codes.append(requests.post(base + path, json=body, headers=WANG, timeout=10).status_code)
    return codes


@pytest.mark.parametrize("decodes", [False, True], ids=["rasa-3.6-raw-ids", "decoding-rasa"])
def test_conversation_ids_reach_their_own_conversation_or_nothing(web, fake_rasa, decodes):
    base, shop = web
    fake_rasa.decodes = decodes
    fake_rasa.events.clear()
    raw_safe = {"..", "user:42@shop"}  # Rasa 3.6 can address these as they are
    try:
        for n, cid in enumerate(TRICKY_IDS):
            marker = f"agent-reply-{decodes}-{n}"
            enqueue(shop, cid, "complaint")
            read = requests.get(
                f"{base}/api/agent/conversation", params={"id": cid}, headers=WANG, timeout=10
            )
            codes = serve(base, cid, marker)
            everywhere = [k for k in fake_rasa.events if marker in fake_rasa.texts(k)]
            if decodes or cid in raw_safe:
                assert read.status_code == 200 and read.json()["conversation_id"] == cid
                assert codes == [200, 200, 200], (cid, codes)
                assert everywhere == [cid], (cid, everywhere)
                assert fake_rasa.kinds(cid)[0] == "pause" and "resume" in fake_rasa.kinds(cid)
            else:
                # Rasa would answer for another id: refused before anything is sent, the
                # customer stays in the queue, unpaused, and no conversation got anything
                assert read.status_code == 409, (cid, read.status_code)
                assert codes == [409, 409, 409], (cid, codes)
                assert everywhere == []
                assert cid in queue_ids(base, WANG)
            # events went to the conversations served so far and nowhere else
            written = {k for k, events in fake_rasa.events.items() if events}
            assert written <= set(TRICKY_IDS), written
    finally:
        fake_rasa.decodes = False
    assert "victim-1" not in fake_rasa.events  # the traversal never named the victim


def test_old_path_routes_decode_the_id(web, fake_rasa):
    base, shop = web
    cid = "path:route@id"
    enqueue(shop, cid, "complaint")
    encoded = requests.utils.quote(cid, safe="")
    r = requests.get(f"{base}/api/agent/conversation/{encoded}", headers=WANG, timeout=10)
    assert r.status_code == 200 and r.json()["conversation_id"] == cid


# --- tokens and login limits ------------------------------------------------------------
def test_agent_tokens_are_compared_in_constant_time(monkeypatch):
    people = [{"id": f"p{i}", "token": f"token-{i}" * (i + 1)} for i in range(5)]
    calls = []
    real = roster.hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(roster.hmac, "compare_digest", spy)
    for token, expected in [("token-0", "p0"), ("token-4" * 5, "p4"), ("nope", None), ("", None)]:
        calls.clear()
        found = roster.find_by_token(people, token)
        assert (found or {}).get("id") == expected
        if token:
            # every person compared, always as two equal-length digests
            assert calls == [(32, 32)] * len(people)


@pytest.fixture()
def limited_web(tmp_path):
    """A fresh web app (fresh counters): 6 wrong secrets per IP, 3 per trainee, 3 s lock."""
    policy = policy_with(
        tmp_path,
        login_failures_per_ip=6,
        login_failures_per_account=3,
        login_window_seconds=60,
        login_lockout_seconds=3,
    )
    with start_web(tmp_path, {"SHOP_POLICY_FILE": str(policy)}) as base:
        yield base


def test_agent_token_guessing_is_locked_per_ip(limited_web):
    base = limited_web
    me = f"{base}/api/agent/me"
    # the same stale token again and again is one guess (a console left open polls)
    for _ in range(20):
        assert requests.get(me, headers={"X-Agent-Token": "stale"}, timeout=10).status_code == 401
    # a forged X-Forwarded-For is no new address (no proxy is configured)
    codes = [
        requests.get(
            me,
            headers={"X-Agent-Token": f"guess-{i}", "X-Forwarded-For": f"10.0.0.{i}"},
            timeout=10,
        ).status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]  # the 6th different wrong token locks
    locked = requests.get(me, headers=WANG, timeout=10)  # the right token too
    assert locked.status_code == 429 and 1 <= int(locked.headers["Retry-After"]) <= 3
    # every way in with an agent token is the same login: analytics, trainer view
    for path in ("/api/analytics/metrics", "/api/training/trainees", "/api/agent/queue"):
        assert requests.get(base + path, headers=CHEN, timeout=10).status_code == 429
    # pages without a token are not locked
    assert requests.get(f"{base}/console", timeout=10).ok
    time.sleep(3.2)
    assert requests.get(me, headers=WANG, timeout=10).ok


def test_trainee_login_is_locked_per_account(limited_web):
    base = limited_web

    def login(who, token):
        return requests.post(
            f"{base}/api/training/login", json={"trainee": who, "token": token}, timeout=10
        )

    # name and id are one account: 3 different wrong tokens lock 小李 (xiaoli)
    assert [login(w, t).status_code for w, t in (("xiaoli", "a"), ("小李", "b"))] == [401, 401]
    r = login("xiaoli", "c")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert login("小李", "demo-xiaoli").status_code == 429  # the right token waits too
    # another trainee from the same address is not locked (3 < 6 per IP)
    assert login("xiaozhao", "demo-xiaozhao").status_code == 200
    time.sleep(3.2)
    assert login("xiaoli", "demo-xiaoli").status_code == 200
