"""The agent console through the real Rasa server with conversation ids a customer chose.

Ids with "/", "..", ":", "@", spaces and Chinese are queued, claimed, answered and handed
back on the console's API; the tracker store (read directly, not through Rasa's API) shows
where every event went: into the customer's own conversation or — for an id Rasa's API
cannot address — nowhere, with the customer left in the queue and unpaused. The victim of
the traversal id `x/../<victim>` never gets anything. Which ids Rasa can address depends on
whether its app decodes quoted ids (`dianxiaoer.core.conversation_ids.install`); the test asks
Rasa and then expects exactly that.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import uuid

import requests

from dianxiaoer.core.conversation_ids import path_segment
from tests.conftest import ACTIONS_BIN, E2E_RASA_API_TOKEN, ROOT

WANG = {"X-Agent-Token": "demo-wangfang"}  # complaint group
LIU = {"X-Agent-Token": "demo-liuyang"}  # not the complaint group


def enqueue(servers, ids: list[str], group: str = "complaint") -> None:
    """Queue conversations in the servers' shop store (the action server's environment)."""
    code = (
        "import json, sys\n"
        "from datetime import datetime, timezone\n"
        "from dianxiaoer.store import handoffs\n"
        "for cid in json.loads(sys.argv[1]):\n"
        f"    handoffs.enqueue(cid, {group!r}, 'asked', 3, datetime.now(timezone.utc))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SHOP_DB": str(servers.shop_db)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [str(ACTIONS_BIN / "python"), "-c", code, json.dumps(ids)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def stored(servers, sender: str | None = None) -> list[tuple[str, str, dict]]:
    """(sender, event type, data) rows of the tracker store, of one sender or all."""
    query = "SELECT sender_id, type_name, data FROM events"
    args: tuple = ()
    if sender is not None:
        query, args = query + " WHERE sender_id = ?", (sender,)
    with sqlite3.connect(servers.tracker_db) as db:
        rows = db.execute(query + " ORDER BY id", args).fetchall()
    return [(s, t, json.loads(d)) for s, t, d in rows]


def rasa_decodes_ids(servers) -> bool:
    """Does this Rasa server percent-decode the id in /conversations/<id>/…?"""
    probe = f"probe {uuid.uuid4().hex[:6]}"
    r = requests.get(
        f"{servers.rasa_url}/conversations/{path_segment(probe)}/tracker",
        params={"token": E2E_RASA_API_TOKEN},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()["sender_id"] == probe


def post(servers, path: str, body: dict, headers=WANG) -> int:
    return requests.post(servers.web_url + path, json=body, headers=headers, timeout=60).status_code


def test_console_serves_each_conversation_id_in_its_own_conversation_or_nowhere(servers):
    tag = uuid.uuid4().hex[:6]
    victim = f"victim-{tag}"
    assert servers.send(victim, "你好")
    victim_before = stored(servers, victim)
    ids = [
        f"x/../{victim}",  # path traversal
        "..",
        f"user:{tag}@shop",
        f"客户 张三 {tag}",
        f"a b/c:{tag}@d",
    ]
    for cid in ids:  # a real conversation first, where the channel takes the id
        r = requests.post(
            f"{servers.rasa_url}/webhooks/rest/webhook",
            json={"sender": cid, "message": "你好"},
            timeout=60,
        )
        assert r.status_code in (200, 400), r.status_code
    enqueue(servers, ids)
    decodes = rasa_decodes_ids(servers)
    print(f"Rasa decodes quoted conversation ids: {decodes}")

    for n, cid in enumerate(ids):
        marker = f"人工回复-{tag}-{n}"
        addressable = decodes or path_segment(cid) == cid or cid in (".", "..")
        # another group's agent cannot even see it
        assert post(servers, "/api/agent/claim", {"conversation_id": cid}, LIU) == 404
        codes = [
            post(servers, "/api/agent/claim", {"conversation_id": cid}),
            post(servers, "/api/agent/reply", {"conversation_id": cid, "text": marker}),
            post(servers, "/api/agent/handback", {"conversation_id": cid, "summary": "ok"}),
        ]
        with_marker = {s for s, t, d in stored(servers) if t == "bot" and d.get("text") == marker}
        own = [t for _, t, _ in stored(servers, cid)]
        if addressable:
            assert codes == [200, 200, 200], (cid, codes)
            assert with_marker == {cid}, (cid, with_marker)
            assert "pause" in own and "resume" in own, (cid, own)
        else:
            assert codes == [409, 409, 409], (cid, codes)
            assert with_marker == set(), (cid, with_marker)
            assert "pause" not in own, (cid, own)  # the bot still answers the customer
            queue = requests.get(f"{servers.web_url}/api/agent/queue", headers=WANG, timeout=30)
            assert cid in {w["conversation_id"] for w in queue.json()["waiting"]}

    # the victim's conversation is as it was: no pause, no agent, no message
    assert stored(servers, victim) == victim_before
    assert ids[2] in {s for s, _, _ in stored(servers)}  # ":" and "@" always get through
