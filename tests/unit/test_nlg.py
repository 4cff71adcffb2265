"""ScriptAwareNLG on a real Rasa domain and DialogueStateTracker."""

import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import normalize, to_traditional
from dianxiaoer.rasa_plugins.nlg import ScriptAwareNLG


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def user(text, intent="greet", max_chars=300, message_id=None):
    n = normalize(text, max_chars)
    parse = {
        "text": n.text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [],
        "input": {
            "original": n.original,
            "script": n.script,
            "truncated": n.truncated,
            "meaningful": n.meaningful,
        },
    }
    return UserUttered(text, parse["intent"], [], parse, message_id=message_id)


def generate(domain, events, action, **kwargs):
    nlg = ScriptAwareNLG(domain=domain)
    tracker = DialogueStateTracker.from_events("u1", events, domain.slots)
    return asyncio.run(nlg.generate(action, tracker, "rest", **kwargs))


def variants(domain, name, **values):
    merged = {**get_policy().reply_values(), **values}
    return {v["text"].format(**merged) for v in domain.responses[name]}


def test_simplified_customer_gets_simplified_reply_with_policy_values(domain):
    reply = generate(domain, [user("还是不明白", "nlu_fallback")], "utter_fallback_final")
    assert reply["text"] in variants(domain, "utter_fallback_final")
    assert get_policy()["service.hotline"] in reply["text"]


def test_traditional_customer_gets_traditional_text_and_buttons(domain):
    reply = generate(domain, [user("你們能做什麼", "ask_capabilities")], "utter_capabilities")
    assert reply["text"] in {to_traditional(t) for t in variants(domain, "utter_capabilities")}
    assert [b["title"] for b in reply["buttons"]][0] == to_traditional("退换货政策")
    assert reply["buttons"][0]["payload"] == "/ask_return_policy"


def test_script_is_kept_for_neutral_follow_ups(domain):
    events = [user("你好嗎"), ActionExecuted("utter_greet"), BotUttered("x"), user("ok", "affirm")]
    reply = generate(domain, events, "utter_anything_else")
    assert reply["text"] in {to_traditional(t) for t in variants(domain, "utter_anything_else")}


def test_truncated_message_gets_the_notice_once(domain):
    long_text = "我想问一下退货的事情，" * 60
    nlg = ScriptAwareNLG(domain=domain)
    tracker = DialogueStateTracker.from_events(
        "u2", [user(long_text, "ask_return_policy", message_id="m1")], domain.slots
    )
    first = asyncio.run(nlg.generate("utter_greet", tracker, "rest"))
    notice = domain.responses["utter_notice_truncated"][0]["text"]
    assert first["text"].startswith(notice)
    second = asyncio.run(nlg.generate("utter_anything_else", tracker, "rest"))
    assert not second["text"].startswith(notice)


def test_short_message_gets_no_notice(domain):
    reply = generate(domain, [user("你好")], "utter_greet")
    assert "消息比较长" not in reply["text"]


def test_action_kwargs_override_policy_values(domain):
    reply = generate(domain, [user("1")], "utter_got_order_id", value="202611010001")
    assert "202611010001" in reply["text"]


def test_unknown_response_gives_none(domain):
    assert generate(domain, [user("你好")], "utter_no_such_response") is None
