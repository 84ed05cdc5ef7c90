"""The admin pages (web/pages.py): the overview's charts from /metrics, keys and users,
connections (one added in the page offers its models in the playground), the interactive /docs;
and what a user who is not an admin may open."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.mock_upstream import MockUpstream
from tests.support.polling import eventually
from tests.web.conftest import SCREENSHOTS, sign_in


@pytest.fixture
def console_plugins():
    return ["cli_status_pipe", "cli_raises_pipe"]


def test_overview_charts_calls_errors_and_latency_per_plugin(page, console):
    admin = console.client()
    for model in ("cli_status_pipe", "cli_status_pipe", "cli_raises_pipe"):
        admin.post(
            "/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        )
    sign_in(page)
    expect(page.locator("#counts")).to_contain_text("2 plugins")
    calls = page.locator("#chart-calls svg")
    expect(calls).to_contain_text("cli_status_pipe")
    expect(calls.locator("rect.bar")).to_have_count(2)
    # one call per request: a streamed answer is one call, loading the plugin none
    expect(calls.locator("text.label")).to_have_text(["cli_status_pipe", "cli_raises_pipe"])
    expect(calls.locator("text.value")).to_have_text(["2", "1"])
    errors = page.locator("#chart-errors svg")
    expect(errors.locator("text.label").first).to_have_text("cli_raises_pipe")
    expect(errors.locator("text.value").first).to_have_text("1")
    latency = page.locator("#chart-latency svg")
    expect(latency.locator("text.label")).to_have_count(2)
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

    # revoked from the page (confirmed), the key stops working
    ada = page.locator("#users tr", has_text="ada@example.com")
    page.once("dialog", lambda dialog: dialog.accept())
    ada.get_by_role("button", name="Revoke").click()
    expect(ada.locator(".revoked")).to_contain_text("revoked")
    eventually(
        lambda: (
            httpx.get(
                f"{console.base_url}/v1/models", headers={"Authorization": f"Bearer {key}"}
            ).status_code
            == 401
        ),
        seconds=40,
        what="the revoked key refused",
    )


def test_a_user_sees_the_playground_but_not_admin_pages(page, console):
    sign_in(page, key=console.user_key("bob@example.com"), then="/playground")
    expect(page.locator("header nav")).not_to_contain_text("Connections")
    page.goto("/users")
    expect(page.locator("h1")).to_have_text("For admins only")
    page.goto("/docs")
    expect(page.locator(".swagger-ui")).to_contain_text("/v1/chat/completions", timeout=20_000)


def test_a_connection_added_on_its_page_offers_its_models_in_the_playground(page, console):
    secret = "sk-otter-upstream-0123456789"
    with MockUpstream(api_key=secret, models=["otter-7b", "otter-70b"]) as upstream:
        sign_in(page, then="/connections")
        form = page.locator("#new-connection")
        form.locator("[name=base_url]").fill(upstream.base_url)
        form.locator("[name=api_key]").fill(secret)
        form.locator("[name=prefix]").fill("river")
        form.get_by_role("button", name="Add").click()
        expect(page.locator(".toast")).to_contain_text("Connection added")
        listed = page.locator("#connections tbody tr")
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text(upstream.base_url)
        expect(listed).to_contain_text("set (masked)")
        page.reload()
        expect(listed).to_contain_text("set (masked)")
        assert secret not in page.content()
        page.screenshot(path=str(SCREENSHOTS / "connections.png"), full_page=True)

        page.goto("/playground")
        picker = page.locator("#model")
        expect(picker.locator("option[value='river.otter-7b']")).to_have_count(1)
        expect(picker.locator("option[value='river.otter-70b']")).to_have_count(1)
        picker.select_option("river.otter-7b")
        expect(page.locator("#send")).to_be_enabled()
        page.fill("#prompt", "hello from the river bank")
        page.click("#send")
        expect(page.locator(".message.assistant .content")).to_have_text(
            "hello from the river bank"  # the mock server echoes the last user message
        )
        asked = upstream.chat_requests[-1]
        assert asked.body["model"] == "otter-7b"
        assert asked.headers["authorization"] == f"Bearer {secret}"
