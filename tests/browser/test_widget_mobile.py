"""The widget under a shopper's thumb: Chromium emulating an iPhone 13 and a Pixel 7
(Playwright's device descriptors: viewport, device scale, touch, mobile user agent)."""

from __future__ import annotations

import time

import pytest

from tests.browser.pages import SESSION_READY
from tests.conftest import RESULTS

pytestmark = pytest.mark.browser

DEVICES = ("iPhone 13", "Pixel 7")
MIN_TARGET = 44  # CSS px, WCAG 2.5.5 / Apple HIG
# The page comes back to the foreground (as after switching apps).
SHOW_PAGE = """() => {
  Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def _bot_texts(page) -> list[str]:
    return page.locator("#dxe-log .dxe-bot").all_inner_texts()


def _wait_for_reply(page, before: int, expect: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = _bot_texts(page)[before:]
        if any(expect in t for t in new):
            return "\n".join(new)
        page.wait_for_timeout(200)
    raise AssertionError(f"no reply with {expect!r}; got {_bot_texts(page)[before:]}")


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box, f"{selector} is not laid out"
    return box


def _assert_target(page, selector: str) -> dict:
    box = _box(page, selector)
    assert box["width"] >= MIN_TARGET and box["height"] >= MIN_TARGET, (selector, box)
    return box


@pytest.fixture(params=DEVICES)
def phone(request, playwright, browser):
    """A fresh mobile context for one device (chromium cannot take webkit's browser type)."""
    descriptor = {
        k: v for k, v in playwright.devices[request.param].items() if k != "default_browser_type"
    }
    context = browser.new_context(**descriptor)
    yield request.param, context.new_page()
    context.close()


def test_tap_to_chat_on_a_phone(servers, phone):
    device, page = phone
    RESULTS.mkdir(exist_ok=True)
    page.goto(servers.web_url)
    width = page.viewport_size["width"]
    height = page.viewport_size["height"]

    # zoom stays allowed (low-vision shoppers pinch to read)
    viewport_meta = page.get_attribute("meta[name=viewport]", "content") or ""
    assert "user-scalable=no" not in viewport_meta and "maximum-scale" not in viewport_meta

    # the launcher is a comfortable target; a tap opens the chat full screen
    launcher_box = _assert_target(page, "#dxe-launcher")
    page.tap("#dxe-launcher")
    page.wait_for_function(SESSION_READY)
    panel = _box(page, "#dxe-panel")
    assert panel["x"] == 0 and panel["width"] == width and panel["height"] >= height - 1
    # the launcher no longer sits on top of 发送
    assert not page.locator("#dxe-launcher").is_visible()
    assert page.evaluate("() => document.activeElement.id") == "dxe-input"
    sizes = {"launcher": launcher_box}
    for name, selector in (("send", "#dxe-send"), ("close", "#dxe-close")):
        sizes[name] = _assert_target(page, selector)
    sizes["input"] = _box(page, "#dxe-input")
    assert sizes["input"]["height"] >= MIN_TARGET
    send = _box(page, "#dxe-send")
    assert send["y"] + send["height"] <= height + 0.5  # on screen, not under the fold

    # type, tap 发送, get the answer
    before = len(_bot_texts(page))
    page.fill("#dxe-input", "支持花呗分期吗")
    page.tap("#dxe-send")
    assert "花呗" in _wait_for_reply(page, before, "花呗")
    assert page.input_value("#dxe-input") == ""

    # quick replies are thumb-sized and answer when tapped
    before = len(_bot_texts(page))
    page.fill("#dxe-input", "你能帮我做什么")
    page.tap("#dxe-send")
    _wait_for_reply(page, before, "店小二")
    buttons = page.locator("#dxe-log .dxe-buttons button")
    buttons.last.wait_for()
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box["height"] >= MIN_TARGET and box["width"] >= MIN_TARGET, box
    sizes["quick reply (smallest)"] = min(
        (buttons.nth(i).bounding_box() for i in range(buttons.count())),
        key=lambda b: b["width"] * b["height"],
    )
    print(
        f"touch targets on {device} (CSS px): "
        + ", ".join(f"{k} {v['width']:.0f}x{v['height']:.0f}" for k, v in sizes.items())
    )
    chosen = buttons.first.inner_text()
    before = len(_bot_texts(page))
    buttons.first.tap()
    page.locator("#dxe-log .dxe-user", has_text=chosen).last.wait_for()
    _wait_for_reply(page, before, "")
    page.screenshot(path=str(RESULTS / f"widget_{device.replace(' ', '_')}.png"))

    # a long order number and a long unbroken line wrap inside the screen
    page.fill("#dxe-input", "订单" + "2026110100012026110100012026110100" * 2)
    page.tap("#dxe-send")
    page.wait_for_timeout(300)
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('#dxe-log .dxe-msg')]"
        ".some(m => m.getBoundingClientRect().right > window.innerWidth + 0.5)"
    )
    assert overflow is False
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width

    # × closes: the launcher is back and has the focus; reopening shows the history
    shown = page.locator("#dxe-log .dxe-row").count()
    page.tap("#dxe-close")
    assert not page.locator("#dxe-panel").is_visible()
    assert page.locator("#dxe-launcher").is_visible()
    assert page.evaluate("() => document.activeElement.id") == "dxe-launcher"
    page.tap("#dxe-launcher")
    assert page.locator("#dxe-log .dxe-row").count() == shown
    # Escape closes as well (keyboards on tablets)
    page.keyboard.press("Escape")
    assert not page.locator("#dxe-panel").is_visible()


def test_reload_keeps_session_history_and_unread_badge(servers, phone):
    _, page = phone
    page.goto(servers.web_url)
    page.tap("#dxe-launcher")
    page.wait_for_function(SESSION_READY)
    session = page.evaluate("() => document.getElementById('dxe-root').dataset.session")
    before = len(_bot_texts(page))
    page.fill("#dxe-input", "你们几点下班")
    page.tap("#dxe-send")
    _wait_for_reply(page, before, "")
    rows = page.locator("#dxe-log .dxe-row").count()

    # switching apps: the connection dropped while the page was hidden; showing the
    # page again reconnects at once with the same session
    page.evaluate("() => window.DianxiaoerWidget.disconnect()")
    page.wait_for_selector("#dxe-conn", state="visible")
    page.evaluate(SHOW_PAGE)
    page.wait_for_selector("#dxe-conn", state="hidden")
    assert page.evaluate("() => document.getElementById('dxe-root').dataset.session") == session
    page.reload()
    page.wait_for_function(SESSION_READY)
    assert page.evaluate("() => document.getElementById('dxe-root').dataset.session") == session
    assert page.locator("#dxe-log .dxe-row").count() == rows
    assert page.locator("#dxe-panel").is_visible()  # it was open, it stays open

    # a reply that comes while the chat is closed shows as an unread count on the
    # launcher, which survives a reload too
    page.wait_for_function(SESSION_READY)
    page.tap("#dxe-close")
    page.evaluate("() => window.DianxiaoerWidget.send('发什么快递')")  # the page's own API
    page.wait_for_selector("#dxe-badge", state="visible")
    unread = page.inner_text("#dxe-badge")
    assert int(unread) >= 1
    page.reload()
    page.wait_for_selector("#dxe-badge", state="visible")
    assert page.inner_text("#dxe-badge") == unread


def test_messages_typed_offline_are_sent_once_on_reconnect(servers, phone):
    _, page = phone
    page.goto(servers.web_url)
    page.tap("#dxe-launcher")
    page.wait_for_function(SESSION_READY)
    page.evaluate("() => window.DianxiaoerWidget.disconnect()")
    page.wait_for_selector("#dxe-conn", state="visible")

    before = len(_bot_texts(page))
    page.fill("#dxe-input", "七天无理由退货怎么算")
    page.tap("#dxe-send")
    assert page.locator("#dxe-log .dxe-pending").count() == 1
    page.wait_for_timeout(1000)
    assert len(_bot_texts(page)) == before  # nothing went out while offline

    page.evaluate("() => window.DianxiaoerWidget.reconnect()")
    _wait_for_reply(page, before, "无理由")
    page.wait_for_timeout(2500)
    assert page.locator("#dxe-log .dxe-pending").count() == 0
    assert page.locator("#dxe-conn").is_hidden()
    # sent once: one answer about the return policy, not two
    answers = [t for t in _bot_texts(page)[before:] if "无理由" in t]
    assert len(answers) == 1, answers
