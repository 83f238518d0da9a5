"""Playwright in Debian chromium (never `playwright install`)."""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-results")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One chromium for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any, live_server: str, csrf_on: None) -> Iterator[Any]:
    """A fresh browser context (own cookies), Polish locale, CSRF on as in production."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pl-PL", base_url=live_server)
    pg = ctx.new_page()
    pg.set_default_timeout(10000)
    yield pg
    ctx.close()


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of what the user saw."""
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
