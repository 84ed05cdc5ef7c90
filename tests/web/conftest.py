"""The web console in a real browser: Playwright for Python driving Debian's chromium
(`/usr/bin/chromium`; `./test` installs it when missing) against a real server on SQLite.

The API behind the console runs on SQLite and PostgreSQL in tests/api; these tests check what
a person sees and does in the page. Each test saves a screenshot under .artifacts/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import ADMIN_KEY, Server, start_server

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One chromium per test module: Playwright's sync API keeps an event loop running in this
    thread while it lives, which tests elsewhere that call `asyncio.run` must not meet."""
    if not CHROMIUM.exists():
        message = "no /usr/bin/chromium (apt-get install -y chromium; ./test does it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def console_plugins() -> list[str]:
    """Fixture plugins the server starts with; override in a test module."""
    return []


@pytest.fixture
def console(tmp_path, console_plugins) -> Iterator[Server]:
    yield from start_server(tmp_path, None, console_plugins)


@pytest.fixture
def page(browser, console, request) -> Iterator[object]:
    """A fresh browser tab on the console; a screenshot of it is saved when the test ends."""
    context = browser.new_context(
        base_url=console.base_url, viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(20_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
        context.close()


def sign_in(page, key: str = ADMIN_KEY, then: str = "/") -> None:
    page.goto(f"/login?next={then}")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{then}")
