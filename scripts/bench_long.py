"""Cost of a turn as a conversation grows, in process: no HTTP, one real action server.

Loads the project model with the project's endpoints (tracker store, NLG, the Rasa
patches), starts an action server on a free port with fresh stores, sends one conversation
of `--turns` messages of `make bench`'s long cycle through `Agent.handle_text` and prints
the median turn time per 50 turns and turns 1-20 against the last 20. `--profile` writes a
cProfile of the last 100 turns (results/long_turns.prof). docs/performance.md cites it.

Run: .venv/bin/python scripts/bench_long.py [--turns 400] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import stack  # noqa: E402
from bench import LONG_CYCLE  # noqa: E402


async def converse(turns: int, profile: cProfile.Profile | None) -> list[float]:
    """Milliseconds of each turn of one conversation (the last 100 profiled if asked)."""
    import logging

    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.log_utils import configure_structlog

    # as `rasa run` does; unconfigured, Rasa's structured log prints every debug line
    logging.basicConfig(level=logging.WARNING)
    configure_structlog(logging.WARNING)

    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    agent = await load_agent(
        model_path=str(ROOT / "models" / "dianxiaoer.tar.gz"), endpoints=endpoints
    )
    latencies = []
    for i in range(turns):
        if profile is not None and i == turns - 100:
            profile.enable()
        started = time.perf_counter()
        await agent.handle_text(LONG_CYCLE[i % len(LONG_CYCLE)], sender_id="long-in-process")
        latencies.append((time.perf_counter() - started) * 1000)
    if profile is not None:
        profile.disable()
    return latencies


def main() -> int:
    """Start the action server, run the conversation, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-long-"))
    port = stack.free_port()
    env = stack.isolated_env(
        tmp,
        port,
        SHOP_POLICY_FILE=str(stack.round_the_clock_policy(tmp)),
        FOLLOWUP_DELAY_SECONDS="7200",
        ACTIONS_TOKEN=stack.actions_token(),
    )
    os.environ.update(env)  # this process is the Rasa server: same settings
    stack.prepare_store(env)
    actions = stack.spawn(stack.actions_command(port), env, tmp / "actions.log")
    try:
        import requests

        stack.wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/health").ok, 60, [actions])
        profile = cProfile.Profile() if args.profile else None
        latencies = asyncio.run(converse(args.turns, profile))
    finally:
        stack.stop([actions])
    blocks = [statistics.median(latencies[i : i + 50]) for i in range(0, len(latencies), 50)]
    print("median turn per 50 turns (ms): " + " / ".join(f"{b:.0f}" for b in blocks))
    first, last = statistics.median(latencies[:20]), statistics.median(latencies[-20:])
    print(f"turns 1-20 {first:.1f} ms, last 20 {last:.1f} ms, last/first {last / first:.2f}")
    if profile is not None:
        out = ROOT / "results" / "long_turns.prof"
        out.parent.mkdir(exist_ok=True)
        profile.dump_stats(out)
        print(f"profile of the last 100 turns: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
