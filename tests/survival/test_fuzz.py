"""Fuzzing (hypothesis) through the REST channel and the NLU pipeline of the running servers.

Well-formed requests — whatever the text — get HTTP 200 and at least one bot message;
malformed ones (not JSON, not an object, wrong types, missing fields, lone surrogates,
oversized) get a 4xx with a JSON error; nothing gets a 5xx, and the servers still answer
afterwards. The NLU pipeline (POST /model/parse, with the API token) gives every input a
domain intent. Counts are printed at the end of the run ("survival fuzz counts").
"""

from __future__ import annotations

import uuid

import pytest
import requests
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dianxiaoer.core.resilience import holding_reply
from dianxiaoer.core.settings import PROJECT_ROOT
from tests.conftest import E2E_RASA_API_TOKEN
from tests.survival.inputs import FUZZ_COUNTS, malformed, messages, metadata

pytestmark = pytest.mark.e2e

# Budget: a REST turn takes ~50-150 ms, a refused request or an NLU parse ~10-40 ms.
REST_WELL_FORMED = 300
REST_MALFORMED = 400
NLU_INPUTS = 1500
MINIMUM_TOTAL = 2000


def fuzz_settings(examples: int):
    """Fixed examples (CI-stable), no per-example deadline, no example database."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


DOMAIN_INTENTS = set(
    yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]
) | {"nlu_fallback"}
RUN = uuid.uuid4().hex[:8]
http = requests.Session()
done: set[str] = set()
holding: list[str] = []
paused: list[str] = []  # turns in conversations waiting for an agent


def webhook(servers) -> str:
    return f"{servers.rasa_url}/webhooks/rest/webhook"


def tracker(servers, who: str) -> dict:
    r = http.get(
        f"{servers.rasa_url}/conversations/{who}/tracker",
        params={"token": E2E_RASA_API_TOKEN},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()


@fuzz_settings(REST_WELL_FORMED)
@given(message=messages(), meta=metadata(), conversation=st.integers(0, 99))
def test_well_formed_requests_always_get_a_reply(servers, message, meta, conversation):
    kind, text = message
    who = f"fuzz-{RUN}-{conversation}"
    body = {"sender": who, "message": text}
    if meta is not None:
        body["metadata"] = meta
    r = http.post(webhook(servers), json=body, timeout=60)
    FUZZ_COUNTS[f"rest/{kind}"] += 1
    assert r.status_code == 200, (r.status_code, r.text[:300])
    replies = r.json()
    if not replies:
        # only a conversation handed over to a human agent (paused) waits for the agent
        assert tracker(servers, who)["paused"], f"silent turn for {text[:80]!r}"
        paused.append(text)
        return
    assert all(reply["recipient_id"] == who for reply in replies)
    assert all(reply.get("text") or reply.get("buttons") for reply in replies), replies
    if any(reply.get("text") == holding_reply() for reply in replies):
        holding.append(text)


def test_well_formed_fuzz_was_answered_by_the_bot_not_the_holding_reply(servers):
    """With every server up, the holding reply is for Rasa commands only ("/restart")."""
    plain = [t for t in holding if not t.strip().startswith("/")]
    assert not plain, plain[:10]
    done.add("rest")


@fuzz_settings(REST_MALFORMED)
@given(request=malformed())
def test_malformed_requests_get_a_4xx_never_a_5xx(servers, request):
    kind, body = request
    r = http.post(
        webhook(servers), data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    FUZZ_COUNTS[f"rest-malformed/{kind}"] += 1
    assert 400 <= r.status_code < 500, (kind, body[:200], r.status_code, r.text[:200])
    assert r.json().get("error"), r.text[:200]
    done.add("malformed")


@fuzz_settings(NLU_INPUTS)
@given(message=messages())
def test_nlu_pipeline_gives_every_input_a_domain_intent(servers, message):
    kind, text = message
    r = http.post(
        f"{servers.rasa_url}/model/parse",
        params={"token": E2E_RASA_API_TOKEN},
        json={"text": text},
        timeout=60,
    )
    FUZZ_COUNTS[f"nlu/{kind}"] += 1
    assert r.status_code == 200, (r.status_code, r.text[:300])
    intent = r.json()["intent"]
    assert 0.0 <= float(intent["confidence"]) <= 1.0
    if text.strip().startswith("/"):
        # "/name{...}" is a button payload: Rasa takes the intent from the text
        assert isinstance(intent["name"], str)
    else:
        assert intent["name"] in DOMAIN_INTENTS, (text[:80], intent)
    done.add("nlu")


def test_servers_still_answer_and_enough_inputs_were_fuzzed(servers):
    assert servers.send(f"fuzz-{RUN}-after", "你好")
    assert requests.get(f"{servers.actions_url}/health", timeout=10).ok
    assert requests.get(f"{servers.web_url}/api/config", timeout=10).ok
    if done != {"rest", "malformed", "nlu"}:
        pytest.skip("only part of the fuzz ran")
    total = sum(FUZZ_COUNTS.values())
    print(f"fuzzed {total} inputs ({len(paused)} REST turns waited for a human agent)")
    assert total >= MINIMUM_TOTAL
