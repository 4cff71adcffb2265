"""Staff training report: mastery per ★ level and topic, role-play averages, a score plot.

`python -m dianxiaoer.coaching.report [--trainee ID] [--out results/training_report.png]`
(`make training-report`) prints every trainee's figures (or one trainee's) and writes a
score-over-time PNG: quiz accuracy per day and role-play totals per session. The web app's
training page serves the same PNG from `render_png`.

matplotlib (Agg, no pyplot) is imported only when a plot is drawn. Chinese labels use a CJK
font when one is installed (Debian `fonts-wqy-microhei`); without one the plot falls back
to English labels and trainee ids rather than drawing empty boxes.
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
import unicodedata
import warnings
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dianxiaoer.coaching import roleplay
from dianxiaoer.core.fonts import cjk_font, cjk_rc
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.store import training

DEFAULT_OUT = PROJECT_ROOT / "results" / "training_report.png"
NO_ATTEMPTS = "还没有培训记录（no training attempts yet）"
_LABELS = {
    True: {
        "title": "培训成绩走势",
        "quiz": "测验正确率（每天）",
        "roleplay": "角色扮演总分",
        "no_quiz": "还没有测验记录",
        "no_roleplay": "还没有角色扮演记录",
        "empty": "还没有培训记录",
        "date": "日期（北京时间）",
    },
    False: {
        "title": "Training scores over time",
        "quiz": "Quiz accuracy per day",
        "roleplay": "Role-play total",
        "no_quiz": "No quiz answers yet",
        "no_roleplay": "No role-plays yet",
        "empty": "No training attempts yet",
        "date": "Date (Asia/Shanghai)",
    },
}
_setup_lock = threading.Lock()


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _names() -> dict[str, str]:
    from dianxiaoer.core.roster import trainee_names

    try:
        return trainee_names()
    except (OSError, ValueError):
        return {}  # a broken roster must not stop the report: ids are shown instead


def _who(trainee_id: str, names: dict[str, str]) -> str:
    return f"{names[trainee_id]} ({trainee_id})" if trainee_id in names else trainee_id


def _pad(text: str, width: int) -> str:
    # Chinese characters take two columns in a terminal
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - shown, 1)


def _bucket_line(label: str, bucket: dict[str, Any]) -> str:
    answered = f"{bucket['correct']}/{bucket['answered']}"
    return (
        f"    {_pad(label, 12)}答对 {answered:<7} {_percent(bucket['share']):>6}"
        f"   平均得分 {_number(_score(bucket))}"
    )


def _score(bucket: dict[str, Any]) -> float | None:
    # average score shown out of 100 like the role-play totals
    return None if bucket["average_score"] is None else bucket["average_score"] * 100


def trainee_text(trainee_id: str, names: dict[str, str] | None = None, url=None) -> str:
    """One trainee's figures as text."""
    names = _names() if names is None else names
    figures = training.mastery(trainee_id, url)
    quiz, plays = figures["quiz"], figures["roleplay"]
    lines = [f"== {_who(trainee_id, names)} =="]
    if not quiz["answered"] and not plays["sessions"]:
        return "\n".join([*lines, f"  {NO_ATTEMPTS}"])
    lines.append(
        f"  测验：答题 {quiz['answered']} 次，答对 {quiz['correct']} 次，"
        f"正确率 {_percent(quiz['share'])}"
    )
    if quiz["answered"]:
        lines.append("  按星级：")
        for level, bucket in figures["levels"].items():
            lines.append(_bucket_line(training.LEVEL_NAMES[level], bucket))
        lines.append("  按主题：")
        for topic, bucket in figures["topics"].items():
            lines.append(_bucket_line(topic, bucket))
    lines.append(f"  角色扮演：{plays['sessions']} 次，平均总分 {_number(plays['average_total'])}")
    if plays["dimensions"]:
        lines.append(
            "    各维度平均："
            + "，".join(
                f"{roleplay.dimension_label(name)} {value:.1f}"
                for name, value in plays["dimensions"].items()
            )
        )
    if plays["outcomes"]:
        lines.append(
            "    结果："
            + "，".join(
                f"{roleplay.outcome_label(name)} {n}" for name, n in plays["outcomes"].items()
            )
        )
    return "\n".join(lines)


def text_report(trainee_id: str | None = None, url=None) -> str:
    """Every active trainee's figures (or one trainee's), or a message when there are none."""
    names = _names()
    ids = [trainee_id] if trainee_id else [s.trainee_id for s in training.trainees(url)]
    if not ids:
        return NO_ATTEMPTS
    return "\n\n".join(trainee_text(t, names, url) for t in sorted(ids))


def _setup() -> bool:
    """Put the CJK font first (once per process); True when Chinese labels can render."""
    # matplotlib 3.5 calls pyparsing 3's old camelCase names: log noise, nothing to act on
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"matplotlib\.")
    import matplotlib

    with _setup_lock:
        rc = cjk_rc(cjk_font())
        if rc and matplotlib.rcParams["font.sans-serif"] != rc["font.sans-serif"]:
            matplotlib.rcParams.update(rc)
        return bool(rc)


def _local(time: datetime) -> datetime:
    # naive Asia/Shanghai time: matplotlib would plot aware datetimes in UTC
    return time.astimezone(SHANGHAI).replace(tzinfo=None)


def _series(attempts: list) -> tuple[dict, dict]:
    """Per trainee: quiz (day, accuracy) points and role-play (time, total) points."""
    days: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    plays: dict[str, list] = defaultdict(list)
    for attempt in attempts:
        if attempt.type == "quiz":
            day = _local(attempt.time).replace(hour=12, minute=0, second=0, microsecond=0)
            days[attempt.trainee_id][day].append(attempt.correct)
        else:
            plays[attempt.trainee_id].append((_local(attempt.time), attempt.total))
    quiz = {
        trainee: sorted((day, 100 * sum(marks) / len(marks)) for day, marks in by_day.items())
        for trainee, by_day in days.items()
    }
    return quiz, dict(plays)


def render_png(trainee_id: str | None = None, url=None) -> bytes:
    """The score-over-time plot of one trainee (or every trainee) as PNG bytes."""
    chinese = _setup()  # before the other matplotlib imports: it filters their warnings
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = _LABELS[chinese]
    names = _names()
    attempts = training.attempts(trainee_id, url)
    title = labels["title"]
    if trainee_id:
        who = names.get(trainee_id, trainee_id) if chinese else trainee_id
        title = f"{who} · {title}"
    figure = Figure(figsize=(9, 6), dpi=100)
    FigureCanvasAgg(figure)
    if not attempts:
        figure.suptitle(title)
        figure.text(0.5, 0.5, labels["empty"], ha="center", va="center", fontsize=20)
        return _png(figure)
    quiz, plays = _series(attempts)
    top, bottom = figure.subplots(2, 1, sharex=True)
    figure.suptitle(title)

    def label(trainee: str) -> str:
        return names.get(trainee, trainee) if chinese else trainee

    for trainee, points in sorted(quiz.items()):
        top.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label(trainee))
    top.set_ylim(-5, 105)
    top.set_ylabel(labels["quiz"] + " (%)")
    top.grid(alpha=0.3)
    if quiz:
        top.legend(loc="best", fontsize=8)
    else:
        top.text(0.5, 0.5, labels["no_quiz"], ha="center", va="center", transform=top.transAxes)
    for trainee, points in sorted(plays.items()):
        bottom.plot(
            [p[0] for p in points], [p[1] for p in points], marker="s", label=label(trainee)
        )
    bottom.set_ylabel(labels["roleplay"])
    bottom.set_xlabel(labels["date"])
    bottom.grid(alpha=0.3)
    if plays:
        bottom.set_ylim(bottom=0)
        bottom.legend(loc="best", fontsize=8)
    else:
        bottom.text(
            0.5, 0.5, labels["no_roleplay"], ha="center", va="center", transform=bottom.transAxes
        )
    # matplotlib pads a single point to years on each side: the axis spans the days trained
    times = [p[0] for series in (*quiz.values(), *plays.values()) for p in series]
    bottom.set_xlim(*day_span(times))
    locator = mdates.AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return _png(figure)


def day_span(times: list[datetime]) -> tuple[datetime, datetime]:
    """From the start of the first day trained to the end of the last one."""
    first = min(times).replace(hour=0, minute=0, second=0, microsecond=0)
    last = max(times).replace(hour=0, minute=0, second=0, microsecond=0)
    return first, last + timedelta(days=1)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_png(path: str | Path, trainee_id: str | None = None, url=None) -> Path:
    """Write the plot to `path` (directories created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_png(trainee_id, url))
    return path


def main(argv: list[str] | None = None) -> int:
    """Print the figures and write the PNG (the store is migrated first, like `make store`)."""
    parser = argparse.ArgumentParser(prog="python -m dianxiaoer.coaching.report")
    parser.add_argument("--trainee", help="one trainee id (default: every trainee)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="PNG path [%(default)s]")
    args = parser.parse_args(argv)
    from dianxiaoer.store.db import upgrade

    upgrade()
    print(text_report(args.trainee))
    out = write_png(args.out, args.trainee)
    print(f"\n==> score plot written to {out}")
    if cjk_font() is None:
        print("    (no CJK font found: English labels; apt-get install fonts-wqy-microhei)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
