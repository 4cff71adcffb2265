"""Real browser: a trainee logs in on /training, answers a quiz question in the widget,
sees the progress update; a trainer sees every trainee."""

from __future__ import annotations

import time

import pytest

from tests.browser.test_widget_and_console import bot_texts
from tests.conftest import RESULTS

pytestmark = pytest.mark.browser


def wait_for_bot(page, expect: str, before: int, timeout: float = 30) -> str:
    """The first bot message after the first `before` that contains `expect`."""
    return _wait(page, before, lambda t: expect in t, f"bot message with {expect!r}", timeout)


def wait_for_feedback(page, before: int, timeout: float = 30) -> str:
    """The verdict on an answer: ✔ right, ✘ wrong or △ partly right."""
    return _wait(page, before, lambda t: t[:1] in "✔✘△", "verdict on the answer", timeout)


def _wait(page, before: int, match, what: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hit = next((t for t in bot_texts(page)[before:] if match(t)), None)
        if hit:
            return hit
        page.wait_for_timeout(200)
    raise AssertionError(f"no {what}: {bot_texts(page)[before:]}")


def test_trainee_page_quiz_and_trainer_view(servers, browser):
    RESULTS.mkdir(exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{servers.web_url}/training")

    # a wrong token is refused
    page.fill("#trainee", "xiaozhao")
    page.fill("#trainee-token", "wrong")
    page.click("#login-form button")
    page.wait_for_selector("#login-error:not(:empty)")
    assert page.locator("#desk").is_hidden()

    page.fill("#trainee-token", "demo-xiaozhao")
    page.click("#login-form button")
    page.wait_for_selector("#desk:not([hidden])")
    page.wait_for_selector("#dxe-launcher")
    page.click("#dxe-launcher")
    page.wait_for_function("() => document.getElementById('dxe-root').dataset.session")
    page.click("#practice button[data-text='开始术语测验']")
    question = wait_for_bot(page, "第1/5题", 0)
    before = len(bot_texts(page))
    # the draw decides the kind of the first question: answer each the way a trainee would
    if "A." in question:
        page.locator("#dxe-log button", has_text="A").last.click()
    elif "判断对错" in question:
        page.locator("#dxe-log button", has_text="对").last.click()
    else:  # explain a ★★★ term or recall a list, in free text
        page.fill("#dxe-input", "就是对工作失去热情、身心疲惫的状态")
        page.press("#dxe-input", "Enter")
    feedback = wait_for_feedback(page, before)
    # the reference answer comes with the verdict
    assert "【" in feedback or "正确说法" in feedback, feedback
    page.click("#refresh")
    page.wait_for_function(
        "() => !document.getElementById('recent').textContent.includes('还没有练习记录')"
        " && document.getElementById('recent').children.length > 0",
        timeout=15000,
    )
    page.screenshot(path=str(RESULTS / "training_page.png"))

    # a trainer (陈静) sees the trainee in the list
    trainer = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    trainer.goto(f"{servers.web_url}/training")
    trainer.fill("#agent-token", "demo-chenjing")
    trainer.click("#trainer-form button")
    trainer.wait_for_selector("#trainer:not([hidden])")
    trainer.wait_for_selector("#trainees:has-text('xiaozhao'), #trainees:has-text('小赵')")
