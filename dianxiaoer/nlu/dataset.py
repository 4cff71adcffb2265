"""NLU data without Rasa: example text, comparison keys, overlap, and writing NLU YAML.

Both generated NLU files (knowledge questions, reviewed customer messages) are written by
`nlu_yaml`, and every example line by `example_text`, so one rule decides what Rasa would
misread as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dianxiaoer.core.text import normalize

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_PUNCT = re.compile(r"[\s!?,.;:~\-。，、！？；：…～·'\"“”‘’]+")


def plain_text(example: str) -> str:
    """Strip Rasa entity markup: "用[花呗](payment_method)" -> "用花呗"."""
    return _ANNOTATION.sub(r"\1", example)


def comparison_key(example: str) -> str:
    """Key under which two examples count as the same sentence.

    Normalized script, width and repetition, lower case, no punctuation or spaces.
    """
    text = normalize(plain_text(example), max_chars=10_000).text.lower()
    # Punctuation-only messages ("？！？！") are compared as they are, not as "".
    return _PUNCT.sub("", text) or text


def overlap(training: Iterable[str], heldout: Iterable[str]) -> list[str]:
    """Held-out examples that also occur (as the same key) in the training examples."""
    keys = {comparison_key(t) for t in training}
    return [h for h in heldout if comparison_key(h) in keys]


def example_text(text: str) -> str:
    """One line that a Rasa examples block keeps as it is (no markup, no line breaks)."""
    text = _UNSAFE.sub(" ", text)
    # [..](..) would be read as an entity annotation: full-width brackets read the same
    text = text.replace("[", "［").replace("]", "］")
    return re.sub(r"\s+", " ", text).strip()


def nlu_yaml(examples: dict[str, list[str]], header: str = "") -> str:
    """Rasa NLU YAML (format 3.1): intents in name order, `header` lines as comments."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ['version: "3.1"', "nlu:" + ("" if examples else " []")]
    for intent in sorted(examples):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {example_text(e)}" for e in examples[intent]]
    return "\n".join(lines) + "\n"
