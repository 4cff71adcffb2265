"""Benchmark of the project against a stock Rasa 3.6 configuration (make bench).

Both assistants run on this machine, one after the other, with the same domain, NLU data
and stories, the same action server code and each its own fresh SQLite tracker store and
shop store:

- project: config.yml, endpoints.yml, models/dianxiaoer.tar.gz (scripts/train.sh);
- stock:   config/stock/config.yml (the `rasa init` default pipeline and policies),
           config/stock/endpoints.yml, models/stock/stock.tar.gz (trained here when its
           inputs changed; content-hash stamp models/stock/stock.sha256).

Measured per assistant: time from process start to the first answered REST message, NLU
parse p50/p95 (`POST /model/parse`, held-out messages), REST turn p50/p95 at concurrency 1
and 8 over a fixed message mix (greetings, FAQ, order questions with verification,
complaints, products) on distinct senders, sustained turns/s at concurrency 8, resident
memory of the Rasa process (after warm-up, after the load, peak), training time, and the
cost of a turn at the end of a 400-turn conversation against its start. Every repeat
starts fresh servers; the figures are medians over the repeats.

Writes results/bench.json and results/bench.png and prints the table with the ratios
project/stock and the targets. `--profile` instead records py-spy flame graphs of both
load shapes (results/profile_<system>_<load>.svg) and prints their top frames.

Environment: BENCH_TRAIN=1 trains both models afresh into temporary directories (Rasa's
training cache off) and reports those times; by default the times recorded at the last
training are reused (results/bench_train.json, models/<name>.train.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import html
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests
import stack  # scripts/stack.py, the server launcher shared with the tests
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / os.environ.get("VENV", ".venv") / "bin"
ABIN = ROOT / os.environ.get("ACTIONS_VENV", ".venv-actions") / "bin"
RESULTS = ROOT / "results"
TRAIN_RECORD = RESULTS / "bench_train.json"
TOKEN = "bench-api-token"

SYSTEMS = {
    "project": {
        "config": ROOT / "config.yml",
        "endpoints": ROOT / "endpoints.yml",
        "model": ROOT / os.environ.get("MODEL_DIR", "models") / "dianxiaoer.tar.gz",
    },
    # the project's model and config with the endpoints from before the benchmark's
    # optimizations (the frozen copy the stock assistant uses): `--systems project
    # project-baseline` measures what dianxiaoer/rasa_plugins/rasa_patches.py changed
    "project-baseline": {
        "config": ROOT / "config.yml",
        "endpoints": ROOT / "config" / "stock" / "endpoints.yml",
        "model": ROOT / os.environ.get("MODEL_DIR", "models") / "dianxiaoer.tar.gz",
    },
    "stock": {
        "config": ROOT / "config" / "stock" / "config.yml",
        "endpoints": ROOT / "config" / "stock" / "endpoints.yml",
        "model": ROOT / "models" / "stock" / "stock.tar.gz",
    },
}

# Short conversations of the load mix, each on a new sender. The order numbers and phone
# tails are the demo store's (dianxiaoer/store/demo_shop.yml).
SCRIPTS = [
    ["你好", "七天无理由退货是怎么算的", "谢谢"],
    ["在吗", "可以用花呗分期吗", "一般发什么快递"],
    ["帮我查一下订单", "202611010001", "1234"],
    ["发货也太慢了吧，有点失望", "谢谢"],
    ["蓝牙耳机多少钱", "什么是宝贝描述"],
    ["我想退货", "202611010003", "5678"],
]
# One sender, 400 turns: single-turn questions only, so no form or handoff state builds up
# and the cost difference is the conversation's length alone.
LONG_CYCLE = [
    "你好",
    "七天无理由退货是怎么算的",
    "可以用花呗分期吗",
    "一般发什么快递",
    "蓝牙耳机多少钱",
    "什么是宝贝描述",
    "谢谢",
]

TARGETS = {
    "turn_p50_c1_ms": ("ratio", 0.6, "turn p50 <= 0.6x stock"),
    "rss_warm_mb": ("ratio", 0.8, "memory <= 0.8x stock"),
    "cold_start_s": ("absolute", 15.0, "cold start <= 15 s"),
    "long_over_short": ("absolute", 1.5, "turn 381-400 <= 1.5x turn 1-20"),
}

ROWS = [
    ("nlu_parse_p50_ms", "NLU parse p50 (ms)"),
    ("nlu_parse_p95_ms", "NLU parse p95 (ms)"),
    ("turn_p50_c1_ms", "REST turn p50, c=1 (ms)"),
    ("turn_p95_c1_ms", "REST turn p95, c=1 (ms)"),
    ("turn_p50_c8_ms", "REST turn p50, c=8 (ms)"),
    ("turn_p95_c8_ms", "REST turn p95, c=8 (ms)"),
    ("turns_per_s_c8", "sustained turns/s, c=8"),
    ("rss_warm_mb", "RSS after warm-up (MB)"),
    ("rss_after_load_mb", "RSS after the load (MB)"),
    ("rss_peak_mb", "RSS peak (MB)"),
    ("train_s", "training time (s)"),
    ("cold_start_s", "start to first answer (s)"),
    ("long_first20_ms", "400-turn conv.: turns 1-20 p50 (ms)"),
    ("long_last20_ms", "400-turn conv.: turns 381-400 p50 (ms)"),
    ("long_over_short", "long/short turn cost"),
    ("long_events", "tracker events after 400 turns"),
]


# --------------------------------------------------------------------------- helpers


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (linear interpolation) of values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def proc_mb(pid: int, field: str) -> float:
    """VmRSS / VmHWM of a process and its children in MB (children: Sanic workers)."""
    total = 0.0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def children(pid: int) -> list[int]:
    """Direct and indirect child pids of pid."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                child = int(stat.parent.name)
                found.append(child)
                todo.append(child)
    return found


def content_hash(paths: list[Path]) -> str:
    """sha256 over the files' relative paths and contents, in a stable order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stock_inputs() -> list[Path]:
    """What the stock model is built from."""
    files = [SYSTEMS["stock"]["config"], ROOT / "domain.yml", ROOT / "requirements.lock"]
    return files + sorted(p for p in (ROOT / "data").rglob("*") if p.is_file())


#: Quiet logs in every server and training process.
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def base_env() -> dict[str, str]:
    """Environment shared by every server and training process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", **QUIET}
    env.pop("DATABASE_URL", None)
    return env


# --------------------------------------------------------------------------- training


def read_train_records() -> dict:
    """Training times recorded so far, per system."""
    records = json.loads(TRAIN_RECORD.read_text()) if TRAIN_RECORD.exists() else {}
    # scripts/train.sh records the project model's training next to the model
    sh_record = ROOT / os.environ.get("MODEL_DIR", "models") / "dianxiaoer.train.json"
    if sh_record.exists():
        rec = json.loads(sh_record.read_text())
        if rec.get("date", "") > records.get("project", {}).get("date", ""):
            records["project"] = {**rec, "source": "scripts/train.sh"}
    return records


def write_train_record(name: str, record: dict) -> None:
    """Remember a training time for later runs."""
    records = json.loads(TRAIN_RECORD.read_text()) if TRAIN_RECORD.exists() else {}
    records[name] = record
    RESULTS.mkdir(exist_ok=True)
    TRAIN_RECORD.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n")


def timed_train(name: str, out: Path, model_name: str) -> dict:
    """Train `name` into out/<model_name>.tar.gz, cold (Rasa's cache off); the timing."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**base_env(), "RASA_MAX_CACHE_SIZE": "0"}
    cmd = [
        str(BIN / "rasa"),
        "train",
        "--config",
        str(SYSTEMS[name]["config"]),
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(out),
        "--fixed-model-name",
        model_name,
        "--quiet",
    ]
    print(f"==> training {name} into {out} (cold, Rasa cache off)", flush=True)
    load_before = loadavg()
    started = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"training {name} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    print(f"    trained in {seconds:.0f} s", flush=True)
    return {
        "seconds": round(seconds, 1),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "load_before": load_before,
        "load_after": loadavg(),
        "command": " ".join(cmd[1:]),
    }


def ensure_stock_model() -> None:
    """Train the stock model when its inputs changed (hash stamp), recording the time."""
    model = SYSTEMS["stock"]["model"]
    stamp = model.with_suffix("").with_suffix(".sha256")
    want = content_hash(stock_inputs())
    if model.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return
    record = timed_train("stock", model.parent, "stock")
    stamp.write_text(want + "\n")
    write_train_record("stock", {**record, "source": "scripts/bench.py (stock inputs changed)"})


def project_model_is_current() -> bool:
    """Whether models/ holds the model of today's data: scripts/train.sh's own stamp."""
    want = subprocess.run(
        ["scripts/train.sh", "--stamp"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    stamp = ROOT / "models" / "dianxiaoer.sha256"
    return stamp.exists() and stamp.read_text().strip() == want


# --------------------------------------------------------------------------- servers


class Servers:
    """The action server and Rasa server of one assistant, on free ports, fresh stores."""

    def __init__(self, name: str, model: Path, tmp: Path) -> None:
        self.name, self.model, self.tmp = name, model, tmp
        self.rasa_port, self.actions_port = stack.free_port(), stack.free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        # agents on duty around the clock (as in the tests), so the replies do not depend
        # on the hour the benchmark runs at
        policy = stack.round_the_clock_policy(tmp)
        self.env = stack.isolated_env(
            tmp,
            self.actions_port,
            **QUIET,
            SHOP_POLICY_FILE=str(policy),
            # the 回访 reminder stays out of the measured minutes
            FOLLOWUP_DELAY_SECONDS="7200",
        )
        self.procs: list[subprocess.Popen] = []
        self.rasa: subprocess.Popen | None = None
        # profile mode: called with the Rasa pid right after its start (py-spy attach)
        self.on_start = None
        self.spy = None

    def start_actions(self) -> None:
        """Prepare the shop store and start the action server; wait for /health."""
        stack.prepare_store(self.env)
        actions = stack.spawn(
            stack.actions_command(self.actions_port), self.env, self.tmp / "actions.log"
        )
        self.procs.append(actions)
        stack.wait_until(
            lambda: requests.get(f"http://127.0.0.1:{self.actions_port}/health").ok,
            120,
            [actions],
            self.tmp,
            interval=0.3,
        )

    def start_rasa(self) -> float:
        """Start Rasa; seconds from process start to the first answered REST message."""
        cmd = stack.rasa_command(
            self.model, self.rasa_port, TOKEN, endpoints=SYSTEMS[self.name]["endpoints"]
        )
        started = time.perf_counter()
        self.rasa = stack.spawn(cmd, self.env, self.tmp / "rasa.log")
        self.procs.append(self.rasa)
        if self.on_start:
            self.spy = self.on_start(self.rasa.pid)
        body = {"sender": f"cold-{uuid.uuid4().hex[:8]}", "message": "你好"}
        while True:
            if self.rasa.poll() is not None:
                raise RuntimeError(f"{self.name} Rasa exited:\n" + tail(self.tmp / "rasa.log"))
            try:
                r = requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
                if r.ok and r.json():
                    return time.perf_counter() - started
            except requests.RequestException:
                pass
            if time.perf_counter() - started > 300:
                raise RuntimeError(f"{self.name} Rasa did not answer in 300 s")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM both servers (their process groups), SIGKILL after 20 s."""
        stack.stop(self.procs)


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --------------------------------------------------------------------------- load


def turn(session: requests.Session, url: str, sender: str, text: str) -> float:
    """One REST turn; its latency in ms."""
    started = time.perf_counter()
    r = session.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120
    )
    r.raise_for_status()
    return (time.perf_counter() - started) * 1000


def run_scripts(url: str, concurrency: int, *, turns: int = 0, seconds: float = 0) -> dict:
    """Play SCRIPTS on fresh senders from `concurrency` threads.

    Stops after `turns` turns in all, or after `seconds` (a script in progress finishes).
    """
    latencies: list[float] = []
    lock = threading.Lock()
    counter = {"next": 0}
    deadline = time.perf_counter() + seconds if seconds else None
    errors: list[str] = []

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                index = counter["next"]
                counter["next"] += 1
                if turns and len(latencies) >= turns:
                    return
            if deadline and time.perf_counter() >= deadline:
                return
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for text in SCRIPTS[index % len(SCRIPTS)]:
                try:
                    ms = turn(session, url, sender, text)
                except requests.RequestException as exc:
                    errors.append(str(exc))
                    return
                with lock:
                    latencies.append(ms)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed turns, first: {errors[0]}")
    return {"latencies": latencies, "elapsed": elapsed, "turns": len(latencies)}


def parse_messages(per_intent: int = 3) -> list[str]:
    """A fixed set of held-out messages: the first `per_intent` of every intent."""
    data = yaml.safe_load((ROOT / "tests" / "nlu" / "heldout.yml").read_text(encoding="utf-8"))
    messages = []
    for block in data["nlu"]:
        if "intent" not in block:
            continue
        examples = [
            re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", line[2:]).strip()
            for line in block["examples"].splitlines()
            if line.startswith("- ")
        ]
        messages += examples[:per_intent]
    return messages


def measure_parse(url: str, messages: list[str], passes: int) -> list[float]:
    """Latencies (ms) of POST /model/parse over messages, `passes` times."""
    session = requests.Session()
    latencies = []
    for _ in range(passes):
        for text in messages:
            started = time.perf_counter()
            r = session.post(f"{url}/model/parse?token={TOKEN}", json={"text": text}, timeout=60)
            r.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def measure_long(url: str, turns: int) -> dict:
    """One sender, `turns` turns; latencies of each and the tracker's size at the end."""
    session = requests.Session()
    sender = f"long-{uuid.uuid4().hex[:12]}"
    latencies = [turn(session, url, sender, LONG_CYCLE[i % len(LONG_CYCLE)]) for i in range(turns)]
    tracker = session.get(
        f"{url}/conversations/{sender}/tracker?token={TOKEN}&include_events=ALL", timeout=60
    ).json()
    return {"latencies": latencies, "events": len(tracker.get("events") or [])}


# --------------------------------------------------------------------------- one run


def measure_system(name: str, args, log) -> dict:
    """Start fresh servers for `name`, measure everything once, stop them."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmpdir:
        servers = Servers(name, SYSTEMS[name]["model"], Path(tmpdir))
        try:
            servers.start_actions()
            out: dict = {"load_start": loadavg()}
            out["cold_start_s"] = servers.start_rasa()
            pid = servers.rasa.pid
            log(f"  {name}: first answer after {out['cold_start_s']:.1f} s")
            run_scripts(servers.url, 1, turns=2 * sum(map(len, SCRIPTS)))  # warm-up
            out["rss_warm_mb"] = proc_mb(pid, "VmRSS")
            parse = measure_parse(servers.url, parse_messages(), args.parse_passes)
            out["nlu_parse_p50_ms"], out["nlu_parse_p95_ms"] = pct(parse, 50), pct(parse, 95)
            c1 = run_scripts(servers.url, 1, turns=args.turns)
            out["turn_p50_c1_ms"] = pct(c1["latencies"], 50)
            out["turn_p95_c1_ms"] = pct(c1["latencies"], 95)
            log(
                f"  {name}: parse p50 {out['nlu_parse_p50_ms']:.0f} ms, turn c=1 p50 "
                f"{out['turn_p50_c1_ms']:.0f} ms ({c1['turns']} turns)"
            )
            c8 = run_scripts(servers.url, 8, seconds=args.seconds)
            out["turn_p50_c8_ms"] = pct(c8["latencies"], 50)
            out["turn_p95_c8_ms"] = pct(c8["latencies"], 95)
            out["turns_per_s_c8"] = c8["turns"] / c8["elapsed"]
            out["rss_after_load_mb"] = proc_mb(pid, "VmRSS")
            log(
                f"  {name}: c=8 {out['turns_per_s_c8']:.1f} turns/s, p50 "
                f"{out['turn_p50_c8_ms']:.0f} ms ({c8['turns']} turns in {c8['elapsed']:.0f} s)"
            )
            if args.long_turns:
                long = measure_long(servers.url, args.long_turns)
                lat = long["latencies"]
                out["long_first20_ms"] = statistics.median(lat[:20])
                out["long_last20_ms"] = statistics.median(lat[-20:])
                out["long_over_short"] = out["long_last20_ms"] / out["long_first20_ms"]
                out["long_events"] = long["events"]
                out["long_latencies_ms"] = [round(x, 1) for x in lat]
                log(
                    f"  {name}: long conversation turns 1-20 {out['long_first20_ms']:.0f} ms,"
                    f" last 20 {out['long_last20_ms']:.0f} ms, {long['events']} events"
                )
            out["rss_peak_mb"] = proc_mb(pid, "VmHWM")
            out["load_end"] = loadavg()
            return out
        finally:
            servers.stop()


# --------------------------------------------------------------------------- profile


def profile(args, log) -> None:
    """py-spy profiles of the start-up, the short-conversation load and the long one."""
    for name in args.systems:
        with tempfile.TemporaryDirectory(prefix=f"bench-prof-{name}-") as tmpdir:
            servers = Servers(name, SYSTEMS[name]["model"], Path(tmpdir))
            try:
                servers.start_actions()
                servers.on_start = functools.partial(spy_start, name, "startup")
                servers.start_rasa()
                spy_stop(servers.spy, log, args.top)
                run_scripts(servers.url, 1, turns=2 * sum(map(len, SCRIPTS)))
                for load in ("short", "long"):
                    spy = spy_start(name, load, servers.rasa.pid)
                    time.sleep(1)
                    if load == "short":
                        run_scripts(servers.url, 8, seconds=args.seconds)
                    else:
                        measure_long(servers.url, args.long_turns)
                    spy_stop(spy, log, args.top)
            finally:
                servers.stop()


def spy_start(name: str, load: str, pid: int) -> tuple[subprocess.Popen, Path]:
    """Attach py-spy (collapsed stacks, 50 Hz, non-blocking) to pid."""
    raw = RESULTS / f"profile_{name}_{load}.txt"
    proc = subprocess.Popen(
        [str(BIN / "py-spy"), "record", "--format", "raw", "-o", str(raw), "--pid", str(pid)]
        + ["--rate", "50", "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, raw


def spy_stop(spy: tuple[subprocess.Popen, Path], log, top: int) -> None:
    """Stop py-spy, render the flame graph SVG next to the stacks, log the top frames."""
    proc, raw = spy
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    stacks = read_stacks(raw)
    svg = raw.with_suffix(".svg")
    flamegraph(stacks, svg, raw.stem)
    log(f"==> {svg.relative_to(ROOT)} ({sum(stacks.values())} samples)")
    for line in top_frames(stacks, top):
        log("    " + line)


def read_stacks(raw: Path) -> dict[tuple[str, ...], int]:
    """py-spy's raw format: `frame;frame;... count` per line, root first."""
    stacks: dict[tuple[str, ...], int] = defaultdict(int)
    if raw.exists():
        for line in raw.read_text(errors="replace").splitlines():
            path, _, count = line.rpartition(" ")
            if path and count.isdigit():
                stacks[tuple(path.split(";"))] += int(count)
    return stacks


def short(frame: str) -> str:
    """`func (site-packages/pkg/mod.py:12)` -> `func (pkg/mod.py:12)`."""
    return re.sub(r"\(/[^)]*?/(site-packages|lib/python3\.\d+)/", "(", frame)


def top_frames(stacks: dict[tuple[str, ...], int], top: int) -> list[str]:
    """Functions by inclusive share (each counted once per sample), with self share."""
    total = sum(stacks.values()) or 1
    inclusive: dict[str, int] = defaultdict(int)
    own: dict[str, int] = defaultdict(int)
    for frames, n in stacks.items():
        for frame in {short(f) for f in frames}:
            inclusive[frame] += n
        own[short(frames[-1])] += n
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    lines = [
        f"{100 * n / total:5.1f}% incl {100 * own[f] / total:5.1f}% self  {f}" for f, n in ranked
    ]
    lines.append("top self:")
    for f, n in sorted(own.items(), key=lambda kv: -kv[1])[: top // 2]:
        lines.append(f"{100 * n / total:5.1f}% self  {f}")
    return lines


def flamegraph(stacks: dict[tuple[str, ...], int], svg: Path, title: str) -> None:
    """A plain icicle flame graph (root on top) with a tooltip per frame."""
    tree: dict = {}
    for frames, n in stacks.items():
        node = tree
        for frame in frames:
            entry = node.setdefault(short(frame), [0, {}])
            entry[0] += n
            node = entry[1]
    total = sum(stacks.values()) or 1
    width, row = 1600.0, 16
    rects: list[str] = []
    depth_max = 0

    def draw(node: dict, x: float, depth: int) -> None:
        nonlocal depth_max
        depth_max = max(depth_max, depth)
        for frame, (n, kids) in sorted(node.items()):
            w = width * n / total
            if w >= 0.3:
                label = html.escape(frame)
                hue = 20 + (hash(frame.split(" ")[0]) % 40)
                text = html.escape(frame[: int(w / 7)]) if w > 30 else ""
                rects.append(
                    f"<g><title>{label} ({n} samples, {100 * n / total:.1f}%)</title>"
                    f'<rect x="{x:.1f}" y="{20 + depth * row}" width="{w:.1f}" height="{row - 1}"'
                    f' fill="hsl({hue},90%,60%)"/><text x="{x + 2:.1f}" y="{31 + depth * row}"'
                    f' font-size="10" font-family="monospace">{text}</text></g>'
                )
                draw(kids, x, depth + 1)
            x += w

    draw(tree, 0.0, 0)
    height = 40 + (depth_max + 1) * row
    svg.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}">'
        f'<text x="4" y="14" font-size="12" font-family="sans-serif">{html.escape(title)}:'
        f" {total} samples at 50 Hz (py-spy); hover for details</text>"
        + "".join(rects)
        + "</svg>\n"
    )


# --------------------------------------------------------------------------- report


def machine_info() -> dict:
    """CPU, memory, versions, git commit."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        int(line.split()[1]) // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    )
    rasa = subprocess.run(
        [str(BIN / "python"), "-c", "import rasa; print(rasa.__version__)"],
        capture_output=True,
        text=True,
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mb": mem,
        "python": platform.python_version(),
        "rasa": rasa.stdout.strip(),
        "kernel": platform.release(),
        "git_commit": git.stdout.strip(),
        "git_dirty": bool(dirty.stdout.strip()),
    }


def summarize(runs: list[dict]) -> dict:
    """Median of every numeric figure over the repeats."""
    keys = {k for run in runs for k, v in run.items() if isinstance(v, (int, float))}
    return {k: statistics.median(run[k] for run in runs if k in run) for k in sorted(keys)}


def verdicts(project: dict, stock: dict) -> dict:
    """Each target: the figure compared and whether it is met."""
    out = {}
    for key, (kind, limit, label) in TARGETS.items():
        if key not in project:
            continue
        value = project[key] / stock[key] if kind == "ratio" else project[key]
        out[key] = {"target": label, "value": round(value, 3), "met": value <= limit}
    return out


def table(project: dict, stock: dict, targets: dict) -> str:
    """The markdown table: figure, project, stock, ratio, target."""
    lines = [
        "| figure | project | stock | project/stock | target |",
        "|---|---:|---:|---:|---|",
    ]
    for key, label in ROWS:
        if key not in project and key not in stock:
            continue
        p, s = project.get(key), stock.get(key)
        ratio = f"{p / s:.2f}" if p is not None and s else "–"
        verdict = ""
        if key in targets:
            t = targets[key]
            verdict = f"{t['target']}: {'met' if t['met'] else 'NOT met'} ({t['value']:.2f})"
        lines.append(f"| {label} | {fmt(p)} | {fmt(s)} | {ratio} | {verdict} |")
    return "\n".join(lines)


def fmt(value) -> str:
    """A figure with sensible precision."""
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def plot(project: dict, stock: dict, path: Path, title: str) -> None:
    """Grouped bars project vs stock per figure, ratio above each pair."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [(k, label) for k, label in ROWS if k in project and k in stock and k != "long_events"]
    cols = 4
    rows = (len(keys) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows))
    for ax, (key, label) in zip(axes.flat, keys, strict=False):
        ax.bar([0, 1], [project[key], stock[key]], color=["#ff5000", "#888888"])
        ax.set_xticks([0, 1], ["project", "stock"])
        ratio = project[key] / stock[key] if stock[key] else float("nan")
        ax.set_title(f"{label}\nproject/stock = {ratio:.2f}", fontsize=9)
        for x, v in enumerate([project[key], stock[key]]):
            ax.text(x, v, fmt(v), ha="center", va="bottom", fontsize=8)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --------------------------------------------------------------------------- main


def main() -> int:
    """Train the stock model if needed, measure both assistants, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2, help="fresh-server runs each [2]")
    parser.add_argument("--turns", type=int, default=90, help="turns at concurrency 1 [90]")
    parser.add_argument("--seconds", type=float, default=40, help="c=8 load duration [40]")
    parser.add_argument("--parse-passes", type=int, default=3, help="passes over parse set [3]")
    parser.add_argument("--long-turns", type=int, default=400, help="long conversation [400]")
    parser.add_argument(
        "--systems", nargs="+", default=["project", "stock"], choices=sorted(SYSTEMS)
    )
    parser.add_argument("--profile", action="store_true", help="py-spy flame graphs instead")
    parser.add_argument("--top", type=int, default=25, help="frames listed per profile [25]")
    parser.add_argument("--out", default=str(RESULTS / "bench.json"))
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)

    def log(msg: str) -> None:
        print(msg, flush=True)

    if not project_model_is_current():
        log(
            "warning: models/dianxiaoer.tar.gz is older than its inputs (scripts/train.sh "
            "would retrain); measuring the model as it is"
        )
    if os.environ.get("BENCH_TRAIN") == "1":
        with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
            for name in args.systems:
                record = timed_train(name, Path(tmp) / name, name)
                write_train_record(name, {**record, "source": "BENCH_TRAIN=1 (temporary dir)"})
    if "stock" in args.systems:
        ensure_stock_model()
    if args.profile:
        profile(args, log)
        return 0

    started = dt.datetime.now()
    runs: dict[str, list[dict]] = {name: [] for name in args.systems}
    for repeat in range(args.repeats):
        # alternate the order so that drift in the machine's load hits both alike
        order = args.systems if repeat % 2 == 0 else list(reversed(args.systems))
        for name in order:
            log(f"==> repeat {repeat + 1}/{args.repeats}: {name} (load {loadavg()})")
            runs[name].append(measure_system(name, args, log))
    records = read_train_records()
    medians = {name: summarize(r) for name, r in runs.items()}
    for name in medians:
        if name in records:
            medians[name]["train_s"] = records[name]["seconds"]
    result = {
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((dt.datetime.now() - started).total_seconds()),
        "command": "make bench  (.venv/bin/python scripts/bench.py " + " ".join(sys.argv[1:]) + ")",
        "machine": machine_info(),
        "settings": {k: v for k, v in vars(args).items() if k not in {"out", "top"}},
        "message_mix": SCRIPTS,
        "long_cycle": LONG_CYCLE,
        "training": records,
        "medians": medians,
        "runs": runs,
    }
    if {"project", "project-baseline"} <= set(medians):
        p, b = medians["project"], medians["project-baseline"]
        result["ratios_vs_baseline"] = {k: round(p[k] / b[k], 3) for k in p if k in b and b[k]}
        log("\nproject / project-baseline (same model, endpoints before the optimizations):")
        for key, label in ROWS:
            if key in p and key in b and b[key]:
                log(f"  {label:40s} {fmt(p[key]):>8s} {fmt(b[key]):>8s}  {p[key] / b[key]:.2f}")
    if {"project", "stock"} <= set(medians):
        p, s = medians["project"], medians["stock"]
        result["ratios"] = {k: round(p[k] / s[k], 3) for k in p if k in s and s[k]}
        result["targets"] = verdicts(p, s)
        text = table(p, s, result["targets"])
        log("\n" + text)
        title = f"dianxiaoer vs stock Rasa 3.6, {result['date']}, medians of {args.repeats} runs"
        plot(p, s, RESULTS / "bench.png", title)
        result["table_markdown"] = text
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    log(f"==> {args.out}, results/bench.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
