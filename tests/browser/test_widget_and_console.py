"""Real browser (Debian chromium, headless) against the running servers: the shop page
with the widget, a logged-in shopper, a handoff to the agent console and back."""

from __future__ import annotations

import time

import pytest

from tests.conftest import RESULTS

pytestmark = pytest.mark.browser


def bot_texts(page) -> list[str]:
    return page.locator("#dxe-log .dxe-bot").all_inner_texts()


def ask(page, text: str, expect: str, timeout: float = 30) -> str:
    """Type into the widget and wait for a bot message containing `expect`."""
    before = len(bot_texts(page))
    page.fill("#dxe-input", text)
    page.press("#dxe-input", "Enter")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = bot_texts(page)[before:]
        hit = next((t for t in new if expect in t), None)
        if hit:
            return "\n".join(new)
        page.wait_for_timeout(200)
    raise AssertionError(f"no reply with {expect!r}; got {bot_texts(page)[before:]}")


def open_widget(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#dxe-launcher")
    page.click("#dxe-launcher")
    page.wait_for_function("() => document.getElementById('dxe-root').dataset.session")


def test_shopper_widget_handoff_and_agent_console(servers, browser):
    RESULTS.mkdir(exist_ok=True)
    dialogs: list[str] = []
    shopper = browser.new_context(viewport={"width": 1200, "height": 800})
    page = shopper.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    # an anonymous shopper asks a payment question
    open_widget(page, servers.web_url)
    assert "花呗" in ask(page, "支持花呗分期吗", "花呗")

    # logged in as 张伟: the delayed earphones without typing a phone tail
    page.click("#login-zhang")
    page.wait_for_selector("#who:has-text('张伟')")
    open_widget(page, servers.web_url)
    answer = ask(page, "我的耳机到哪了", "圆通")
    assert "杭州转运中心" in answer and "尾号" not in answer and "后四位" not in answer

    # a message with markup is shown as text, never run
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    page.fill("#dxe-input", payload)
    page.press("#dxe-input", "Enter")
    page.wait_for_timeout(1500)
    assert payload in page.locator("#dxe-log .dxe-user").all_inner_texts()
    assert page.locator("#dxe-log img").count() == 0 and dialogs == []
    page.screenshot(path=str(RESULTS / "shop_widget.png"))

    # the shopper asks for a human; the agent console sees the conversation
    session = page.evaluate("() => document.getElementById('dxe-root').dataset.session")
    asked = time.monotonic()
    queued = ask(page, "转人工", "排队")
    assert "第1位" in queued or "第 1 位" in queued

    agent = browser.new_context(viewport={"width": 1300, "height": 800}).new_page()
    agent.goto(f"{servers.web_url}/console")
    agent.fill("#token", "demo-wangfang")
    agent.click("#login-form button")
    row = agent.locator(f"#queue li[data-conversation='{session}']")
    row.wait_for(timeout=15000)
    seen = time.monotonic() - asked
    print(f"handoff request to agent seeing it: {seen:.1f} s")
    assert row.inner_text().startswith("#1")
    # in words an agent reads: skill group and reason in Chinese, the count in the tab title
    assert "顾客要求人工" in row.inner_text()
    assert not any(code in row.inner_text() for code in ("presale", "aftersale", "asked"))
    assert agent.title().startswith("(") and "人工客服工作台" in agent.title()
    assert agent.locator("#queue-empty").is_hidden()
    row.click()
    agent.wait_for_selector("#transcript .m.customer")
    assert "我的耳机到哪了" in agent.locator("#transcript").inner_text()
    assert "C1001" in agent.locator("#facts").inner_text()

    # the agent's reply reaches the shopper's widget live
    agent.fill("#reply", "亲，您好，我是王芳，这就帮您催圆通加急派送。")
    # while the agent types, the shopper sees who is typing
    page.wait_for_selector("#dxe-typing:has-text('王芳正在输入')", state="visible", timeout=10000)
    agent.click("#reply-form button")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#dxe-log .dxe-bot')]"
        ".some(n => n.textContent.includes('我是王芳'))",
        timeout=15000,
    )
    agent.wait_for_selector("#transcript .m.agent", timeout=15000)
    agent.screenshot(path=str(RESULTS / "agent_console.png"))

    # hand back: the bot answers again
    agent.fill("#summary", "已催圆通加急")
    agent.click("#handback-form button")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#dxe-log .dxe-bot')]"
        ".some(n => n.textContent.includes('店小二继续为您服务'))",
        timeout=15000,
    )
    assert "花呗" in ask(page, "支持花呗分期吗", "花呗")
