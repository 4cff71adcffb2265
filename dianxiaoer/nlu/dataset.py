"""Checks on NLU data sets that need no Rasa: overlap between training and held-out."""

from __future__ import annotations

import re
from collections.abc import Iterable

from dianxiaoer.text import normalize

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
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
