"""The self-contained HTML report (`make report`): figures, tables and charts.

`write_report` computes the metrics once, draws the charts from them (PNG files beside
the page and the same bytes embedded as data URIs, so index.html alone is enough), and
writes metrics.json — the numbers the web app's analytics page serves for the same
filters.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from dianxiaoer.analytics.charts import (
    CAUSE_NAMES,
    JOURNEY_NAMES,
    PSYCHOLOGY_NAMES,
    REASON_NAMES,
    REFUSAL_NAMES,
    render_all,
)
from dianxiaoer.core.privacy import mask_metrics

STYLE = """
body{font:14px/1.5 -apple-system,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",
sans-serif;margin:0;background:#f5f6f8;color:#222}
header{background:#1f2d3d;color:#fff;padding:14px 24px}header small{color:#bbb}
main{max-width:1100px;margin:0 auto;padding:16px}
section{background:#fff;border-radius:8px;padding:12px 18px;margin:12px 0}
h2{font-size:17px;margin:4px 0 8px}
.kpis{display:flex;flex-wrap:wrap;gap:12px}
.kpi{background:#fff;border-radius:8px;padding:10px 16px;min-width:150px}
.kpi b{display:block;font-size:22px;color:#ff5000}
table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #eee;
padding:3px 10px;text-align:left}td.n{text-align:right}
img{max-width:100%}p.def{color:#666;font-size:12px}
"""


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f} min"


def _hours(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 3600:.1f} h"


def _table(headers: list[str], rows: list[list]) -> str:
    if not rows:
        return "<p>无数据 (no data)</p>"
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(str(c))}</td>'
            if isinstance(c, int | float)
            else f"<td>{escape(str(c))}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _named(names: dict[str, str], key: str) -> str:
    return f"{names[key]} ({key})" if key in names else key


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img id="chart-{name}" alt="{name}" src="data:image/png;base64,{data}">'


def render_html(metrics: dict, charts: dict[str, bytes]) -> str:
    """The report page for `metrics` with the given chart PNGs embedded."""
    t, r, h = metrics["totals"], metrics["resolution"], metrics["handoffs"]
    fb, cs, co = metrics["fallbacks"], metrics["csat"], metrics["complaints"]
    de, rt, ag = metrics["delays"], metrics["returns"], metrics["agents"]
    cb = metrics["callbacks"]
    f = metrics["filters"]
    scope = f"{f['since'] or '开始'} — {f['until'] or '至今'}" + (
        f"，渠道 {f['channel']}" if f["channel"] else "，全部渠道"
    )
    kpis = [
        ("会话 conversations", t["conversations"]),
        ("顾客消息 customer messages", t["customer_messages"]),
        ("解决率 resolution rate", _pct(r["rate"])),
        ("转人工率 handoff rate", _pct(h["rate"])),
        ("未识别率 fallback rate", _pct(fb["rate"])),
        ("平均满意度 CSAT", "–" if cs["average"] is None else f"{cs['average']:.2f}"),
    ]
    charts_html = {name: _img(name, png) for name, png in charts.items()}
    sections = [
        (
            "每日会话 Conversations per day",
            charts_html.get("daily", ""),
            _table(
                ["day", "conversations", "customer msgs", "bot msgs", "agent msgs"],
                [
                    [
                        d["day"],
                        d["conversations"],
                        d["customer_messages"],
                        d["bot_messages"],
                        d["agent_messages"],
                    ]
                    for d in metrics["per_day"]
                ],
            ),
            f"Staff-training sessions excluded: {t['excluded_training']}.",
        ),
        (
            "解决率 Resolution (containment)",
            charts_html.get("resolution", ""),
            _table(
                ["", "conversations"],
                [["resolved 已解决", r["resolved"]], ["unresolved 未解决", r["unresolved"]]]
                + [[_named(CAUSE_NAMES, k), v] for k, v in r["causes"].items()],
            ),
            "Resolved = no handoff, not ending with two fallbacks in a row, not only "
            "fallbacks, and no rating at or below the low score. Causes overlap.",
        ),
        (
            "转人工 Handoffs",
            charts_html.get("handoffs", ""),
            _table(
                ["reason", "handoffs"],
                [[_named(REASON_NAMES, k), v] for k, v in h["by_reason"].items()],
            )
            + _table(["status", "handoffs"], [[k, v] for k, v in h["by_status"].items()])
            + _table(
                ["", "count", "mean", "median", "p90"],
                [
                    [
                        "time to an agent 等待接入",
                        h["time_to_agent"]["count"],
                        _minutes(h["time_to_agent"]["mean_s"]),
                        _minutes(h["time_to_agent"]["median_s"]),
                        _minutes(h["time_to_agent"]["p90_s"]),
                    ],
                    [
                        "agent first reply 首次回复",
                        ag["first_reply"]["count"],
                        _minutes(ag["first_reply"]["mean_s"]),
                        _minutes(ag["first_reply"]["median_s"]),
                        _minutes(ag["first_reply"]["p90_s"]),
                    ],
                ],
            )
            + _table(
                ["agent", "handoffs claimed", "first replies", "mean first reply"],
                [
                    [a["agent"], a["handoffs"], a["count"], _minutes(a["mean_s"])]
                    for a in ag["per_agent"]
                ],
            ),
            f"{h['conversations']} of {t['conversations']} conversations handed off "
            f"({_pct(h['rate'])}), {h['episodes']} handoffs.",
        ),
        (
            "回电 Callbacks",
            "",
            _table(
                ["", "count"],
                [
                    ["requested 登记", cb["requested"]],
                    ["contacted 已联系", cb["contacted"]],
                    ["open 待回电", cb["open"]],
                ]
                + [[f"contacted by {way}", n] for way, n in cb["by_way"].items()],
            )
            + _table(
                ["", "count", "mean", "median", "p90"],
                [
                    [
                        "time to contact 回电用时",
                        cb["time_to_contact"]["count"],
                        _hours(cb["time_to_contact"]["mean_s"]),
                        _hours(cb["time_to_contact"]["median_s"]),
                        _hours(cb["time_to_contact"]["p90_s"]),
                    ]
                ],
            ),
            "Handoffs asked outside service hours; time to contact runs from the request "
            "to the agent marking it done (phone call or message).",
        ),
        (
            "未识别 Fallbacks",
            charts_html.get("fallbacks", ""),
            _table(
                ["guessed intent", "bot turns", "fallbacks", "rate"],
                [
                    [p["intent"], p["turns"], p["fallbacks"], _pct(p["rate"])]
                    for p in fb["per_intent"]
                ],
            )
            + _table(
                ["confused pair", "fallbacks"],
                [[" / ".join(p["pair"]), p["count"]] for p in fb["confused_pairs"]],
            ),
            f"{fb['fallback_turns']} of {fb['bot_turns']} bot-answered turns "
            f"({_pct(fb['rate'])}); {fb['conversations']} conversations had a fallback.",
        ),
        (
            "热门意图与知识 Top intents and knowledge entries",
            charts_html.get("intents", ""),
            _table(["intent", "messages"], [[i["intent"], i["count"]] for i in metrics["intents"]])
            + _table(
                ["entry", "kind", "answers"],
                [[k["title"], k["kind"], k["count"]] for k in metrics["knowledge"]],
            ),
            "",
        ),
        (
            "未能回答的问题 Unanswered questions",
            charts_html.get("unanswered", ""),
            _table(
                ["question (masked)", "messages", "similar texts", "examples"],
                [
                    [g["text"], g["count"], g["distinct"], " ｜ ".join(g["examples"])]
                    for g in metrics["unanswered"]["groups"]
                ],
            ),
            "Texts of fallback turns, personal data masked, grouped by similarity. "
            "`make review-unanswered` exports them for labelling.",
        ),
        (
            "满意度 CSAT",
            charts_html.get("csat", ""),
            _table(["score", "ratings"], [[k, v] for k, v in cs["distribution"].items()])
            + _table(
                ["journey", "ratings", "average"],
                [
                    [_named(JOURNEY_NAMES, j["journey"]), j["count"], j["average"]]
                    for j in cs["per_journey"]
                ],
            ),
            f"{cs['ratings']} ratings, {cs['low']} at or below {cs['low_score']}.",
        ),
        (
            "投诉 Complaints",
            charts_html.get("complaints", ""),
            _table(
                ["psychology", "tickets"],
                [[_named(PSYCHOLOGY_NAMES, k), v] for k, v in co["by_psychology"].items()],
            )
            + _table(["escalation", "tickets"], [[k, v] for k, v in co["by_escalation"].items()])
            + _table(["priority", "tickets"], [[k, v] for k, v in co["by_priority"].items()]),
            f"{co['tickets']} complaint tickets, {co['escalated']} escalated; average anger "
            f"{co['average_anger'] if co['average_anger'] is not None else '–'}.",
        ),
        (
            "物流延迟与退货 Delays and returns",
            charts_html.get("orders", ""),
            _table(
                ["", "count"],
                [
                    ["delay: no scan 无物流更新", de["detected"]["no_scan"]],
                    ["delay: unshipped 超时未发货", de["detected"]["unshipped"]],
                    ["urge tickets 催件工单", de["urge_tickets"]],
                    ["compensation coupons 补偿券", de["compensated"]],
                ],
            )
            + _table(["return reason", "requests"], [[k, v] for k, v in rt["by_reason"].items()])
            + _table(["return status", "requests"], [[k, v] for k, v in rt["by_status"].items()])
            + _table(
                ["refused: cause", "replies"],
                [[_named(REFUSAL_NAMES, k), v] for k, v in rt["refused"].items()],
            ),
            "",
        ),
    ]
    body = "".join(
        f"<section><h2>{escape(title)}</h2>{chart}{table}"
        + (f'<p class="def">{escape(note)}</p>' if note else "")
        + "</section>"
        for title, chart, table, note in sections
    )
    kpi_html = "".join(
        f'<div class="kpi">{escape(label)}<b>{escape(str(value))}</b></div>'
        for label, value in kpis
    )
    data = json.dumps(metrics, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>店小二 · 客服数据报告</title><style>{STYLE}</style></head><body>"
        f"<header><b>店小二 · 客服数据报告</b> <small>{escape(scope)} · generated "
        f"{escape(metrics.get('generated_at', ''))}</small></header><main>"
        f'<div class="kpis">{kpi_html}</div>{body}'
        '<p class="def">Definitions: docs/analytics.md.</p></main>'
        f'<script type="application/json" id="metrics">{data}</script></body></html>'
    )


def write_report(metrics: dict, out: Path) -> dict[str, Path]:
    """Write index.html, one PNG per chart and metrics.json into `out`; returns the paths.

    Customer-written texts are masked again here (`mask_metrics`), whatever made `metrics`.
    """
    metrics = mask_metrics(metrics)
    out.mkdir(parents=True, exist_ok=True)
    charts = render_all(metrics)
    paths = {}
    for name, png in charts.items():
        path = out / f"{name}.png"
        path.write_bytes(png)
        paths[name] = path
    (out / "metrics.json").write_text(
        json.dumps(metrics, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    paths["metrics"] = out / "metrics.json"
    (out / "index.html").write_text(render_html(metrics, charts), encoding="utf-8")
    paths["html"] = out / "index.html"
    return paths
