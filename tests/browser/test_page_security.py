"""Real browser (Debian chromium, headless): every page works under the web app's
Content-Security-Policy (no inline script; the widget's socket.io reaches Rasa), and the
shop page of a production web app offers no demo login."""

from __future__ import annotations

import os

import pytest
import requests

from tests.conftest import ROOT, production_secrets, stack

pytestmark = pytest.mark.browser

# collected in the page itself: the browser reports every CSP refusal as this event
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def violations(page) -> list[str]:
    return page.evaluate("() => window.__csp")


def test_pages_and_widget_work_under_the_csp(servers, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    response = page.goto(servers.web_url)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-eval'" not in csp

    # the widget connects to Rasa (socket.io) and gets an answer
    page.wait_for_selector("#dxe-launcher")
    page.click("#dxe-launcher")
    page.wait_for_function("() => document.getElementById('dxe-root').dataset.session")
    page.fill("#dxe-input", "支持花呗分期吗")
    page.press("#dxe-input", "Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#dxe-log .dxe-bot')]"
        ".some((n) => n.innerText.includes('花呗'))",
        timeout=30000,
    )
    assert page.locator("#login-zhang").is_visible()  # demo mode: the demo login is there
    assert violations(page) == []

    # the console, the trainee page and the analytics page (charts as blob: images)
    console = context.new_page()
    console.goto(f"{servers.web_url}/console")
    console.fill("#token", "demo-wangfang")
    console.click("#login-form button")
    console.wait_for_selector("#desk:not([hidden])")
    assert violations(console) == []

    training = context.new_page()
    training.goto(f"{servers.web_url}/training")
    training.fill("#trainee", "xiaoli")
    training.fill("#trainee-token", "demo-xiaoli")
    training.click("#login-form button")
    training.wait_for_selector("#desk:not([hidden])")
    assert violations(training) == []

    analytics = context.new_page()
    analytics.goto(f"{servers.web_url}/analytics")
    analytics.fill("#token", "demo-wangfang")
    analytics.click("#login-form button")
    analytics.wait_for_selector("body[data-loaded='true']", timeout=120000)
    analytics.wait_for_function(
        "() => [...document.images].some((i) => i.src.startsWith('blob:') && i.complete)",
        timeout=120000,
    )
    assert violations(analytics) == []
    context.close()


def test_production_shop_page_has_no_demo_login(servers, browser, tmp_path):
    env = {
        **os.environ,
        **production_secrets(),
        "PYTHONPATH": str(ROOT),
        "DXE_MODE": "production",
        "SHOP_DB": str(servers.shop_db),
        "RASA_URL": servers.rasa_url,
        "RASA_PORT": servers.rasa_url.rsplit(":", 1)[1],
    }
    env.pop("DATABASE_URL", None)
    with stack.web_app(env, tmp_path) as url:
        page = browser.new_page()
        # a token minted in demo mode is dropped too
        page.goto(url)
        page.evaluate(
            "() => localStorage.setItem('dxe-login', JSON.stringify({name: '张伟', token: 'x'}))"
        )
        page.reload()
        page.wait_for_selector("#products .card")
        assert page.locator("#login-zhang").count() == 0
        assert page.locator("#login-li").count() == 0
        assert page.inner_text("#who") == "未登录"
        assert (
            requests.post(f"{url}/api/login", json={"customer": "C1001"}, timeout=10).status_code
            == 404
        )
        page.close()
