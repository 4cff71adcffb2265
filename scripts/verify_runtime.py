"""Check that the Rasa patches' model loading predicts exactly what Rasa's does.

(dianxiaoer/rasa_plugins/rasa_patches.py)

Loads the project model twice, in two processes — once the way Rasa 3.6 loads it (one
training step on one example to create the variables, then the trained weights), once
with the runtime speed-ups installed (variables from one eager prediction, then the
trained weights) — and compares every intent ranking of the held-out parse set of
`make bench` and the TEDPolicy and ensemble predictions over a conversation with forms,
interruptions, fallbacks and a restart. Prints the load times and exits 1 on any
difference. Run: .venv/bin/python scripts/verify_runtime.py [model]
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dump(mode: str, model: str, out: str) -> None:
    """Load `model` (mode `patched` or `rasa`), write its predictions to `out`."""
    sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests" / "unit")]
    if mode == "patched":
        from dianxiaoer.rasa_plugins import rasa_patches as runtime

        runtime.install()
    import bench
    from rasa.core.agent import Agent
    from rasa.shared.core.trackers import DialogueStateTracker

    started = time.perf_counter()
    agent = Agent.load(model)
    result = {"load_s": time.perf_counter() - started, "parse": [], "policy": []}
    # only after loading: the test module imports dianxiaoer.rasa_plugins.tracker_store, which
    # installs the speed-ups (they do not touch an already loaded model)
    from test_runtime import conversation_events

    async def predict() -> None:
        for text in bench.parse_messages(3):
            parsed = await agent.parse_message(text)
            result["parse"].append([(x["name"], x["confidence"]) for x in parsed["intent_ranking"]])
        domain = agent.domain
        ted = [
            node._component
            for node in agent.processor.graph_runner._instantiated_nodes.values()
            if type(node._component).__name__ == "TEDPolicy"
        ]
        tracker = DialogueStateTracker("verify", domain.slots)
        for event in conversation_events():
            tracker.update(event, domain)
            if event.type_name != "action":
                continue
            prediction = agent.processor._predict_next_with_tracker(tracker)
            result["policy"].append([prediction.policy_name, prediction.probabilities])
            for policy in ted:
                probabilities = policy.predict_action_probabilities(tracker, domain).probabilities
                result["policy"].append(["TEDPolicy", probabilities])

    asyncio.run(predict())
    Path(out).write_text(json.dumps(result, default=float))


def main() -> int:
    """Run both loads, compare."""
    model = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "models" / "dianxiaoer.tar.gz")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("rasa", "patched"):
            out = f"{tmp}/{mode}.json"
            subprocess.run(
                [sys.executable, __file__, "--dump", mode, model, out],
                check=True,
                env=env,
                capture_output=True,
            )
            results[mode] = json.loads(Path(out).read_text())
    rasa, patched = results["rasa"], results["patched"]
    print(
        f"model load: Rasa {rasa['load_s']:.1f} s, "
        f"with dianxiaoer.rasa_plugins.rasa_patches {patched['load_s']:.1f} s"
    )
    same_parse = rasa["parse"] == patched["parse"]
    same_policy = rasa["policy"] == patched["policy"]
    ted = sum(1 for name, _ in rasa["policy"] if name == "TEDPolicy")
    print(f"{len(rasa['parse'])} intent rankings identical: {same_parse}")
    print(f"{len(rasa['policy'])} policy predictions ({ted} TEDPolicy) identical: {same_policy}")
    return 0 if same_parse and same_policy else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--dump":
        dump(*sys.argv[2:5])
        sys.exit(0)
    sys.exit(main())
