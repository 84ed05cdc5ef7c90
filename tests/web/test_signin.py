"""Signing in to the console with an API key, and out again (web/signin.py)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import SCREENSHOTS, sign_in


@pytest.fixture
def console_plugins():
    return ["cli_status_pipe", "load_syntax_error", "pipeline_pipe", "tools_math"]


def test_pages_send_a_stranger_to_sign_in(page, console):
    page.goto("/plugins")
    expect(page).to_have_url(f"{console.base_url}/login?next=%2Fplugins")
    page.fill("input[name=key]", "ph-not-a-key-this-server-gave")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("That key is not valid.")


def test_sign_in_with_a_key_then_sign_out(page, console):
    sign_in(page, then="/plugins")
    expect(page.locator("header .who")).to_contain_text("admin")
    expect(page.locator("tr[data-id=cli_status_pipe]")).to_contain_text("loaded")
    # a file that does not load says why, with its file and line
    expect(page.locator("tr[data-id=load_syntax_error] .error")).to_contain_text(
        "load_syntax_error.py:7 SyntaxError"
    )
    # Functions, Tools and Pipelines files alike, each with its kind
    expect(page.locator("tr[data-id=pipeline_pipe] td").nth(1)).to_have_text("pipeline")
    expect(page.locator("tr[data-id=tools_math] td").nth(1)).to_have_text("tools")
    expect(page.locator("tr[data-id=cli_status_pipe] td").nth(1)).to_have_text("pipe")
    page.screenshot(path=str(SCREENSHOTS / "plugins.png"), full_page=True)
    cookie = next(c for c in page.context.cookies() if c["name"] == "ph_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert console.admin_key not in cookie["value"]

    page.click("#sign-out")
    page.wait_for_url("**/login")
    page.goto("/plugins")
    expect(page).to_have_url(f"{console.base_url}/login?next=%2Fplugins")
    # the session is over on the server too, not only forgotten by this browser
    stolen = httpx.get(f"{console.base_url}/v1/models", cookies={"ph_session": cookie["value"]})
    assert stolen.status_code == 401
