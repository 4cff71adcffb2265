"""The NLU data sets: held-out never in training, coverage per intent, domain consistency."""

import re
from collections import Counter

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from dianxiaoer.nlu.dataset import comparison_key, overlap, plain_text
from dianxiaoer.settings import PROJECT_ROOT

HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"


@pytest.fixture(scope="module")
def training():
    return load_data(str(PROJECT_ROOT / "data" / "nlu"))


@pytest.fixture(scope="module")
def heldout():
    return load_data(str(HELDOUT))


@pytest.fixture(scope="module")
def domain():
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_no_heldout_example_is_in_the_training_data(training, heldout):
    shared = overlap(
        [e.get("text") for e in training.intent_examples],
        [e.get("text") for e in heldout.intent_examples],
    )
    assert shared == [], f"held-out examples also in training data: {shared}"


def test_overlap_check_sees_through_script_and_punctuation():
    assert comparison_key("請問可以退貨嗎？") == comparison_key("请问可以退货吗")
    assert overlap(["用[花呗](payment_method)吗"], ["用花唄嗎!!", "别的"]) == ["用花唄嗎!!"]
    assert plain_text('[花贝]{"entity": "payment_method", "value": "花呗"}') == "花贝"


def test_heldout_has_at_least_ten_examples_per_intent(heldout, domain):
    counts = Counter(e.get("intent") for e in heldout.intent_examples)
    for intent in domain["intents"]:
        if intent.startswith("EXTERNAL_"):  # sent by reminders, not by customers
            continue
        assert counts[intent] >= 10, f"{intent}: {counts[intent]} held-out examples"


def test_every_domain_intent_is_trained_and_nothing_else(training, domain):
    customer_intents = {i for i in domain["intents"] if not i.startswith("EXTERNAL_")}
    assert set(training.intents) == customer_intents
    counts = Counter(e.get("intent") for e in training.intent_examples)
    assert min(counts.values()) >= 40


def test_training_data_is_realistic_chinese_shopper_text(training):
    texts = [e.get("text") for e in training.intent_examples]
    traditional = [t for t in texts if comparison_key(t) != re.sub(r"\s+", "", t.lower())]
    assert len(traditional) >= 30  # traditional characters, full-width, punctuation variants
    assert any("花贝" in t for t in texts) and any("亲" in t for t in texts)


def test_responses_used_only_by_actions_are_really_used():
    """`rasa data validate` lists responses that no rule/story names; each of them must
    be uttered by a custom action or the NLG, or it is dead wording."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    stories = "".join(p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "data").rglob("*.yml"))
    code = "".join(
        p.read_text(encoding="utf-8")
        for p in [
            *(PROJECT_ROOT / "actions").glob("*.py"),
            PROJECT_ROOT / "dianxiaoer" / "nlg.py",
            PROJECT_ROOT / "dianxiaoer" / "knowledge.py",
            PROJECT_ROOT / "webapp" / "app.py",  # agent joined / hand-back messages
            PROJECT_ROOT / "webapp" / "callbacks.py",  # an agent's callback message
        ]
    )
    form_questions = {
        f"utter_ask_{slot}"
        for form in (domain.get("forms") or {}).values()
        for slot in form["required_slots"]
    }
    code += "".join(
        p.read_text(encoding="utf-8") for p in [PROJECT_ROOT / "dianxiaoer" / "journeys.py"]
    )
    for name in domain["responses"]:
        if name == "utter_default":  # uttered by Rasa's own action_default_fallback
            continue
        if name in form_questions:  # asked by the form itself
            continue
        if name.startswith(
            (
                "utter_return_excluded_",
                "utter_payment_failed_",
                "utter_motive_",
                "utter_return_status_",
                "utter_invoice_not_",
                "utter_quality_",
                "utter_aftersale_ticket_",
                "utter_complaint_",
                "utter_winback_",
            )
        ):
            # built from a reason code: f"utter_return_{reason}", checked in action tests
            continue
        assert f"action: {name}" in stories or f'"{name}"' in code, f"{name} is never uttered"
