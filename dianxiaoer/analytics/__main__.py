"""`python -m dianxiaoer.analytics report|review-unanswered|merge-reviewed` (see --help).

report             HTML report with charts: results/report/index.html, PNGs, metrics.json
review-unanswered  unanswered and low-confidence messages as Rasa NLU YAML for labelling
merge-reviewed     add the labelled (`review: ok`) entries to data/nlu/reviewed.yml
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dianxiaoer.analytics.sources import Filters, parse_day


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(parse_day(args.since), parse_day(args.until), args.channel or None)


def _add_scope(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", help="first day, YYYY-MM-DD (Asia/Shanghai)")
    parser.add_argument("--until", help="last day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--channel", help="input channel, e.g. socketio or rest")
    parser.add_argument("--tracker", help="tracker store URL (default: TRACKER_URL / TRACKER_DB)")
    parser.add_argument("--shop", help="shop store URL (default: DATABASE_URL / SHOP_DB)")


def _report(args: argparse.Namespace) -> int:
    from dianxiaoer.analytics.metrics import compute_metrics
    from dianxiaoer.analytics.report import write_report

    started = time.perf_counter()
    metrics = compute_metrics(_filters(args), args.tracker, args.shop)
    computed = time.perf_counter()
    paths = write_report(metrics, Path(args.out))
    done = time.perf_counter()
    t, r = metrics["totals"], metrics["resolution"]
    print(
        f"==> report: {paths['html']} ({len(paths) - 2} charts) — {t['conversations']} "
        f"conversations, resolution {r['rate']:.1%}, handoff {metrics['handoffs']['rate']:.1%}, "
        f"fallback {metrics['fallbacks']['rate']:.1%}; metrics {computed - started:.2f} s, "
        f"charts and page {done - computed:.2f} s"
    )
    return 0


def _review(args: argparse.Namespace) -> int:
    from dianxiaoer.analytics.review import export_review

    out = Path(args.out)
    entries = export_review(
        out,
        _filters(args),
        args.tracker,
        args.shop,
        Path(args.log) if args.log else None,
        args.max_confidence,
    )
    messages = sum(c.count for c in entries)
    print(f"==> review file: {out} ({len(entries)} distinct messages, {messages} in all)")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from dianxiaoer.analytics.review import merge_reviewed

    result = merge_reviewed(
        Path(args.file),
        Path(args.nlu_dir) if args.nlu_dir else None,
        Path(args.heldout) if args.heldout else None,
    )
    added = sum(len(v) for v in result.added.values())
    print(
        f"==> {added} examples added to {result.target}"
        + (
            " (" + ", ".join(f"{k} {len(v)}" for k, v in sorted(result.added.items())) + ")"
            if added
            else ""
        )
    )
    for text in result.refused_heldout:
        print(f"    refused (in the held-out set): {text}")
    for intent, text in result.unknown_intent:
        print(f"    skipped (no intent {intent!r} in the domain): {text}")
    if result.duplicates:
        print(f"    {len(result.duplicates)} already in the training data")
    if result.not_reviewed:
        print(f"    {result.not_reviewed} entries not marked `review: ok`")
    if added:
        print("    next: make validate && make train")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(
        prog="python -m dianxiaoer.analytics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="HTML report with charts")
    _add_scope(report)
    report.add_argument("--out", default="results/report", help="output directory")
    review = commands.add_parser("review-unanswered", help="export messages for labelling")
    _add_scope(review)
    review.add_argument("--out", default="results/review/unanswered.yml")
    review.add_argument("--log", help="unanswered log (default: UNANSWERED_LOG)")
    review.add_argument(
        "--max-confidence",
        type=float,
        default=0.7,
        help="also export messages whose best intent scored below this [0.7]",
    )
    merge = commands.add_parser("merge-reviewed", help="merge labelled entries into data/nlu")
    merge.add_argument("file", help="the reviewed file")
    merge.add_argument("--nlu-dir", help="training data directory [data/nlu]")
    merge.add_argument("--heldout", help="held-out set never to add [tests/nlu/heldout.yml]")
    args = parser.parse_args(argv)
    try:
        handler = {"report": _report, "review-unanswered": _review, "merge-reviewed": _merge}
        return handler[args.command](args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
