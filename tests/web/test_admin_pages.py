"""The admin pages (web/pages.py): the overview's charts from /metrics, keys and users,
connections, the interactive /docs; and what a user who is not an admin may open."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import SCREENSHOTS, sign_in


@pytest.fixture
def console_plugins():
    return ["cli_status_pipe"]


def test_overview_charts_calls_per_plugin(page, console):
    reply = console.client().post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert reply.status_code == 200
    sign_in(page)
    expect(page.locator("#counts")).to_contain_text("1 plugins")
    chart = page.locator("#chart-calls svg")
    expect(chart).to_contain_text("cli_status_pipe")
    expect(chart.locator("rect.bar")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=True)


def test_a_key_made_on_the_keys_page_is_shown_once_and_works(page, console):
    sign_in(page, then="/users")
    page.fill("#new-key [name=email]", "ada@example.com")
    page.fill("#new-key [name=name]", "laptop")
    page.click("#new-key button[type=submit]")
    key = page.locator("#new-key-shown code").inner_text()
    assert httpx.get(
        f"{console.base_url}/v1/models", headers={"Authorization": f"Bearer {key}"}
    ).is_success
    expect(page.locator("#users")).to_contain_text("ada@example.com")
    page.reload()
    assert key not in page.content()


def test_a_user_sees_the_playground_but_not_admin_pages(page, console):
    sign_in(page, key=console.user_key("bob@example.com"), then="/playground")
    expect(page.locator("header nav")).not_to_contain_text("Connections")
    page.goto("/users")
    expect(page.locator("h1")).to_have_text("For admins only")
    page.goto("/docs")
    expect(page.locator(".swagger-ui")).to_contain_text("/v1/chat/completions")
