"""Read `rasa test nlu` reports: print a summary and enforce the macro-F1 gate.

`python -m dianxiaoer.nlu.evaluation summary results/nlu results/nlu_colloquial`
`python -m dianxiaoer.nlu.evaluation gate results/nlu --min-macro-f1 0.93`
`python -m dianxiaoer.nlu.evaluation faq tests/knowledge/faq_heldout.yml`
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

#: Labels in Rasa's report that are aggregates, not intents.
AGGREGATES = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def load_intent_report(results_dir: Path) -> dict:
    """The intent_report.json that `rasa test nlu` wrote into `results_dir`."""
    path = results_dir / "intent_report.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `make eval` first")
    return json.loads(path.read_text(encoding="utf-8"))


def macro_f1(report: dict) -> float:
    """Macro-averaged F1 over intents."""
    return float(report["macro avg"]["f1-score"])


def per_intent(report: dict) -> dict[str, dict]:
    """Per-intent precision/recall/F1/support, without the aggregate rows."""
    return {k: v for k, v in report.items() if k not in AGGREGATES and isinstance(v, dict)}


def entity_reports(results_dir: Path) -> dict[str, tuple[str, float, int]]:
    """Per entity type: the extractor that handles it, its F1 and support.

    Each extractor's report scores it on every annotated entity type, including the
    types another extractor is responsible for; the responsible one scores best.
    """
    best: dict[str, tuple[str, float, int]] = {}
    for path in sorted(results_dir.glob("*Extractor_report.json")):
        extractor = path.stem.replace("_report", "")
        data = json.loads(path.read_text(encoding="utf-8"))
        for label, row in data.items():
            if label in AGGREGATES or not isinstance(row, dict) or "f1-score" not in row:
                continue
            f1 = float(row["f1-score"])
            if label not in best or f1 > best[label][1]:
                best[label] = (extractor, f1, int(row.get("support", 0)))
    return best


def slice_label(results_dir: Path) -> str:
    """Name of the held-out slice whose report a results directory holds.

    results/nlu is the original slice ("held-out"), results/nlu_<name> the slice <name>
    ("<name> held-out").
    """
    name = Path(results_dir).name
    suffix = name.split("_", 1)[1] if name.startswith("nlu_") else ""
    return f"{suffix} held-out" if suffix else "held-out"


def summary(results_dir: Path, slice_name: str = "held-out") -> str:
    """Human-readable table of the held-out results; macro-F1 on the last line."""
    report = load_intent_report(results_dir)
    rows = per_intent(report)
    lines = [f"{'intent':<22}{'prec':>7}{'recall':>8}{'f1':>7}{'n':>5}"]
    for name, r in sorted(rows.items(), key=lambda kv: kv[1]["f1-score"]):
        lines.append(
            f"{name:<22}{r['precision']:>7.3f}{r['recall']:>8.3f}"
            f"{r['f1-score']:>7.3f}{int(r['support']):>5}"
        )
    entities = entity_reports(results_dir)
    for label, (extractor, f1, support) in sorted(entities.items()):
        lines.append(f"entity {label:<16} f1 {f1:.3f}  n={support:<3} ({extractor})")
    if entities:
        macro = sum(f1 for _, f1, _ in entities.values()) / len(entities)
        lines.append(f"entity macro-F1 (each type by its extractor): {macro:.3f}")
    lines.append(f"accuracy {report.get('accuracy', 0.0):.3f}")
    total = sum(int(r["support"]) for r in rows.values())
    lines.append(
        f"{slice_name} intent macro-F1: {macro_f1(report):.4f} "
        f"({len(rows)} intents, {total} examples)"
    )
    return "\n".join(lines)


def summaries(results_dirs: list[Path]) -> str:
    """One summary per held-out slice, then each slice's macro-F1 again on the last lines."""
    if len(results_dirs) == 1:
        return summary(results_dirs[0], slice_label(results_dirs[0]))
    blocks, finals = [], []
    for results_dir in results_dirs:
        label = slice_label(results_dir)
        text = summary(results_dir, label)
        blocks.append(f"== {label} ({results_dir})\n{text}")
        finals.append(text.splitlines()[-1])
    return "\n\n".join(blocks) + "\n\n" + "\n".join(finals)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["summary", "gate", "faq", "complaints"])
    parser.add_argument("results_dir", type=Path, nargs="+")
    parser.add_argument("--min-macro-f1", type=float, default=0.93)
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.command == "summary":
        print(summaries(args.results_dir))
        return 0
    if len(args.results_dir) != 1:
        parser.error(f"{args.command} takes one path")
    args.results_dir = args.results_dir[0]
    if args.command == "complaints":
        accuracy, total, misses, per_type = psychology_accuracy(args.results_dir)
        for text, want, got in misses:
            print(f"  miss: {text}  (want {want}, got {got})")
        print("  per type: " + ", ".join(f"{t} {a:.2f}" for t, a in per_type.items()))
        print(f"held-out complaint psychology accuracy: {accuracy:.3f} ({total} messages)")
        if accuracy < args.min_accuracy:
            print(f"FAIL: psychology accuracy {accuracy:.3f} < gate {args.min_accuracy}")
            return 1
        return 0
    if args.command == "faq":
        accuracy, total, misses = faq_accuracy(args.results_dir)
        for q, want, got in misses:
            print(f"  miss: {q}  (want {want}, got {got})")
        print(f"held-out FAQ retrieval top-1 accuracy: {accuracy:.3f} ({total} questions)")
        outcome, wrong = faq_decisions(args.results_dir)
        for q, want, got in wrong:
            print(f"  answered wrong: {q}  (want {want}, got {got})")
        print(
            "held-out FAQ as the shopper gets it (policy thresholds): answered right "
            f"{outcome['right']}, answered wrong {outcome['wrong']}, buttons "
            f"{outcome['suggest']}, no answer {outcome['none']}"
        )
        return 0
    report = load_intent_report(args.results_dir)
    label = slice_label(args.results_dir)
    score = macro_f1(report)
    if score < args.min_macro_f1:
        print(f"FAIL: {label} intent macro-F1 {score:.4f} < gate {args.min_macro_f1}")
        return 1
    print(f"OK: {label} intent macro-F1 {score:.4f} >= gate {args.min_macro_f1}")
    return 0


def faq_accuracy(heldout_file: Path) -> tuple[float, int, list[tuple[str, str, str]]]:
    """Top-1 accuracy of knowledge retrieval on the held-out FAQ paraphrases."""
    import yaml

    from dianxiaoer.knowledge.base import get_knowledge_base

    kb = get_knowledge_base()
    held = yaml.safe_load(heldout_file.read_text(encoding="utf-8"))
    misses = []
    total = 0
    for entry_id, questions in held.items():
        for q in questions:
            total += 1
            top = kb.search(q, 1)
            got = top[0].entry.id if top else "-"
            if got != entry_id:
                misses.append((q, entry_id, got))
    return (total - len(misses)) / total, total, misses


def faq_decisions(heldout_file: Path) -> tuple[Counter, list[tuple[str, str, str]]]:
    """What the held-out FAQ questions get (answered right/wrong, buttons, nothing).

    Also the wrongly answered questions as (question, wanted entry, answered entry).
    """
    import yaml

    from dianxiaoer.knowledge.base import decide_by_policy

    held = yaml.safe_load(heldout_file.read_text(encoding="utf-8"))
    outcome: Counter = Counter({"right": 0, "wrong": 0, "suggest": 0, "none": 0})
    wrong = []
    for entry_id, questions in held.items():
        for q in questions:
            decision = decide_by_policy(q)
            if decision.kind != "answer":
                outcome[decision.kind] += 1
            elif decision.hits[0].entry.id == entry_id:  # an "answer" has its hit
                outcome["right"] += 1
            else:
                outcome["wrong"] += 1
                wrong.append((q, entry_id, decision.hits[0].entry.id))
    return outcome, wrong


def psychology_accuracy(
    heldout_file: Path,
) -> tuple[float, int, list[tuple[str, str, str]], dict[str, float]]:
    """Top-1 accuracy of the complaint psychology scorer on the held-out messages."""
    import yaml

    from dianxiaoer.shop.complaints import assess

    held = yaml.safe_load(heldout_file.read_text(encoding="utf-8"))
    misses = []
    per_type = {}
    total = 0
    for label, messages in held.items():
        wrong = 0
        for text in messages:
            total += 1
            got = assess(text).primary
            if got != label:
                wrong += 1
                misses.append((text, label, got))
        per_type[label] = 1 - wrong / len(messages)
    return (total - len(misses)) / total, total, misses, per_type


if __name__ == "__main__":
    raise SystemExit(main())
