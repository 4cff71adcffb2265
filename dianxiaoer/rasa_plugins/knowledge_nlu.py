"""Generate NLU training examples for the knowledge intents from the knowledge files.

Also `file_complaint`, from the labelled complaints of `knowledge/complaint_examples.yml`.

`python -m dianxiaoer.rasa_plugins.knowledge_nlu` rewrites `data/nlu/knowledge.yml`: questions about
every glossary term, exam point and term-list entry (`ask_term`, from question patterns
applied to the entry's names) and every FAQ paraphrase under the intent of its topic.
The FAQ includes the shop's own entries and edits (SHOP_FAQ_OVERRIDES, written by the
admin page; `load_entries` merges them, disabled entries left out), so `make train` picks
up new paraphrases (docs/admin.md). The `order_id` regex comes from the policy's
`orders.id_pattern` (with the shop's overrides), so a shop's own order numbers are
recognised after `make train`.
A test checks the committed file is what the generator produces, so the NLU data
cannot drift from the knowledge base. Examples already written by hand elsewhere in
`data/nlu/` are skipped, so no example is labelled with two intents.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rasa.shared.nlu.training_data.loading import load_data

from dianxiaoer.core.policy import get_policy, order_id_regex
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.knowledge.base import Entry, load_entries
from dianxiaoer.nlu.dataset import comparison_key, nlu_yaml

TARGET = PROJECT_ROOT / "data" / "nlu" / "knowledge.yml"

#: FAQ topic -> intent. Entries not listed go to `ask_faq`.
TOPIC_INTENTS = {
    "发货物流": "ask_shipping_policy",
    "支付": "ask_payment_methods",
    "退换货": "ask_return_policy",
    "退款": "ask_return_policy",
}
#: FAQ entries answered by a dedicated intent rather than by topic: these questions are
#: about the customer's own order, so the order journey (verification first) answers them.
ENTRY_INTENTS = {
    "faq.service_hours": "ask_service_hours",
    "faq.logistics_stalled": "urge_delivery",
    "faq.payment_failed": "report_payment_failure",
    "faq.double_charge": "report_payment_failure",
    "faq.how_to_return": "request_return",
    "faq.cancel_order": "cancel_order",
    "faq.change_address": "change_address",
    "faq.quality_problem": "report_quality_problem",
    # problem reports: acknowledged with the policy, then the order journey (answer first)
    "faq.missing_item": "report_quality_problem",
    "faq.wrong_item": "report_quality_problem",
    "faq.used_item": "report_quality_problem",
    "faq.stock": "ask_product_info",
    "faq.size_guide": "ask_product_info",
}

# Ways staff ask about a term; {n} is a name. Rotated over the entries so each pattern
# is used about equally, and list patterns only for entries that have lists.
TERM_PATTERNS = [
    "什么是{n}",
    "{n}是什么意思",
    "{n}指的是什么",
    "请问{n}是啥",
    "解释一下{n}",
    "{n}怎么理解",
    "老师 {n}是什么",
    "想了解一下{n}",
    "{n}的定义",
    "说说{n}吧",
]
LIST_PATTERNS = ["{n}有哪几种", "{n}包括哪些", "{n}分为哪几类", "{n}有哪些", "{n}的步骤是什么"]
ENGLISH_PATTERNS = ["what is {n}", "{n} 是什么意思", "what does {n} mean", "{n}是啥"]


def faq_intent(entry: Entry) -> str:
    """The intent under which an FAQ entry's questions are trained."""
    return ENTRY_INTENTS.get(entry.id) or TOPIC_INTENTS.get(entry.topic or "", "ask_faq")


def term_examples(entries: list[Entry]) -> list[str]:
    """Questions about each non-FAQ entry by its title, one alias and its English name."""
    examples: list[str] = []
    for i, entry in enumerate(e for e in entries if e.kind != "faq"):
        patterns = LIST_PATTERNS if entry.lists else TERM_PATTERNS
        examples.append(patterns[i % len(patterns)].format(n=entry.title))
        chinese_aliases = [a for a in entry.aliases if not a.isascii() and len(a) <= 10]
        if chinese_aliases:
            examples.append(
                TERM_PATTERNS[(i + 3) % len(TERM_PATTERNS)].format(n=chinese_aliases[0])
            )
        if entry.title_en:
            examples.append(ENGLISH_PATTERNS[i % len(ENGLISH_PATTERNS)].format(n=entry.title_en))
    return examples


#: Labelled complaints per psychology type used as `file_complaint` examples (the
#: psychology scorer learns from all of them; the intent needs fewer).
COMPLAINTS_PER_TYPE = 20


def complaint_examples(per_type: int = COMPLAINTS_PER_TYPE) -> list[str]:
    """`file_complaint` examples: the first messages of each psychology type."""
    from dianxiaoer.shop.complaints import load_examples

    return [m for messages in load_examples().values() for m in messages[:per_type]]


def generate(
    entries: list[Entry], existing_keys: set[str], complaints: list[str] | None = None
) -> dict[str, list[str]]:
    """Examples per intent, without duplicates or anything already in `existing_keys`."""
    by_intent: dict[str, list[str]] = {"ask_term": term_examples(entries)}
    if complaints:
        by_intent["file_complaint"] = list(complaints)
    for entry in entries:
        if entry.kind == "faq":
            by_intent.setdefault(faq_intent(entry), []).extend(
                [entry.question or "", *entry.paraphrases]
            )
    seen = set(existing_keys)
    result: dict[str, list[str]] = {}
    for intent, examples in by_intent.items():
        kept = []
        for example in examples:
            key = comparison_key(example)
            if example and key not in seen:
                seen.add(key)
                kept.append(example)
        result[intent] = kept
    return result


def render(examples: dict[str, list[str]], order_id_pattern: str | None = None) -> str:
    """The NLU YAML file text, with the `order_id` regex when a pattern is given."""
    text = nlu_yaml(
        examples,
        "GENERATED by `python -m dianxiaoer.rasa_plugins.knowledge_nlu` from knowledge/*.yml"
        " and the order-number pattern of the policy — do not edit.",
    )
    if order_id_pattern:
        # a block scalar takes the pattern as it is (no YAML quoting of \ or ')
        text = text.replace("nlu: []\n", "nlu:\n")
        text += (
            "# Order numbers: the policy's orders.id_pattern, standing alone (e.g. "
            f"{get_policy()['orders.id_example']}).\n"
            f"- regex: order_id\n  examples: |\n    - {order_id_pattern}\n"
        )
    return text


def hand_written_keys(nlu_dir: Path, exclude: Path) -> set[str]:
    """Comparison keys of the hand-written NLU examples (every file but `exclude`)."""
    keys: set[str] = set()
    for path in sorted(nlu_dir.glob("*.yml")):
        if path.resolve() != exclude.resolve():
            keys |= {comparison_key(m.get("text")) for m in load_data(str(path)).intent_examples}
    return keys


def build(target: Path = TARGET) -> str:
    """The generated file's content for the current knowledge and hand-written data."""
    existing = hand_written_keys(target.parent, target)
    return render(generate(load_entries(), existing, complaint_examples()), order_id_regex())


def main(argv: list[str] | None = None) -> int:
    """Write the generated file (or, with --check, fail if it is out of date)."""
    args = sys.argv[1:] if argv is None else argv
    content = build()
    if "--check" in args:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != content:
            print(f"{TARGET} is out of date: run `make data`")
            return 1
        return 0
    if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != content:
        TARGET.write_text(content, encoding="utf-8")
    print(f"knowledge NLU examples: {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
