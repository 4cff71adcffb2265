"""Knowledge retrieval latency over 1,000 queries (a benchmark, not a test).

`make bench-kb` — prints p50/p95/p99 in milliseconds and writes results/bench_retrieval.json.
"""

import json
import statistics
import time
from pathlib import Path

import yaml

from dianxiaoer.core.text import to_traditional
from dianxiaoer.knowledge.base import get_knowledge_base


def queries(kb, n: int = 1000) -> list[str]:
    """A mix of held-out FAQ questions, entry names (simplified, traditional, English)."""
    held = yaml.safe_load(Path("tests/knowledge/faq_heldout.yml").read_text(encoding="utf-8"))
    pool = [q for qs in held.values() for q in qs]
    for e in kb.entries:
        pool += [f"什么是{e.title}", to_traditional(e.title)] + ([e.title_en] if e.title_en else [])
    return [pool[i % len(pool)] for i in range(n)]


def main() -> None:
    """Run the benchmark."""
    kb = get_knowledge_base()
    qs = queries(kb)
    kb.search(qs[0])  # warm up jieba and OpenCC
    timings = []
    for q in qs:
        start = time.perf_counter()
        kb.search(q, limit=3)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    result = {
        "queries": len(qs),
        "entries": len(kb.entries),
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 3),
        "p99_ms": round(timings[int(0.99 * len(timings)) - 1], 3),
        "mean_ms": round(statistics.fmean(timings), 3),
    }
    Path("results").mkdir(exist_ok=True)
    Path("results/bench_retrieval.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
