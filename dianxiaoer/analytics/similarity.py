"""Grouping of similar questions (character bigrams, Dice similarity).

Chinese questions that differ by a particle, punctuation or script ("运费怎么算",
"運費怎麼算呢？") should land in one group. Texts are compared by their NLU comparison key
(simplified, half-width, no punctuation; `dianxiaoer.nlu.dataset.comparison_key`) split
into character bigrams. Greedy single pass, most frequent first: a text joins the group
whose first text is most similar, if the Dice coefficient 2·|A∩B| / (|A|+|B|) reaches
`threshold`, else it starts a group. Dice rather than Jaccard so that a short question
inside a longer one ("能寄到国外吗" in "我的订单<订单号>能寄到国外吗") still groups. An
inverted bigram index keeps this fast for many distinct texts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from dianxiaoer.nlu.dataset import comparison_key

THRESHOLD = 0.5
EXAMPLES = 3


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of the comparison key (the key itself if shorter than 2)."""
    key = comparison_key(text)
    if len(key) < 2:
        return frozenset([key])
    return frozenset(key[i : i + 2] for i in range(len(key) - 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """2·|a ∩ b| / (|a| + |b|) (0 for two empty sets)."""
    total = len(a) + len(b)
    return 2 * len(a & b) / total if total else 0.0


@dataclass
class Group:
    """Similar texts: the most frequent first, with the message count of all."""

    text: str
    count: int = 0
    texts: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        """JSON form: representative text, total count, distinct texts, a few examples."""
        return {
            "text": self.text,
            "count": self.count,
            "distinct": len(self.texts),
            "examples": [t for t, _ in sorted(self.texts.items(), key=lambda kv: (-kv[1], kv[0]))][
                :EXAMPLES
            ],
        }


def group_similar(counts: Mapping[str, int], threshold: float = THRESHOLD) -> list[Group]:
    """Group texts (text -> message count) by similarity; largest groups first."""
    groups: list[Group] = []
    heads: list[frozenset[str]] = []
    index: dict[str, list[int]] = defaultdict(list)
    for text, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        grams = bigrams(text)
        candidates = {g for gram in grams for g in index.get(gram, ())}
        best, best_score = None, 0.0
        for g in sorted(candidates):  # on a tie the older (larger) group wins
            score = dice(grams, heads[g])
            if score >= threshold and score > best_score:
                best, best_score = g, score
        if best is None:
            best = len(groups)
            groups.append(Group(text))
            heads.append(grams)
            for gram in grams:
                index[gram].append(best)
        groups[best].count += count
        groups[best].texts[text] += count
    return sorted(groups, key=lambda g: (-g.count, g.text))
