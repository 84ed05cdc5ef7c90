"""The console needs nothing but this server: every page (and /docs, Swagger UI) loads its
scripts, styles and data from the server that served it, also when that server is reached by a
name rather than 127.0.0.1 (as Swagger UI and the browser behave differently for localhost).
And /docs works for a signed-in browser: *Try it out* answers with the session alone, a change
included (Swagger UI's requests carry the CSRF token, static/js/docs.js)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.web.conftest import CHROMIUM, LAUNCH_ARGS, SCREENSHOTS, sign_in

STATUS = ".live-responses-table tbody .response-col_status"  # Swagger UI's answer's code
HOST = "console.test"  # resolved to 127.0.0.1 by the browser alone
PAGES = [
    "/",
    "/plugins",
    "/plugins/new?kind=pipe",
    "/plugins/functions/cli_status_pipe",
    "/playground",
    "/connections",
    "/users",
    "/docs",
]


@pytest.fixture
def console_plugins():
    return ["cli_status_pipe"]


@pytest.fixture
def named_tab(browser, console, request) -> Iterator[tuple[object, list[str]]]:
    """A tab of a chromium that reaches the console as http://console.test:PORT, and every URL
    it asked for; a request elsewhere is recorded and refused, never sent."""
    port = urlsplit(console.base_url).port
    named = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[*LAUNCH_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"],
    )
    context = named.new_context(base_url=f"http://{HOST}:{port}")
    context.set_default_timeout(20_000)
    asked: list[str] = []

    def watch(route) -> None:
        asked.append(route.request.url)
        if urlsplit(route.request.url).netloc == f"{HOST}:{port}":
            route.continue_()
        else:
            route.abort()

    context.route("**/*", watch)
    tab = context.new_page()
    try:
        yield tab, asked
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
        context.close()
        named.close()


def test_no_page_asks_anything_of_another_server(named_tab, console):
    tab, asked = named_tab
    sign_in(tab, then="/plugins")
    for path in PAGES:
        tab.goto(path, wait_until="networkidle")
        assert urlsplit(tab.url).path == urlsplit(path).path  # shown, not sent to sign in
    expect(tab.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)  # rendered
    tab.wait_for_load_state("networkidle")
    elsewhere = [url for url in asked if urlsplit(url).hostname != HOST]
    assert not elsewhere, elsewhere
    assert any("/static/console/vendor/swagger-ui/swagger-ui-bundle.js" in u for u in asked)


def test_docs_try_it_out_answers_with_the_session(page, console):
    sign_in(page, then="/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
    operation = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/v1/models"])')
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(STATUS).first).to_have_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text("cli_status_pipe")
    operation.screenshot(path=str(SCREENSHOTS / "docs-try-it-out.png"))

    # a change: Swagger UI's request carries the session's CSRF token, so it is let through
    admin = console.client()
    assert admin.get("/api/v1/functions/id/cli_status_pipe").json()["is_active"] is True
    toggle = page.locator(
        '.opblock-post:has(.opblock-summary-path[data-path="/api/v1/functions/id/{function_id}/toggle"])'
    )
    toggle.locator(".opblock-summary").click()
    toggle.get_by_role("button", name="Try it out").click()
    toggle.locator("input[placeholder=function_id]").fill("cli_status_pipe")
    toggle.get_by_role("button", name="Execute").click()
    expect(toggle.locator(STATUS).first).to_have_text("200")
    assert admin.get("/api/v1/functions/id/cli_status_pipe").json()["is_active"] is False
