"""Real browser (Debian chromium, headless): the analytics page refuses without an agent
login and, with one, shows the same figures as `python -m dianxiaoer.analytics report`
on the servers' stores, with its charts drawn."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import requests

from tests.browser.pages import audit
from tests.conftest import ACTIONS_BIN, RESULTS, ROOT

pytestmark = pytest.mark.browser


def report_metrics(servers, out) -> dict:
    """The report command on the servers' tracker and shop stores (action environment)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TRACKER_DB": str(servers.tracker_db),
        "SHOP_DB": str(servers.shop_db),
    }
    env.pop("DATABASE_URL", None)
    env.pop("TRACKER_URL", None)
    subprocess.run(
        [str(ACTIONS_BIN / "python"), "-m", "dianxiaoer.analytics", "report", "--out", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def test_analytics_page_needs_a_login_and_shows_the_report_figures(servers, browser, tmp_path):
    # a few conversations: answered questions and something the bot cannot place
    for sender, message in [
        ("analytics-1", "支持花呗分期吗"),
        ("analytics-2", "你好"),
        ("analytics-2", "七天无理由退货怎么算"),
        ("analytics-3", "量子纠缠和我的快递有什么关系"),
        ("analytics-4", "转人工"),
        ("analytics-5", "/nlu_fallback"),  # 都不是, twice: the second queues for a human
        ("analytics-5", "/nlu_fallback"),
    ]:
        servers.send(sender, message)
    expected = report_metrics(servers, tmp_path / "report")
    # read from what the real servers recorded (other tests may add more)
    assert expected["totals"]["conversations"] >= 5
    assert expected["handoffs"]["by_reason"]["asked"] >= 1
    assert expected["handoffs"]["by_reason"]["fallback"] >= 1
    assert expected["fallbacks"]["fallback_turns"] >= 2
    titles = {k["title"] for k in expected["knowledge"]}
    assert titles, "knowledge answers are counted by their entry"

    page = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True).new_page()
    page.goto(f"{servers.web_url}/analytics")
    page.wait_for_selector("#login-form")
    assert audit(page, "analytics-login") == []
    assert page.locator("#board").is_hidden()  # no figures without a login
    refused = page.request.get(f"{servers.web_url}/api/analytics/metrics")
    assert refused.status == 401
    assert requests.get(f"{servers.web_url}/api/analytics/metrics", timeout=10).status_code == 401

    page.fill("#token", "demo-chenjing")
    page.click("#login-form button")
    page.wait_for_selector("body[data-loaded='true']", timeout=60000)
    assert page.locator("#login").is_hidden()
    kpi = page.locator("#kpi-conversations b").inner_text()
    assert kpi == str(expected["totals"]["conversations"])
    rate = page.locator("#kpi-resolution_rate b").inner_text()
    assert rate == f"{expected['resolution']['rate'] * 100:.1f}%"
    assert page.locator("#kpi-fallback_rate b").inner_text() == (
        f"{expected['fallbacks']['rate'] * 100:.1f}%"
    )
    # every chart arrives as an image (fetched with the agent token)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img[data-chart]')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=60000,
    )
    assert page.locator("img[data-chart]").count() == 9
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "analytics_page.png"), full_page=True)
    assert audit(page, "analytics") == []
