"""Browser-test fixtures: headless Debian chromium driven by Playwright (no download)."""

from __future__ import annotations

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def playwright():
    """The Playwright driver (its device list emulates phones)."""
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    """Headless Debian chromium (no browser download)."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    yield b
    b.close()
