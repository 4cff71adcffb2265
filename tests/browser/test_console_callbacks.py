"""Real browser (Debian chromium, headless): a callback recorded off duty appears on the
agent console (待回电), the agent answers it with a message, and the shopper's widget
shows that message when the shopper comes back to the shop page."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.browser.test_widget_and_console import ask, open_widget
from tests.conftest import ACTIONS_BIN, RESULTS, ROOT

pytestmark = pytest.mark.browser

#: What actions/human.py hand_over does off duty (the test servers' policy has agents on
#: duty around the clock, so the bot itself never records a callback there).
RECORD_CALLBACK = """
import sys
from dianxiaoer.core.service_hours import shanghai_now
from dianxiaoer.store import handoffs
entry = handoffs.enqueue(sys.argv[1], "aftersale", "asked", 3, shanghai_now(), "C1001",
                         {"psychology": None, "ticket": None}, "callback")
print(entry.id)
"""


def record_callback(servers, conversation: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SHOP_DB": str(servers.shop_db)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [str(ACTIONS_BIN / "python"), "-c", RECORD_CALLBACK, conversation],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_callback_on_console_answered_by_message_seen_on_return(servers, browser):
    RESULTS.mkdir(exist_ok=True)
    shopper = browser.new_context(viewport={"width": 1200, "height": 800})
    page = shopper.new_page()
    page.goto(servers.web_url)
    page.click("#login-zhang")
    page.wait_for_selector("#who:has-text('张伟')")
    open_widget(page, servers.web_url)
    assert "圆通" in ask(page, "我的耳机到哪了", "圆通")
    session = page.evaluate("() => document.getElementById('dxe-root').dataset.session")
    # the shopper asked for a human at night and left
    entry = record_callback(servers, session)
    page.close()

    agent = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    agent.goto(f"{servers.web_url}/console")
    assert agent.locator("#callbacks").is_hidden()  # nothing before the login
    agent.fill("#token", "demo-wangfang")
    agent.click("#login-form button")
    row = agent.locator(f"#callback-list li[data-callback='{entry}']")
    row.wait_for(timeout=15000)
    assert "张伟" in row.inner_text() and "138****1234" in row.inner_text()
    assert "13800001234" not in agent.locator("#callbacks").inner_text()  # masked in the list
    count = int(agent.locator("#callbacks-count").inner_text())
    # the tab title counts them (after the waiting customers, if any)
    assert count >= 1 and f"({count}) 待回电 · " in agent.title()
    assert agent.locator("#callbacks-empty").is_hidden()

    row.click()
    detail = agent.locator("#callback-detail")
    detail.locator(".cb-messages .m.customer").first.wait_for(timeout=15000)
    text = detail.inner_text()
    assert "13800001234" in text and "202611010002" in text  # the number to call, the order
    assert "我的耳机到哪了" in text
    agent.check("#callback-done-form input[value='message']")
    reply = "亲，我是王芳，昨晚的留言收到了：您的耳机已催圆通加急，明天送达。"
    agent.fill("#callback-text", reply)
    agent.fill("#callback-note", "已留言说明催件")
    agent.click("#callback-done-form button")
    agent.wait_for_selector("#callback-detail .cb-ok:has-text('已发送留言')", timeout=15000)
    row.wait_for(state="detached", timeout=15000)
    if agent.locator("#callbacks-count").inner_text() == "0":
        assert agent.locator("#callbacks-empty").inner_text() == "没有待回电的请求"
        assert "待回电" not in agent.title()
    agent.screenshot(path=str(RESULTS / "console_callbacks.png"))

    # the shopper comes back: the widget shows the agent's message
    back = shopper.new_page()
    open_widget(back, servers.web_url)
    back.wait_for_function(
        "text => [...document.querySelectorAll('#dxe-log .dxe-bot')]"
        ".some(n => n.textContent.includes(text))",
        arg=reply,
        timeout=15000,
    )
    # once, also after another visit
    back.reload()
    open_widget(back, servers.web_url)
    back.wait_for_timeout(1500)
    shown = back.locator("#dxe-log .dxe-bot").all_inner_texts()
    assert sum(reply in t for t in shown) == 1
    back.screenshot(path=str(RESULTS / "widget_callback_reply.png"))
