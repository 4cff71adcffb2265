"""The console's bot messages follow the customer's script, like every reply of the NLG.

The agent-joined, hand-back and rating messages are written by the web app
(webapp/replies.py), not by Rasa's NLG: a customer who writes traditional characters gets
them in traditional characters too, buttons included.
"""

from __future__ import annotations

import uuid

import pytest
import requests
import yaml

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import to_traditional
from tests.e2e.test_console_security import WANG, enqueue, post, stored
from webapp.replies import bot_event, suitable_variations, tracker_script

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
TRADITIONAL_QUESTION = "請問這個訂單什麼時候發貨"


def expected(name: str, traditional: bool, **values) -> set[str]:
    """Every variation of a response, filled like the NLG fills it, in one script."""
    merged = {**get_policy().reply_values(), **values}
    texts = {v["text"].format(**merged) for v in RESPONSES[name]}
    return {to_traditional(t) for t in texts} if traditional else texts


def tracker(*texts: str) -> dict:
    """A tracker as Rasa's API returns it, with these customer messages."""
    events = [{"event": "action", "name": "action_listen"}]
    for text in texts:
        events.append({"event": "user", "text": text, "parse_data": {"input": {"original": text}}})
        events.append({"event": "bot", "text": "好的亲"})
    return {"sender_id": "c1", "slots": {}, "events": events}


def test_event_builder_follows_the_customers_script():
    trad = tracker("你好", TRADITIONAL_QUESTION, "ok")  # the newest script that shows
    assert tracker_script(trad) == "traditional"
    joined = bot_event("utter_agent_joined", trad, agent_name="王芳")
    assert joined["event"] == "bot"
    assert joined["text"] in expected("utter_agent_joined", True, agent_name="王芳")
    assert bot_event("utter_handback", trad)["text"] in expected("utter_handback", True)
    rating = bot_event("utter_ask_rating", trad)
    assert rating["text"] in expected("utter_ask_rating", True)
    titles = [b["title"] for b in rating["data"]["buttons"]]
    domain_titles = [b["title"] for b in RESPONSES["utter_ask_rating"][0]["buttons"]]
    assert titles == [to_traditional(t) for t in domain_titles]
    assert "滿意" in " ".join(titles)

    for simplified in (tracker("我的订单到哪了"), tracker(), None):
        assert tracker_script(simplified) == "simplified"
        text = bot_event("utter_handback", simplified)["text"]
        assert text in expected("utter_handback", False)


def test_variations_are_chosen_like_rasas_nlg():
    plain, web = {"text": "a"}, {"text": "b", "channel": "socketio"}
    other = {"text": "c", "channel": "rest"}
    conditional = {"text": "d", "condition": [{"type": "slot", "name": "vip", "value": True}]}
    assert suitable_variations([plain, other], {}) == [plain]
    assert suitable_variations([plain, web, other], {}) == [web]
    assert suitable_variations([plain, conditional], {"vip": True}) == [conditional]
    assert suitable_variations([plain, conditional], {"vip": False}) == [plain]


@pytest.mark.e2e
def test_handoff_messages_reach_a_traditional_customer_in_traditional(servers):
    cid = f"trad-{uuid.uuid4().hex[:8]}"
    servers.send(cid, TRADITIONAL_QUESTION)
    enqueue(servers, [cid])
    name = requests.get(f"{servers.web_url}/api/agent/me", headers=WANG, timeout=30).json()["name"]
    before = len(stored(servers, cid))

    assert post(servers, "/api/agent/claim", {"conversation_id": cid}) == 200
    assert post(servers, "/api/agent/handback", {"conversation_id": cid, "summary": "ok"}) == 200

    bots = [d for _, t, d in stored(servers, cid)[before:] if t == "bot"]
    texts = [d.get("text") for d in bots]
    assert texts[0] in expected("utter_agent_joined", True, agent_name=name), texts
    assert texts[1] in expected("utter_handback", True), texts
    assert texts[2] in expected("utter_ask_rating", True), texts
    buttons = (bots[2].get("data") or {}).get("buttons") or []
    assert buttons and all(b["title"] == to_traditional(b["title"]) for b in buttons)
