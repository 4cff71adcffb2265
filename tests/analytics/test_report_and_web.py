"""`python -m dianxiaoer.analytics report` writes the HTML and PNGs; the web app's analytics
API refuses without an agent login and serves the same figures and charts with one."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from datetime import date

import pytest
import requests

from dianxiaoer.analytics.charts import CHARTS
from dianxiaoer.analytics.metrics import compute_metrics
from dianxiaoer.analytics.sources import Filters
from dianxiaoer.core.settings import PROJECT_ROOT
from tests.conftest import stack

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def without_time(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k != "generated_at"}


@pytest.fixture(scope="module")
def report(stores, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "dianxiaoer.analytics",
            "report",
            "--tracker",
            stores.tracker,
            "--shop",
            stores.shop,
            "--out",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "10 conversations, resolution 50.0%, handoff 30.0%, fallback 13.6%" in run.stdout
    return out


def test_report_writes_html_pngs_and_metrics(report, stores):
    html = (report / "index.html").read_text(encoding="utf-8")
    for name in CHARTS:
        png = (report / f"{name}.png").read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 5000
        # self-contained: the same PNG embedded as a data URI
        embedded = re.search(
            rf'id="chart-{name}" alt="{name}" src="data:image/png;base64,([^"]+)"', html
        )
        assert embedded and base64.b64decode(embedded.group(1)) == png
    assert "<link" not in html and 'src="http' not in html  # nothing loaded from elsewhere
    saved = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    embedded = json.loads(
        re.search(r'<script type="application/json" id="metrics">(.*?)</script>', html, re.S)
        .group(1)
        .replace("<\\/", "</")
    )
    assert saved == embedded
    assert without_time(saved) == without_time(
        compute_metrics(Filters(), stores.tracker, stores.shop)
    )
    # the figures are on the page, personal data is not
    for shown in (
        "50.0%",
        "30.0%",
        "13.6%",
        "4.00",
        "运费说明",
        "我的订单&lt;订单号&gt;能寄到国外吗",
    ):
        assert shown in html
    assert "202611010001" not in html


def test_report_with_filters(stores, tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "dianxiaoer.analytics",
            "report",
            "--tracker",
            stores.tracker,
            "--shop",
            stores.shop,
            "--since",
            "2026-11-03",
            "--until",
            "2026-11-03",
            "--channel",
            "socketio",
            "--out",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    saved = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert saved["filters"] == {"since": "2026-11-03", "until": "2026-11-03", "channel": "socketio"}
    assert saved["totals"]["conversations"] == 1  # c-handback
    assert "2026-11-03 — 2026-11-03，渠道 socketio" in (tmp_path / "index.html").read_text(
        encoding="utf-8"
    )
    bad = subprocess.run(
        [sys.executable, "-m", "dianxiaoer.analytics", "report", "--since", "yesterday"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "error:" in bad.stderr


@pytest.fixture(scope="module")
def web(stores, tmp_path_factory):
    """The web app alone (no Rasa needed for analytics) on the test stores."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "TRACKER_DB": stores.tracker,
        "DATABASE_URL": stores.shop,
    }
    with stack.web_app(env, tmp_path_factory.mktemp("web")) as url:
        yield url


AGENT = {"X-Agent-Token": "demo-wangfang"}


def test_analytics_api_refuses_without_a_login(web):
    page = requests.get(f"{web}/analytics", timeout=10)
    assert page.status_code == 200 and 'id="login-form"' in page.text  # only the login form
    for path in ("/api/analytics/metrics", "/api/analytics/charts", "/api/analytics/charts/csat"):
        assert requests.get(f"{web}{path}", timeout=10).status_code == 401
        bad = requests.get(f"{web}{path}", headers={"X-Agent-Token": "guess"}, timeout=10)
        assert bad.status_code == 401


def test_analytics_api_serves_the_report_figures_and_charts(web, report):
    r = requests.get(f"{web}/api/analytics/metrics", headers=AGENT, timeout=60)
    assert r.status_code == 200
    saved = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert without_time(r.json()) == without_time(saved)
    assert requests.get(f"{web}/api/analytics/charts", headers=AGENT, timeout=10).json() == list(
        CHARTS
    )
    for name in ("daily", "csat", "handoffs"):
        png = requests.get(f"{web}/api/analytics/charts/{name}.png", headers=AGENT, timeout=60)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content == (report / f"{name}.png").read_bytes()  # the same chart
    assert (
        requests.get(f"{web}/api/analytics/charts/nope", headers=AGENT, timeout=10).status_code
        == 404
    )


def test_analytics_api_filters(web, stores):
    r = requests.get(
        f"{web}/api/analytics/metrics",
        params={"since": "2026-11-03", "channel": "rest"},
        headers=AGENT,
        timeout=60,
    )
    expected = compute_metrics(
        Filters(since=date(2026, 11, 3), channel="rest"),
        stores.tracker,
        stores.shop,
    )
    assert without_time(r.json()) == without_time(expected)
    assert r.json()["totals"]["conversations"] == 5
    bad = requests.get(
        f"{web}/api/analytics/metrics", params={"since": "x"}, headers=AGENT, timeout=10
    )
    assert bad.status_code == 400
