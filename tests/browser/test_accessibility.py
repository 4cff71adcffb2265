"""axe-core audits (widget/node_modules/axe-core, injected by Playwright) of every page a
shopper or a member of staff uses: no serious or critical violation is allowed. The
analytics page is audited in its own test (its figures are cached per login)."""

from __future__ import annotations

import pytest

from tests.browser.pages import SESSION_READY, audit
from tests.conftest import RESULTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def fresh_record():
    (RESULTS / "axe.json").unlink(missing_ok=True)


def _open_chat(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#dxe-launcher")
    page.click("#dxe-launcher")
    page.wait_for_function(SESSION_READY)


@pytest.mark.parametrize(
    ("width", "color"),
    [
        (1280, None),  # the shop's own colour, #ff5000
        (390, None),
        (1280, "#ffd400"),  # a light brand colour: dark text on it
        (390, "#1677ff"),  # a mid blue: darkened until white text reads
    ],
)
def test_shop_page_with_the_chat_open(servers, browser, width, color):
    page = browser.new_context(viewport={"width": width, "height": 844}, bypass_csp=True).new_page()
    query = f"?color={color.replace('#', '%23')}" if color else ""
    _open_chat(page, servers.web_url + "/" + query)
    page.fill("#dxe-input", "你能帮我做什么")
    page.press("#dxe-input", "Enter")
    page.locator("#dxe-log .dxe-buttons button").last.wait_for()
    assert audit(page, f"shop+chat@{width}{color or ''}") == []


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (768, 1024)])  # desk, tablet
def test_console(servers, browser, width, height):
    page = browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=True
    ).new_page()
    page.goto(f"{servers.web_url}/console")
    page.wait_for_selector("#login-form")
    assert audit(page, f"console-login@{width}") == []
    page.fill("#token", "demo-wangfang")
    page.click("#login-form button")
    page.wait_for_selector("#login-form", state="hidden")
    page.wait_for_timeout(2500)  # one queue poll
    # an empty queue says so, and the title carries the number of waiting customers
    waiting = page.locator("#queue li").count()
    assert page.locator("#queue-empty").is_visible() == (waiting == 0)
    assert page.title().startswith(f"({waiting}) ") == (waiting > 0)
    assert "当前没有排队的顾客" in page.inner_text("#desk") or waiting > 0
    assert audit(page, f"console@{width}") == []
    # usable at this width: nothing overflows sideways, queue and reply box on screen
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    for selector in ("#queue", "#reply"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)


def test_training_page(servers, browser):
    page = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True).new_page()
    page.goto(f"{servers.web_url}/training")
    page.wait_for_selector("#login-form")
    assert audit(page, "training-login") == []
    page.fill("#trainee", "xiaozhao")
    page.fill("#trainee-token", "demo-xiaozhao")
    page.click("#login-form button")
    page.wait_for_selector("#desk:not([hidden])")
    page.wait_for_timeout(1500)
    assert audit(page, "training") == []
