"""Charts of the metrics as PNG bytes (matplotlib, Agg canvas, no pyplot).

The report and the web app's analytics page draw the same charts from the same metrics
dict with these functions, so their figures agree. matplotlib is imported on the first
chart only. Chinese labels use a CJK font when one is installed (Debian
`fonts-wqy-microhei`, which `make browser-deps` installs); without one the charts still
render, with English titles, and any Chinese data labels show as boxes.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Callable

from dianxiaoer.core.fonts import cjk_font, cjk_rc

COLORS = ("#ff5000", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f")

REASON_NAMES = {
    "asked": "顾客要求",
    "anger": "情绪升级",
    "revenge": "报复/威胁",
    "fallback": "两次未识别",
    "lockout": "验证锁定",
    "complaint": "投诉升级",
    "other": "其他",
}
PSYCHOLOGY_NAMES = {
    "venting": "发泄",
    "respect": "尊重",
    "remedy": "补救",
    "recognition": "认同",
    "showing": "表现",
    "revenge": "报复",
    "unknown": "未知",
}
CAUSE_NAMES = {
    "handoff": "转人工",
    "fallback_end": "以两次未识别结束",
    "only_fallbacks": "全部未识别",
    "low_csat": "低满意度",
}
JOURNEY_NAMES = {
    "return": "退货",
    "delay": "物流延迟",
    "complaint": "投诉",
    "followup": "回访",
    "human": "人工",
    "other": "其他",
}
REFUSAL_NAMES = {
    "excluded_customized": "定制",
    "excluded_perishable": "生鲜易腐",
    "excluded_digital": "数字商品",
    "excluded_periodical": "报刊",
    "window_expired": "超过七天",
    "not_signed": "未签收",
}

_lock = threading.Lock()


def _rc() -> dict:
    base = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
    return {**base, **cjk_rc(cjk_font())}


def _title(zh: str, en: str) -> str:
    return f"{zh} {en}" if cjk_font() else en


def _empty(ax, text: str = "no data") -> None:
    ax.text(0.5, 0.5, ("无数据 " if cjk_font() else "") + text, ha="center", va="center")
    ax.set_axis_off()


def _barh(ax, labels: list[str], values: list[float], fmt: str = "{:g}", color=COLORS[0]):
    if not any(values):
        _empty(ax)
        return
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=color)
    ax.set_yticks(positions)
    ax.set_yticklabels([_short(label) for label in labels])
    for y, v in zip(positions, values, strict=True):
        ax.text(v, y, " " + fmt.format(v), va="center", fontsize=8)
    ax.margins(x=0.15)


def _bar(ax, labels: list[str], values: list[float], color=COLORS[0], fmt: str = "{:g}"):
    if not any(values):
        _empty(ax)
        return
    ax.bar(range(len(labels)), values, color=color)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels)
    for x, v in enumerate(values):
        ax.text(x, v, fmt.format(v), ha="center", va="bottom", fontsize=8)


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(names: dict[str, str], key: str) -> str:
    return f"{names.get(key, key)} {key}" if cjk_font() and key in names else key


# --- the charts -------------------------------------------------------------------------


def _daily(fig, m: dict) -> None:
    ax = fig.add_subplot()
    days = m["per_day"]
    ax.set_title(_title("每日会话与消息", "Conversations and messages per day"))
    if not days:
        _empty(ax)
        return
    x = list(range(len(days)))
    ax.bar(x, [d["conversations"] for d in days], color=COLORS[0], label="conversations")
    ax.set_xlim(-0.6, max(len(days), 7) - 0.4)  # a few days: narrow bars, not one slab
    ax.set_ylabel("conversations")
    step = max(1, len(days) // 10)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([d["day"][5:] for d in days][::step], rotation=45, ha="right")
    twin = ax.twinx()
    twin.plot(
        x,
        [d["customer_messages"] for d in days],
        color=COLORS[1],
        marker=".",
        label="customer messages",
    )
    twin.set_ylabel("customer messages")
    twin.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=7)
    twin.legend(loc="upper right", fontsize=7)


def _resolution(fig, m: dict) -> None:
    ax = fig.add_subplot()
    r = m["resolution"]
    ax.set_title(
        _title("解决率", "Resolution (containment)")
        + f": {r['rate']:.1%} of {m['totals']['conversations']}"
    )
    labels = [_label({"resolved": "已解决"}, "resolved")] + [
        _label(CAUSE_NAMES, k) for k in r["causes"]
    ]
    values = [r["resolved"], *r["causes"].values()]
    colors = [COLORS[2]] + [COLORS[3]] * len(r["causes"])
    if not m["totals"]["conversations"]:
        _empty(ax)
        return
    _barh(ax, labels, values, color=colors)


def _handoffs(fig, m: dict) -> None:
    h = m["handoffs"]
    ax = fig.add_subplot(1, 2, 1)
    ax.set_title(_title("转人工原因", "Handoffs by reason") + f" ({h['rate']:.1%})")
    items = [(k, v) for k, v in h["by_reason"].items()]
    _barh(ax, [_label(REASON_NAMES, k) for k, _ in items], [v for _, v in items])
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.set_title(_title("等待与首次回复", "Minutes to agent / first reply"))
    t, f = h["time_to_agent"], m["agents"]["first_reply"]
    if not t["count"] and not f["count"]:
        _empty(ax2)
        return
    labels = ["to agent mean", "to agent median", "first reply mean", "first reply median"]
    values = [
        round((v or 0) / 60, 1) for v in (t["mean_s"], t["median_s"], f["mean_s"], f["median_s"])
    ]
    _barh(ax2, labels, values, color=COLORS[1])


def _fallbacks(fig, m: dict) -> None:
    fb = m["fallbacks"]
    ax = fig.add_subplot(1, 2, 1)
    ax.set_title(_title("按意图的未识别率", "Fallback rate per intent") + f" ({fb['rate']:.1%})")
    rows = [r for r in fb["per_intent"] if r["fallbacks"]][:10]
    _barh(ax, [r["intent"] for r in rows], [r["rate"] for r in rows], fmt="{:.0%}")
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.set_title(_title("易混淆意图", "Confused intent pairs"))
    pairs = fb["confused_pairs"][:10]
    _barh(ax2, [" / ".join(p["pair"]) for p in pairs], [p["count"] for p in pairs], color=COLORS[4])


def _intents(fig, m: dict) -> None:
    ax = fig.add_subplot(1, 2, 1)
    ax.set_title(_title("热门意图", "Top intents"))
    rows = m["intents"][:10]
    _barh(ax, [r["intent"] for r in rows], [r["count"] for r in rows])
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.set_title(_title("热门知识条目", "Top knowledge entries"))
    rows = m["knowledge"][:10]
    _barh(ax2, [r["title"] for r in rows], [r["count"] for r in rows], color=COLORS[1])


def _csat(fig, m: dict) -> None:
    c = m["csat"]
    ax = fig.add_subplot(1, 2, 1)
    average = f"{c['average']:.2f}" if c["average"] is not None else "–"
    ax.set_title(_title("满意度分布", "CSAT") + f" (n={c['ratings']}, avg {average})")
    _bar(ax, list(c["distribution"]), list(c["distribution"].values()), color=COLORS[2])
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.set_title(_title("各旅程平均分", "Average per journey"))
    rows = c["per_journey"]
    _barh(
        ax2,
        [_label(JOURNEY_NAMES, r["journey"]) + f" (n={r['count']})" for r in rows],
        [r["average"] for r in rows],
        fmt="{:.2f}",
        color=COLORS[2],
    )
    if rows:
        ax2.set_xlim(0, 5.8)


def _complaints(fig, m: dict) -> None:
    c = m["complaints"]
    ax = fig.add_subplot(1, 2, 1)
    ax.set_title(_title("投诉心理类型", "Complaints by psychology") + f" (n={c['tickets']})")
    items = list(c["by_psychology"].items())
    _barh(
        ax, [_label(PSYCHOLOGY_NAMES, k) for k, _ in items], [v for _, v in items], color=COLORS[3]
    )
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.set_title(_title("升级", "Escalations") + f" ({c['escalated']})")
    items = list(c["by_escalation"].items())
    _barh(ax2, [k for k, _ in items], [v for _, v in items], color=COLORS[3])


def _orders(fig, m: dict) -> None:
    d, r = m["delays"], m["returns"]
    ax = fig.add_subplot(1, 2, 1)
    ax.set_title(_title("物流延迟与催件", "Delays and urge tickets"))
    labels = ["no_scan", "unshipped", "urge tickets", "compensated"]
    values = [
        d["detected"]["no_scan"],
        d["detected"]["unshipped"],
        d["urge_tickets"],
        d["compensated"],
    ]
    _barh(ax, labels, values, color=COLORS[5])
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.set_title(_title("退货原因与拒绝", "Returns by reason / refused"))
    reasons = list(r["by_reason"].items())[:6]
    refused = [(k, v) for k, v in r["refused"].items() if v]
    labels = [k for k, _ in reasons] + [_label(REFUSAL_NAMES, k) for k, _ in refused]
    values = [v for _, v in reasons] + [v for _, v in refused]
    colors = [COLORS[1]] * len(reasons) + [COLORS[3]] * len(refused)
    _barh(ax2, labels, values, color=colors)


def _unanswered(fig, m: dict) -> None:
    ax = fig.add_subplot()
    u = m["unanswered"]
    ax.set_title(
        _title("未能回答的问题（相似归组）", "Unanswered questions, grouped")
        + f" ({u['messages']})"
    )
    groups = u["groups"][:12]
    _barh(ax, [g["text"] for g in groups], [g["count"] for g in groups], color=COLORS[4])


#: name -> (draw function, figure size in inches)
CHARTS: dict[str, tuple[Callable, tuple[float, float]]] = {
    "daily": (_daily, (9, 3.2)),
    "resolution": (_resolution, (9, 2.6)),
    "handoffs": (_handoffs, (10, 3)),
    "fallbacks": (_fallbacks, (10, 3.4)),
    "intents": (_intents, (10, 3.6)),
    "unanswered": (_unanswered, (9, 3.6)),
    "csat": (_csat, (10, 3)),
    "complaints": (_complaints, (10, 3)),
    "orders": (_orders, (10, 3)),
}


def render_chart(name: str, metrics: dict, dpi: int = 100) -> bytes:
    """One chart of `metrics` as PNG bytes (KeyError for an unknown name)."""
    draw, size = CHARTS[name]
    with _lock, warnings.catch_warnings():
        # matplotlib 3.5 calls pyparsing 3.x APIs that warn of their deprecation; and
        # without a CJK font Chinese labels draw as boxes: expected, not worth a warning
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        with matplotlib.rc_context(_rc()):
            png = _draw(draw, size, dpi, metrics, Figure, FigureCanvasAgg)
    return png


def _draw(draw, size, dpi: int, metrics: dict, Figure, FigureCanvasAgg) -> bytes:  # noqa: N803
    figure = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(figure)
    draw(figure, metrics)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render_all(metrics: dict) -> dict[str, bytes]:
    """Every chart, by name, in report order."""
    return {name: render_chart(name, metrics) for name in CHARTS}
