"""The learning loop: the review export (masked, deduplicated, Rasa NLU YAML that Rasa
loads) and the merge of labelled entries (held-out examples refused, never under tests/)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from dianxiaoer.analytics.review import export_review, merge_reviewed
from dianxiaoer.analytics.sources import Filters
from dianxiaoer.core.settings import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / os.environ.get("VENV", ".venv") / "bin" / "python"
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"


@pytest.fixture(scope="module")
def review(stores, tmp_path_factory):
    out = tmp_path_factory.mktemp("review") / "unanswered.yml"
    entries = export_review(out, tracker=stores.tracker, shop=stores.shop, log_path=stores.log)
    return out, entries


def entries_of(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]


def test_export_is_masked_deduplicated_and_counted(review):
    out, entries = review
    text = out.read_text(encoding="utf-8")
    # personal data: the order number, the mobile number, a phone tail, a customer name
    for secret in ("202611010001", "13912345678", "5678", "李娜"):
        assert secret not in text
    assert "我的订单<订单号>能寄到国外吗" in text
    assert "我叫<姓名>，手机尾号<尾号>，能开专票吗" in text
    rows = {e["examples"].strip()[2:]: e for e in entries_of(out)}
    assert {k: (v["intent"], v["metadata"]["count"]) for k, v in rows.items()} == {
        # two log lines, same question but for punctuation: one entry counted twice
        "店铺有线下门店吗": ("ask_faq", 2),
        "你们老板是谁": ("ask_faq", 1),
        "很久以前的问题": ("ask_faq", 1),
        "我叫<姓名>，手机尾号<尾号>，能开专票吗": ("ask_faq", 1),
        # in the tracker store and in the log: one message
        "我的订单<订单号>能寄到国外吗": ("ask_shipping_policy", 1),
        "能寄到国外吗？？": ("ask_shipping_policy", 1),
        # answered, but below the confidence bar (0.62 and 0.6 < 0.7)
        "这个东西怎么弄": ("ask_faq", 1),
        "那连衣裙呢": ("request_return", 1),
    }
    assert all(e["metadata"]["review"] == "todo" for e in entries_of(out))
    assert "# 2 messages (unanswered log 2); guessed ask_faq" in text
    assert "# 1 message (tracker 1); guessed ask_shipping_policy, lowest confidence 0.45" in text
    # not exported: staff training, a message to a human agent, button payloads
    for absent in ("培训里的一个怪问题", "好的我的手机", "/start_training"):
        assert absent not in text
    assert [e.count for e in entries][:1] == [2]


def test_export_respects_the_date_range(stores, tmp_path):
    out = tmp_path / "day2.yml"
    export_review(out, Filters(since=date(2026, 11, 3)), stores.tracker, stores.shop, stores.log)
    texts = [e["examples"].strip()[2:] for e in entries_of(out)]
    # day 1's messages and log lines are out; of the two log lines of 店铺有线下门店吗, day 2's
    assert sorted(texts) == sorted(
        [
            "店铺有线下门店吗？",
            "我叫<姓名>，手机尾号<尾号>，能开专票吗",
            "这个东西怎么弄",
            "那连衣裙呢",
        ]
    )


def test_empty_export_is_still_valid_yaml(tmp_path, stores):
    out = tmp_path / "empty.yml"
    export_review(
        out, Filters(since=date(2030, 1, 1)), stores.tracker, stores.shop, tmp_path / "no.log"
    )
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == {"version": "3.1", "nlu": []}


RASA_CHECK = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from rasa.shared.core.domain import Domain
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.loading import load_data
from rasa.validator import Validator

path = sys.argv[1]
data = load_data(path)  # Rasa's YAML reader, with its schema validation
domain = Domain.load("domain.yml")
importer = TrainingDataImporter.load_from_dict(
    domain_path="domain.yml", training_data_paths=[path]
)
validator = Validator.from_importer(importer)
print(json.dumps({
    "examples": len(data.intent_examples),
    "unknown_intents": sorted(set(data.intents) - set(domain.intents)),
    "no_repetition": validator.verify_example_repetition_in_intents(False),
}))
"""


def rasa_check(path: Path) -> dict:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv) is not installed")
    run = subprocess.run(
        [str(RASA_PYTHON), "-c", RASA_CHECK, str(path)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_rasa_reads_the_export(review):
    out, entries = review
    assert rasa_check(out) == {
        "examples": len(entries),
        "unknown_intents": [],
        "no_repetition": True,
    }


def label(review_file: Path, out: Path, labels: dict[str, str]) -> Path:
    """What a reviewer does: set the right intent and `review: ok` on some entries."""
    data = yaml.safe_load(review_file.read_text(encoding="utf-8"))
    for entry in data["nlu"]:
        text = entry["examples"].strip()[2:]
        if text in labels:
            entry["intent"] = labels[text]
            entry["metadata"]["review"] = "ok"
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def test_merge_adds_labelled_examples_refuses_heldout_and_never_writes_tests(review, tmp_path):
    out, _ = review
    heldout_example = "哈喽亲"  # a held-out greet example (tests/nlu/heldout.yml)
    assert heldout_example in HELDOUT.read_text(encoding="utf-8")
    reviewed = label(
        out,
        tmp_path / "labelled.yml",
        {
            "我的订单<订单号>能寄到国外吗": "ask_shipping_policy",
            "我叫<姓名>，手机尾号<尾号>，能开专票吗": "request_invoice",
            "你们老板是谁": "out_of_scope",
            "店铺有线下门店吗": "no_such_intent",
        },
    )
    extra = yaml.safe_load(reviewed.read_text(encoding="utf-8"))
    extra["nlu"] += [
        {"intent": "greet", "metadata": {"review": "ok"}, "examples": f"- {heldout_example}\n"},
        {"intent": "greet", "metadata": {"review": "ok"}, "examples": "- 你好\n"},
    ]
    reviewed.write_text(yaml.safe_dump(extra, allow_unicode=True), encoding="utf-8")
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "base.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n', encoding="utf-8"
    )
    before = hashlib.sha256(HELDOUT.read_bytes()).hexdigest()

    result = merge_reviewed(reviewed, nlu_dir=nlu)

    assert result.added == {
        # masked data became neutral stand-ins
        "ask_shipping_policy": ["我的订单123456789012能寄到国外吗"],
        "out_of_scope": ["你们老板是谁"],
        "request_invoice": ["我叫张三，手机尾号1234，能开专票吗"],
    }
    assert result.refused_heldout == [heldout_example]
    assert result.duplicates == ["你好"]
    assert result.unknown_intent == [("no_such_intent", "店铺有线下门店吗")]
    assert result.not_reviewed == 4
    assert hashlib.sha256(HELDOUT.read_bytes()).hexdigest() == before
    written = (nlu / "reviewed.yml").read_text(encoding="utf-8")
    assert heldout_example not in written
    assert rasa_check(nlu / "reviewed.yml") == {
        "examples": 3,
        "unknown_intents": [],
        "no_repetition": True,
    }
    # merging the same file again adds nothing
    again = merge_reviewed(reviewed, nlu_dir=nlu)
    assert again.added == {} and len(again.duplicates) == 4
    assert (nlu / "reviewed.yml").read_text(encoding="utf-8") == written
    with pytest.raises(ValueError, match="tests/"):
        merge_reviewed(reviewed, nlu_dir=PROJECT_ROOT / "tests" / "nlu")


def test_cli_review_and_merge(stores, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    out = tmp_path / "review" / "unanswered.yml"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "dianxiaoer.analytics",
            "review-unanswered",
            "--tracker",
            stores.tracker,
            "--shop",
            stores.shop,
            "--log",
            str(stores.log),
            "--out",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "8 distinct messages, 9 in all" in run.stdout and out.exists()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "dianxiaoer.analytics",
            "merge-reviewed",
            str(out),
            "--nlu-dir",
            str(PROJECT_ROOT / "tests" / "nlu"),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "under tests/" in run.stderr
