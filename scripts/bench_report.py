"""Benchmark of `make report` on a large store (make bench-report).

Generates N conversations (default 10,000; a mix of FAQ answers, order questions,
fallbacks, handoffs with agent replies, complaints, delays, returns, ratings and
training sessions) into a temporary SQLite tracker store in Rasa's `events` schema and a
temporary shop store, then times `python -m dianxiaoer.analytics report` on them as a
separate process (what `make report` runs) and prints the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Generate, then time the report command."""
    from synthetic_analytics import generate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="conversations [10000]")
    parser.add_argument("--keep", help="keep the stores and the report in this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        tracker, shop = work / "tracker.db", work / "shop.db"
        for path in (tracker, shop):
            path.unlink(missing_ok=True)
        started = time.perf_counter()
        counts = generate(args.n, f"sqlite:///{tracker}", f"sqlite:///{shop}")
        generated = time.perf_counter() - started
        import sqlite3

        with sqlite3.connect(tracker) as conn:
            events = conn.execute("select count(*) from events").fetchone()[0]
        print(
            f"==> generated {args.n} conversations ({events} events, "
            f"{tracker.stat().st_size / 1e6:.1f} MB tracker store) in {generated:.1f} s: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TRACKER_DB": str(tracker),
            "SHOP_DB": str(shop),
        }
        env.pop("DATABASE_URL", None)
        env.pop("TRACKER_URL", None)
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "dianxiaoer.analytics", "report", "--out", str(work / "report")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        print(run.stdout.strip())
        if run.returncode:
            print(run.stderr, file=sys.stderr)
            return run.returncode
        print(f"==> report over {args.n} conversations: {elapsed:.1f} s (whole command)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
