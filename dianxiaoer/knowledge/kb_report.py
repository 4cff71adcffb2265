"""Coverage of the seed documents by the knowledge base (`make kb-report`).

Reads the seed texts (../shared/seeds or SEEDS_DIR), extracts every source item —
glossary terms of seeds 000–002, exam points 62–97 of seed 003, ★ terms of seed 004
with their level — and names the knowledge entry that covers each one.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from dianxiaoer.core.settings import get_settings
from dianxiaoer.knowledge.base import Entry, load_entries
from dianxiaoer.nlu.dataset import comparison_key

_STAR_TERM = re.compile(r"(★+)\s*(\d+)\.\s*([^:：\n]+?)\s*[:：]")
_EXAM_POINT = re.compile(r"(?:^|\s)(\d{2})\.\s+\S")
_GLOSSARY_TERMS = re.compile(
    r"(Pro-active customer care|Follow-up|Feedback|Customer touch-points|"
    r"Customer loyalty|Value proposition|Tracking\s*&\s*(?:amp\.\s*)?learning|"
    r"Best practices\s*/\s*World-class practices)"
)


@dataclass
class SourceItem:
    """One item of a seed document and the entry covering it (if any)."""

    seed: str
    label: str
    level: int | None = None
    entry_id: str | None = None
    note: str = ""


def seeds_dir() -> Path:
    """Where the seed documents are: SEEDS_DIR, else ../shared/seeds beside the project."""
    return get_settings().seeds_dir


def _seed(directory: Path, number: str) -> tuple[str, str]:
    path = next(directory.glob(f"{number}_*.txt"))
    return path.name, path.read_text(encoding="utf-8")


def source_items(directory: Path) -> list[SourceItem]:
    """Every item the seeds define, in document order."""
    items: list[SourceItem] = []
    for number in ("000", "001", "002"):
        name, text = _seed(directory, number)
        seen = []
        for match in _GLOSSARY_TERMS.finditer(text):
            term = re.sub(r"\s*&\s*(?:amp\.\s*)?", " & ", match.group(1))
            if term not in seen:
                seen.append(term)
        items += [SourceItem(name, term) for term in seen]
    name, text = _seed(directory, "003")
    for point in dict.fromkeys(int(n) for n in _EXAM_POINT.findall(text)):
        if 62 <= point <= 97:
            items.append(SourceItem(name, f"考点 {point}"))
    name, text = _seed(directory, "004")
    for stars, number, term in _STAR_TERM.findall(text):
        items.append(SourceItem(name, term.strip(), level=len(stars), note=f"#{number}"))
    return items


def cover(items: list[SourceItem], entries: list[Entry]) -> list[SourceItem]:
    """Fill in `entry_id` for each item from the entries' numbers, names and levels."""
    by_number = {e.number: e for e in entries if e.kind == "exam"}
    by_name: dict[str, Entry] = {}
    for entry in entries:
        if entry.kind in {"glossary", "term"}:
            for name in entry.names:
                by_name.setdefault(comparison_key(name), entry)
    for item in items:
        if item.label.startswith("考点 "):
            found = by_number.get(int(item.label.split()[1]))
        else:
            found = by_name.get(comparison_key(item.label))
        if found and (item.level is None or found.level == item.level):
            item.entry_id = found.id
    return items


def report(directory: Path | None = None) -> tuple[str, int]:
    """The coverage table and the number of uncovered items."""
    items = cover(source_items(directory or seeds_dir()), load_entries())
    lines = [f"{'seed':<28}{'item':<44}{'level':<7}entry"]
    for item in items:
        level = "★" * item.level if item.level else ""
        label = f"{item.label} {item.note}".strip()
        lines.append(f"{item.seed:<28}{label:<44}{level:<7}{item.entry_id or 'UNCOVERED'}")
    missing = sum(1 for i in items if not i.entry_id)
    per_seed: dict[str, int] = {}
    for item in items:
        per_seed[item.seed] = per_seed.get(item.seed, 0) + 1
    lines.append("items per seed: " + ", ".join(f"{k}: {v}" for k, v in per_seed.items()))
    lines.append(f"{len(items)} source items, {len(items) - missing} covered, {missing} uncovered")
    return "\n".join(lines), missing


def main() -> int:
    """Print the report; exit 1 if an item is uncovered."""
    text, missing = report()
    print(text)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
