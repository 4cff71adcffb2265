"""Throughput of one Rasa replica against two behind haproxy (`make bench-scale`).

Each conversation is four REST turns: a lookup request, the order number, the phone's last
four digits (the verification form, then the order answer from the PostgreSQL shop store)
and a thanks. `--concurrency` conversations run at once. "one" sends every turn to replica 1
directly; "two" sends them to the load balancer, which spreads the conversations over both
replicas. Same stack, same stores, same action server; rounds alternate one/two so that
other load on the machine hits both alike, and the best round of each counts.

Without `--lb`/`--replica` the script starts its own stack (scripts/scaled_stack.py: free
ports, fresh PostgreSQL databases, dropped afterwards). Prints a table; `--json` writes it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaled_stack import ScaledStack, services_missing  # noqa: E402

#: Demo orders (order id, the buyer's phone tail) whose lookup is read-only.
ORDERS = [
    ("202611010001", "1234"),
    ("202611010002", "1234"),
    ("202611010003", "5678"),
    ("202611010004", "5678"),
    ("202611010008", "5678"),
]


def conversation(number: int) -> list[str]:
    """The messages of conversation `number`: a verified order lookup, then thanks."""
    order, tail = ORDERS[number % len(ORDERS)]
    return ["查一下订单", order, tail, "谢谢"]


def send(
    base_url: str,
    sender: str,
    message: str,
    session: requests.Session | None = None,
    timeout: float = 60,
) -> list[dict]:
    """One REST turn; the bot messages."""
    post = (session or requests).post
    r = post(
        f"{base_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=timeout,
    )
    r.raise_for_status()
    return r.json()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc; gone = 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def measured(
    load: Callable[[], dict], processes: Callable[[], dict[str, list[int]]] | None
) -> dict:
    """Run `load`; add the CPU milliseconds per turn of each process group to its result.

    The load generator (this process) is counted too, so the figure can be explained on
    any machine.
    """
    groups = processes() if processes else {}
    before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    client = time.process_time()
    result = load()
    turns = max(result["turns"], 1)
    cpu = {name: (cpu_seconds(pids) - before[name]) * 1000 / turns for name, pids in groups.items()}
    cpu["load generator"] = (time.process_time() - client) * 1000 / turns
    result["cpu_ms_per_turn"] = {name: round(ms, 1) for name, ms in cpu.items()}
    # cores the stack actually got: below the machine's count, other work shared the CPU
    result["cores_used"] = round(sum(cpu.values()) * result["turns_per_second"] / 1000, 2)
    return result


def ceiling(result: dict, cores: int) -> dict | None:
    """Turns per second the measured CPU cost allows, and the speed-up that implies.

    One replica can use one core, two replicas two, and everything together at most
    `cores`; the ratio is the best speed-up possible on this machine.
    """
    if "cpu_ms_per_turn" not in result["one"]:
        return None
    rounds = result["all_rounds"]["one"] + result["all_rounds"]["two"]
    mean = {
        name: statistics.mean(r["cpu_ms_per_turn"][name] for r in rounds)
        for name in rounds[0]["cpu_ms_per_turn"]
    }
    total = sum(mean.values())
    one = min(1000 / mean["rasa"], cores * 1000 / total)
    two = min(2 * 1000 / mean["rasa"], cores * 1000 / total)
    return {
        "cpu_ms_per_turn": {k: round(v, 1) for k, v in mean.items()},
        "total_cpu_ms_per_turn": round(total, 1),
        "one_replica_turns_per_second": round(one, 2),
        "two_replicas_turns_per_second": round(two, 2),
        "speedup": round(two / one, 2),
    }


def run_load(urls: list[str], conversations: int, concurrency: int, tag: str) -> dict:
    """Run `conversations` conversations, `concurrency` at a time, turns spread over `urls`.

    Returns turns per second, latency percentiles and the number of wrong answers (a
    verified lookup that does not name its order).
    """
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    turn_counter = itertools.count()
    local = threading.local()

    def one(number: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        sender = f"bench-{tag}-{number}"
        for message in conversation(number):
            url = urls[next(turn_counter) % len(urls)]
            start = time.perf_counter()
            try:
                reply = send(url, sender, message, session)
            except requests.RequestException as exc:
                with lock:
                    errors.append(f"{sender}: {exc}")
                return
            with lock:
                latencies.append(time.perf_counter() - start)
            if message.isdigit() and len(message) == 4:
                order = conversation(number)[1]
                if not any(order in (m.get("text") or "") for m in reply):
                    with lock:
                        errors.append(f"{sender}: answer without {order}: {reply}")

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(conversations)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "turns": len(latencies),
        "seconds": round(elapsed, 2),
        "turns_per_second": round(len(latencies) / elapsed, 2),
        "p50_ms": round(statistics.median(latencies) * 1000) if latencies else None,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000) if latencies else None,
        "errors": errors,
    }


def benchmark(
    lb_url: str,
    replica_url: str,
    all_replicas: list[str],
    conversations: int,
    concurrency: int,
    rounds: int,
    processes: Callable[[], dict[str, list[int]]] | None = None,
) -> dict:
    """Alternate one-replica and two-replica rounds; the best round of each and their ratio.

    `processes` names the stack's process ids by group (rasa, actions, postgres, ...); with
    it each round also records CPU milliseconds per turn, and the result the ceiling they
    imply on this machine's cores.
    """
    tag = f"{os.getpid()}-{int(time.time())}"
    # warm-up: the first turns of a fresh process load caches and open connections
    for i, url in enumerate(all_replicas):
        run_load([url], 3, 3, f"{tag}-warm{i}")
    results: dict[str, list[dict]] = {"one": [], "two": []}
    for r in range(rounds):
        for key, urls in (("one", [replica_url]), ("two", [lb_url])):
            name = f"{tag}-{key}-{r}"
            results[key].append(
                measured(
                    lambda u=urls, n=name: run_load(u, conversations, concurrency, n), processes
                )
            )
    best = {k: max(v, key=lambda x: x["turns_per_second"]) for k, v in results.items()}
    result = {
        "conversations": conversations,
        "turns_per_conversation": len(conversation(0)),
        "concurrency": concurrency,
        "rounds": rounds,
        "cpu_count": os.cpu_count(),
        "load_average_before": os.getloadavg()[0],
        "one": best["one"],
        "two": best["two"],
        "all_rounds": results,
        "speedup": round(best["two"]["turns_per_second"] / best["one"]["turns_per_second"], 2),
    }
    result["cpu_ceiling"] = ceiling(result, os.cpu_count() or 1)
    return result


def report(result: dict) -> str:
    """The result as a small table."""
    lines = [
        f"{result['conversations']} conversations x {result['turns_per_conversation']} turns, "
        f"{result['concurrency']} at a time, best of {result['rounds']} rounds, "
        f"{result['cpu_count']} CPU cores",
        f"{'':14} {'turns/s':>8} {'p50 ms':>7} {'p95 ms':>7}",
    ]
    for key, label in (("one", "one replica"), ("two", "two replicas")):
        r = result[key]
        lines.append(f"{label:14} {r['turns_per_second']:8.2f} {r['p50_ms']:7} {r['p95_ms']:7}")
    lines.append(f"speed-up: {result['speedup']:.2f}x")
    if "cores_used" in result["two"]:
        lines.append(
            f"cores the stack got: one replica {result['one']['cores_used']:.2f}, "
            f"two replicas {result['two']['cores_used']:.2f} of {result['cpu_count']}"
        )
    c = result.get("cpu_ceiling")
    if c:
        parts = ", ".join(f"{k} {v:.0f}" for k, v in c["cpu_ms_per_turn"].items())
        lines.append(f"CPU ms per turn: {parts} (total {c['total_cpu_ms_per_turn']:.0f})")
        lines.append(
            f"ceiling on {result['cpu_count']} cores: one replica "
            f"{c['one_replica_turns_per_second']:.1f} turns/s, two "
            f"{c['two_replicas_turns_per_second']:.1f} turns/s, speed-up {c['speedup']:.2f}x"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark against a running stack or one started for it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lb", help="load balancer URL of a running stack")
    parser.add_argument("--replica", action="append", help="replica URL (twice: both)")
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the result here as JSON")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so a stack started here is stopped and its databases dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if args.lb and args.replica:
        result = benchmark(
            args.lb,
            args.replica[0],
            args.replica,
            args.conversations,
            args.concurrency,
            args.rounds,
        )
    else:
        missing = services_missing()
        if missing:
            print(f"error: {missing}", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory(prefix="dxe-bench-scale-") as tmp:
            print("==> starting the scaled stack (two replicas) on free ports ...", flush=True)
            with ScaledStack(Path(tmp)) as stack:
                print("==> benchmarking", flush=True)
                result = benchmark(
                    stack.lb_url,
                    stack.replica_urls[0],
                    stack.replica_urls,
                    args.conversations,
                    args.concurrency,
                    args.rounds,
                    stack.processes,
                )
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    errors = [e for rounds in result["all_rounds"].values() for r in rounds for e in r["errors"]]
    for error in errors[:10]:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
