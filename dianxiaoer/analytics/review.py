"""The learning loop: unanswered and low-confidence messages out for labelling, back in.

`export_review` collects customer messages the bot could not handle — from the tracker
store (fallback turns, and messages whose best intent scored under `max_confidence`)
and from the knowledge base's log of unanswered questions (`UNANSWERED_LOG`) — masks
personal data, merges duplicates (same comparison key: script, width, punctuation
ignored) with their counts and the intent the model guessed, and writes a Rasa NLU YAML
file with one entry per message:

    # 3 messages (tracker 2, unanswered log 1); guessed ask_faq, lowest confidence 0.41
    - intent: ask_faq
      metadata: {review: todo, count: 3, guessed: ask_faq}
      examples: |
        - 能寄到国外吗

A person sets each entry's intent to the right one and `review: ok`; `merge_reviewed`
then adds the accepted examples to `data/nlu/reviewed.yml` — never an example of the
held-out sets (tests/nlu/heldout*.yml), never anything already in the training data, and
never under tests/.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from dianxiaoer.analytics.conversations import conversations
from dianxiaoer.analytics.sources import (
    Filters,
    ShopData,
    customer_names,
    safe_url,
    stream_events,
    tracker_url,
)
from dianxiaoer.core.privacy import (
    ADDRESS,
    BANK_CARD,
    EMAIL,
    ID_CARD,
    MOBILE,
    NAME,
    NUMBER,
    ORDER,
    PHONE,
    PLACEHOLDERS,
    TAIL,
    TRACKING,
    Masker,
)
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.core.settings import PROJECT_ROOT, get_settings
from dianxiaoer.knowledge.unanswered import read_unanswered
from dianxiaoer.nlu.dataset import comparison_key, example_text, nlu_yaml, plain_text

#: Messages whose best intent scored below this are exported even if answered.
MAX_CONFIDENCE = 0.7
#: The label of messages without a usable guess.
DEFAULT_INTENT = "out_of_scope"
#: Realistic stand-ins for the placeholders when reviewed examples become training data.
STAND_INS = {
    ORDER: "123456789012",
    TRACKING: "SF1234567890123",
    MOBILE: "13800000000",
    PHONE: "010-62345678",
    TAIL: "1234",
    NUMBER: "12345",
    EMAIL: "user@example.com",
    NAME: "张三",
    ADDRESS: "北京市海淀区中关村大街1号",
    ID_CARD: "110101199001011234",
    BANK_CARD: "6222020000000000000",
}
ACCEPTED = {"ok", True}


@dataclass
class Candidate:
    """One distinct message for review."""

    key: str
    forms: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    guesses: Counter = field(default_factory=Counter)
    lowest: float | None = None

    @property
    def count(self) -> int:
        """Messages merged into this entry."""
        return sum(self.sources.values())

    @property
    def text(self) -> str:
        """The most frequent masked form."""
        return sorted(self.forms.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]

    def guessed(self, intents: set[str]) -> str:
        """The model's most frequent guess that is a domain intent, else out_of_scope."""
        for intent, _ in sorted(self.guesses.items(), key=lambda kv: (-kv[1], kv[0])):
            if intent in intents:
                return intent
        return DEFAULT_INTENT


def domain_intents(domain: Path | None = None) -> set[str]:
    """Intents of the domain that customers can send (no EXTERNAL_*, no nlu_fallback)."""
    data = yaml.safe_load((domain or PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    names = set()
    for item in data.get("intents") or []:
        name = item if isinstance(item, str) else next(iter(item))
        if not name.startswith("EXTERNAL_") and name != "nlu_fallback":
            names.add(name)
    return names


def collect(
    filters: Filters = Filters(),
    tracker: str | None = None,
    log_path: Path | None = None,
    max_confidence: float = MAX_CONFIDENCE,
    masker: Masker | None = None,
) -> list[Candidate]:
    """Messages for review, merged by comparison key, most frequent first."""
    masker = masker or Masker()
    found: dict[str, Candidate] = {}
    seen: set[tuple[str, str]] = set()

    def add(sender: str, text: str, guess: str | None, confidence, source: str) -> None:
        masked = example_text(masker(text))
        key = comparison_key(masked)
        if not key:
            return
        candidate = found.setdefault(key, Candidate(key))
        candidate.forms[masked] += 1
        candidate.sources[source] += 1
        if guess:
            candidate.guesses[guess] += 1
        if confidence is not None:
            low = candidate.lowest
            candidate.lowest = confidence if low is None else min(low, confidence)
        seen.add((sender, key))

    for c in conversations(stream_events(tracker or tracker_url(), filters), ShopData(), filters):
        if c.training or (filters.channel and c.channel_name != filters.channel):
            continue
        for t in c.turns:
            if t.human or t.payload or not t.text.strip():
                continue
            low = t.confidence is not None and t.confidence < max_confidence
            if t.fallback or low:
                add(c.sender_id, t.text, t.guessed, t.confidence, "tracker")

    start, end = filters.start_ts(), filters.end_ts()
    for record in read_unanswered(log_path or get_settings().unanswered_log):
        text = str(record.get("text") or "").strip()
        if not text or text.startswith("/"):
            continue
        try:
            when = datetime.fromisoformat(str(record.get("time"))).timestamp()
        except ValueError:
            when = None
        if when is not None and (
            (start is not None and when < start) or (end is not None and when >= end)
        ):
            continue
        sender = str(record.get("sender_id") or "")
        if (sender, comparison_key(example_text(masker(text)))) in seen:
            continue  # the same message, already counted from the tracker store
        add(sender, text, record.get("intent"), None, "unanswered log")
    return sorted(found.values(), key=lambda c: (-c.count, c.text))


def to_yaml(candidates: list[Candidate], intents: set[str], header: str = "") -> str:
    """The review file: Rasa NLU YAML, one entry per message, counts in comments."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ['version: "3.1"', "nlu:" + ("" if candidates else " []")]
    for c in candidates:
        guessed = c.guessed(intents)
        sources = ", ".join(f"{name} {n}" for name, n in sorted(c.sources.items()))
        low = f", lowest confidence {c.lowest:.2f}" if c.lowest is not None else ""
        other = sorted(f for f in c.forms if f != c.text)
        noun = "message" if c.count == 1 else "messages"
        lines.append(f"# {c.count} {noun} ({sources}); guessed {guessed}{low}")
        if other:
            lines.append("# also written: " + example_text(" ｜ ".join(other[:3])))
        lines += [
            f"- intent: {guessed}",
            "  metadata:",
            "    review: todo",
            f"    count: {c.count}",
            f"    guessed: {guessed}",
            "  examples: |",
            f"    - {c.text}",
        ]
    return "\n".join(lines) + "\n"


def export_review(
    out: Path,
    filters: Filters = Filters(),
    tracker: str | None = None,
    shop: str | None = None,
    log_path: Path | None = None,
    max_confidence: float = MAX_CONFIDENCE,
    domain: Path | None = None,
) -> list[Candidate]:
    """Write the review file to `out`; returns the entries written."""
    url = tracker or tracker_url()
    masker = Masker(customer_names(shop))
    candidates = collect(filters, url, log_path, max_confidence, masker)
    scope = filters.as_dict()
    header = (
        "Customer messages the assistant could not handle, for labelling\n"
        "(make review-unanswered).\n"
        f"Sources: tracker store {safe_url(url)} (fallbacks, confidence < {max_confidence}) and\n"
        "the knowledge base's unanswered log. Range: "
        f"{scope['since'] or 'start'} .. {scope['until'] or 'now'}, channel "
        f"{scope['channel'] or 'all'}; generated {datetime.now(SHANGHAI):%Y-%m-%d %H:%M}.\n"
        f"Personal data is masked: {' '.join(PLACEHOLDERS)}.\n"
        "To label: set each entry's intent to the right domain intent and `review: ok`\n"
        "(entries left `todo` are ignored). Then: make merge-reviewed REVIEW=<this file>\n"
        "(adds them to data/nlu/reviewed.yml; see docs/analytics.md)."
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_yaml(candidates, domain_intents(domain), header), encoding="utf-8")
    return candidates


# --- merge --------------------------------------------------------------------------------


@dataclass
class MergeResult:
    """What `merge_reviewed` did."""

    added: dict[str, list[str]] = field(default_factory=dict)
    refused_heldout: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unknown_intent: list[tuple[str, str]] = field(default_factory=list)
    not_reviewed: int = 0
    target: Path | None = None


def _examples(item: dict) -> list[str]:
    examples = item.get("examples")
    if isinstance(examples, str):
        return [
            line.strip()[2:].strip()
            for line in examples.splitlines()
            if line.strip().startswith("- ")
        ]
    if isinstance(examples, list):
        return [str(e.get("text", "")) for e in examples if isinstance(e, dict)]
    return []


def _nlu_items(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [i for i in data.get("nlu") or [] if isinstance(i, dict) and "intent" in i]


def _keys(paths: list[Path]) -> set[str]:
    return {
        comparison_key(plain_text(text))
        for path in paths
        for item in _nlu_items(path)
        for text in _examples(item)
    }


def _is_under(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path == root or root in path.parents


def merge_reviewed(
    review_file: Path,
    nlu_dir: Path | None = None,
    heldout: Path | None = None,
    domain: Path | None = None,
) -> MergeResult:
    """Add the entries marked `review: ok` to `<nlu_dir>/reviewed.yml`.

    Refused: examples of a held-out set (`heldout`, default every tests/nlu/heldout*.yml:
    the original and the colloquial slice).
    Skipped: intents not in the domain, examples already in the training data. The
    placeholders of masked data become neutral stand-ins (123456789012, 张三, …).
    """
    nlu_dir = nlu_dir or PROJECT_ROOT / "data" / "nlu"
    heldout_dir = PROJECT_ROOT / "tests" / "nlu"
    heldouts = [heldout] if heldout else sorted(heldout_dir.glob("heldout*.yml"))
    if _is_under(nlu_dir, PROJECT_ROOT / "tests"):
        raise ValueError(f"refusing to write training data under tests/: {nlu_dir}")
    intents = domain_intents(domain)
    target = nlu_dir / "reviewed.yml"
    result = MergeResult(target=target)
    heldout_keys = _keys([h for h in heldouts if h.exists()])
    known = _keys(sorted(nlu_dir.glob("*.yml")))
    masker = Masker()
    for item in _nlu_items(review_file):
        raw_metadata = item.get("metadata")
        metadata = raw_metadata if isinstance(raw_metadata, dict) else {}
        if metadata.get("review") not in ACCEPTED:
            result.not_reviewed += 1
            continue
        intent = str(item["intent"]).strip()
        for raw in _examples(item):
            text = example_text(masker(plain_text(raw)))
            for placeholder, stand_in in STAND_INS.items():
                text = text.replace(placeholder, stand_in)
            key = comparison_key(text)
            if not key:
                continue
            if intent not in intents:
                result.unknown_intent.append((intent, text))
            elif key in heldout_keys:
                result.refused_heldout.append(text)
            elif key in known:
                result.duplicates.append(text)
            else:
                known.add(key)
                result.added.setdefault(intent, []).append(text)
    if result.added:
        _write_reviewed(target, result.added)
    return result


def _write_reviewed(target: Path, added: dict[str, list[str]]) -> None:
    merged: dict[str, list[str]] = {}
    if target.exists():
        for item in _nlu_items(target):
            merged.setdefault(str(item["intent"]), []).extend(_examples(item))
    for intent, texts in added.items():
        merged.setdefault(intent, []).extend(texts)
    header = (
        "Customer messages labelled in review (python -m dianxiaoer.analytics merge-reviewed).\n"
        "Masked personal data was replaced by neutral stand-ins. Edit by re-reviewing, or by\n"
        "hand like any other NLU file; held-out examples must never be added here."
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nlu_yaml(merged, header), encoding="utf-8")
