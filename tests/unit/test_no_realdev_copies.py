"""No sentence of the real-message development set is copied into the project.

`../shared/realdev/cases.yml` (real shoppers' messages from public corpora) is for
measuring only (`make eval-real`). This test compares every example the project trains or
is evaluated on — Rasa NLU data, both held-out slices, the knowledge files' paraphrases and
complaint messages, the FAQ and complaint held-out sets — with every message of that set,
after normalization (traditional → simplified, no spaces or punctuation, lower case):
equal, within two edits for messages of eight characters or more, or sharing a clause of
six characters or more (real messages often join several messages in one), fails. Skipped when
the set is not there (a clone without ../shared).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import pytest
import yaml

from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import normalize

REALDEV = PROJECT_ROOT.parent / "shared" / "realdev" / "cases.yml"
#: Below this length only an exact copy counts: "你好在吗" is everyone's, not the corpus's.
NEAR_MIN_CHARS = 8
#: A clause (between spaces or punctuation) of a real message this long, found as a clause
#: of a project sentence, is a copy too: a real message is often several messages in one.
CLAUSE_MIN_CHARS = 6
_CLAUSE_BREAK = re.compile(r"[\s\u3000]+|[^\w]+")
MAX_EDITS = 2

SOURCES = (
    "data/nlu/*.yml",
    "tests/nlu/*.yml",
    "knowledge/*.yml",
    "tests/knowledge/*.yml",
    "tests/complaints/*.yml",
)


def key(text: str) -> str:
    """Comparison form: simplified script, no whitespace or punctuation, lower case."""
    simplified = normalize(str(text)).text
    return "".join(
        c for c in simplified.lower() if not c.isspace() and unicodedata.category(c)[0] != "P"
    )


def _strings(node) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


_ANNOTATION = re.compile(r"\[([^\]]*)\]\{[^}]*\}|\[([^\]]*)\]\([^)]*\)")


def project_texts() -> Iterator[tuple[str, str]]:
    """(file, text) of every example sentence in the project's data files."""
    for pattern in SOURCES:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            for value in _strings(data):
                # NLU example blocks: one example per "- " line, entity markup removed
                lines = value.splitlines() if "\n" in value else [value]
                for line in lines:
                    line = line.strip().removeprefix("- ").strip()
                    line = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line)
                    if line:
                        yield str(path.relative_to(PROJECT_ROOT)), line


def within(a: str, b: str, limit: int) -> bool:
    """Levenshtein distance of a and b is at most `limit` (banded, early exit)."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        low = max(1, i - limit)
        high = min(len(b), i + limit)
        if low > 1:
            current[low - 1] = limit + 1
        for j in range(low, high + 1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ca != b[j - 1]),
            )
        if high < len(b):
            current[high + 1 :] = [limit + 1] * (len(b) - high)
        if min(current[low - 1 : high + 1]) > limit:
            return False
        previous = current
    return previous[len(b)] <= limit


def clauses(text: str) -> set[str]:
    """The comparison keys of a text's clauses that are long enough to be distinctive."""
    found = {key(part) for part in _CLAUSE_BREAK.split(normalize(str(text)).text)}
    return {c for c in found if len(c) >= CLAUSE_MIN_CHARS and not c.isascii()}


def test_within():
    assert within("快递到哪了", "快递到哪儿了", 2)
    assert within("abcdef", "abxdef", 1)
    assert not within("abcdefgh", "hgfedcba", 2)
    assert within("", "ab", 2) and not within("", "abc", 2)


@pytest.mark.skipif(not REALDEV.exists(), reason="../shared/realdev not present")
def test_no_real_message_is_copied_into_the_project():
    cases = yaml.safe_load(REALDEV.read_text(encoding="utf-8"))
    real = {key(case["say"]) for case in cases["single"] if case.get("say")}
    by_length: dict[int, list[str]] = {}
    for text in real:
        by_length.setdefault(len(text), []).append(text)
    real_clauses = set().union(*(clauses(c["say"]) for c in cases["single"] if c.get("say")))
    copies = []
    for source, text in project_texts():
        if clauses(text) & real_clauses:
            copies.append((source, text))
            continue
        mine = key(text)
        if len(mine) < 5 or (mine.isascii() and len(mine) < NEAR_MIN_CHARS):
            continue  # 你好呀 / hello: everyone's words
        if mine in real:
            copies.append((source, text))
            continue
        if len(mine) < NEAR_MIN_CHARS:
            continue
        for length in range(len(mine) - MAX_EDITS, len(mine) + MAX_EDITS + 1):
            if any(within(mine, other, MAX_EDITS) for other in by_length.get(length, ())):
                copies.append((source, text))
                break
    assert not copies, f"{len(copies)} real messages copied (or nearly): {copies[:20]}"
