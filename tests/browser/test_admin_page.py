"""Real browser (Debian chromium, headless): the shop admin page. An agent who is not an
admin is refused; the admin (赵敏) searches an FAQ entry, edits its answer, sees the
preview in traditional characters, saves, finds the audit row, and changes a policy value
(an invalid one first); the preview then quotes the new value. On a phone width nothing
overflows sideways.

The web app runs alone (no Rasa needed) with temporary override and audit files; the
repository's files are never touched.
"""

from __future__ import annotations

import os

import pytest
import yaml

from dianxiaoer.core.settings import CONFIG_DIR, PROJECT_ROOT
from tests.browser.pages import audit
from tests.conftest import RESULTS, stack

pytestmark = pytest.mark.browser

REPO_FILES = (PROJECT_ROOT / "knowledge" / "faq_shop.yml", CONFIG_DIR / "policy_shop.yml")
NEW_ANSWER = (
    "亲，现货商品付款后{ship_hours}小时内为您发货，节假日照常发货，发出后订单里就能看到物流单号。"
)
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture(scope="module")
def admin_web(tmp_path_factory):
    """(URL, temporary files) of a web app with its own override and audit files."""
    tmp = tmp_path_factory.mktemp("admin-page")
    stamps = {p: p.exists() and p.stat().st_mtime_ns for p in REPO_FILES}
    files = {
        "SHOP_FAQ_OVERRIDES": tmp / "faq_shop.yml",
        "SHOP_POLICY_OVERRIDES": tmp / "policy_shop.yml",
        "ADMIN_AUDIT_LOG": tmp / "audit.jsonl",
        "FAQ_TRAINED_FINGERPRINT": tmp / "trained.faq.json",
    }
    env = {
        **os.environ,
        **{name: str(path) for name, path in files.items()},
        "PYTHONPATH": str(PROJECT_ROOT),
        "SHOP_DB": str(tmp / "shop.db"),
    }
    for name in ("DATABASE_URL", "SHOP_POLICY_FILE"):
        env.pop(name, None)
    stack.prepare_store(env)
    with stack.web_app(env, tmp) as url:
        yield url, files
    assert {p: p.exists() and p.stat().st_mtime_ns for p in REPO_FILES} == stamps


def log_in(page, url: str, token: str) -> None:
    page.goto(f"{url}/admin")
    page.fill("#token", token)
    page.click("#login-form button")


def test_admin_page_edits_an_answer_and_a_policy_value(admin_web, browser):
    url, files = admin_web
    RESULTS.mkdir(exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()

    # an agent who is not an admin sees nothing
    log_in(page, url, "demo-wangfang")
    page.wait_for_selector("#login-error:not(:empty)")
    assert "不是管理员" in page.locator("#login-error").inner_text()
    assert page.locator("#desk").is_hidden()
    assert audit(page, "admin-login") == []

    page.fill("#token", "demo-zhaomin")
    page.click("#login-form button")
    page.wait_for_selector("body[data-loaded='true']", timeout=30000)
    assert "赵敏" in page.locator("#me").inner_text()
    total = page.locator("#faq-list li").count()
    assert total >= 40

    # search (traditional characters find the simplified entry), open, edit the answer
    page.fill("#faq-search", "多久發貨")
    page.wait_for_function(
        f"() => document.querySelectorAll('#faq-list li').length < {total}", timeout=10000
    )
    page.click("#faq-list li[data-id='faq.ship_time'] button")
    page.wait_for_selector("#faq-form:not([hidden])")
    assert page.input_value("#f-id") == "faq.ship_time"
    assert page.locator("#f-id").get_attribute("readonly") is not None
    page.fill("#f-answer", NEW_ANSWER)
    page.wait_for_function(
        "() => document.getElementById('preview-traditional').textContent"
        ".includes('節假日照常發貨')",
        timeout=10000,
    )
    traditional = page.locator("#preview-traditional").inner_text()
    assert "48小時內爲您發貨" in traditional or "48小時內為您發貨" in traditional
    assert "48小时内为您发货" in page.locator("#preview-simplified").inner_text()
    # an unknown placeholder is named in the preview
    page.fill("#f-answer", NEW_ANSWER + "{nope}")
    page.wait_for_selector("#preview-notes li.error")
    assert "未知的占位符 {nope}" in page.locator("#preview-notes").inner_text()
    page.click("#faq-save")
    page.wait_for_selector("#faq-errors li")
    assert "未知的占位符 {nope}" in page.locator("#faq-errors").inner_text()

    page.fill("#f-answer", NEW_ANSWER)
    page.click("#faq-save")
    page.wait_for_function(
        "() => document.getElementById('faq-saved').textContent.includes('已保存')", timeout=10000
    )
    assert "已修改" in page.locator("#faq-state").inner_text()
    stored = yaml.safe_load(files["SHOP_FAQ_OVERRIDES"].read_text(encoding="utf-8"))
    assert stored["entries"][0]["answer"] == NEW_ANSWER
    assert audit(page, "admin-faq") == []
    page.screenshot(path=str(RESULTS / "admin_faq.png"), full_page=True)

    # the audit row: who, what, before and after
    page.click("#tab-audit")
    page.wait_for_selector("#audit-table tr:nth-child(2)")
    row = page.locator("#audit-table tr").nth(1).inner_text()
    for text in ("赵敏", "faq.ship_time", "修改", "节假日照常发货"):
        assert text in row

    # a policy value: an invalid one is refused with the reason, a valid one applies
    page.click("#tab-policy")
    page.fill("#policy-search", "ship_within_hours")
    policy_row = page.locator(".prow[data-key='shipping.ship_within_hours']")
    policy_row.locator(".value").fill("abc")
    policy_row.locator("button.save").click()
    page.wait_for_selector(".prow[data-key='shipping.ship_within_hours'] .state.error")
    assert "请填数字" in policy_row.locator(".state").inner_text()
    assert not files["SHOP_POLICY_OVERRIDES"].exists()
    policy_row.locator(".value").fill("24")
    policy_row.locator("button.save").click()
    page.wait_for_selector(".prow[data-key='shipping.ship_within_hours'] .state.ok")
    assert "已修改（出厂值：48）" in policy_row.inner_text()
    assert yaml.safe_load(files["SHOP_POLICY_OVERRIDES"].read_text(encoding="utf-8")) == {
        "shipping": {"ship_within_hours": 24}
    }
    assert audit(page, "admin-policy") == []

    # the open answer's preview quotes the new value; the audit has the change
    page.click("#tab-faq")
    page.wait_for_function(
        "() => document.getElementById('preview-simplified').textContent.includes('24小时内')",
        timeout=10000,
    )
    page.click("#tab-audit")
    page.wait_for_function(
        "() => document.querySelector('#audit-table tr:nth-child(2)')"
        "?.textContent.includes('shipping.ship_within_hours')",
        timeout=10000,
    )
    first = page.locator("#audit-table tr").nth(1).inner_text()
    assert "48" in first and "24" in first
    page.screenshot(path=str(RESULTS / "admin_audit.png"), full_page=True)


def test_admin_page_fits_a_phone(admin_web, browser, playwright):
    url, _ = admin_web
    phone = playwright.devices["iPhone 12"]
    page = browser.new_context(**{**phone, "bypass_csp": True}).new_page()
    log_in(page, url, "demo-zhaomin")
    page.wait_for_selector("body[data-loaded='true']", timeout=30000)
    assert page.evaluate(NO_OVERFLOW)
    page.click("#faq-list li[data-id='faq.ship_time'] button")
    page.wait_for_selector("#faq-form:not([hidden])")
    page.wait_for_function(
        "() => document.getElementById('preview').dataset.state === 'ready'", timeout=10000
    )
    assert page.evaluate(NO_OVERFLOW)
    page.click("#tab-policy")
    assert page.evaluate(NO_OVERFLOW)
    page.click("#tab-audit")
    page.wait_for_selector("#audit-list > *")
    assert page.evaluate(NO_OVERFLOW)
    page.screenshot(path=str(RESULTS / "admin_phone.png"), full_page=False)
    assert audit(page, "admin-phone") == []
