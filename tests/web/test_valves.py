"""Valves forms (static/js/valves.js) as generated from a plugin's schema: an enum as a select,
a boolean as a switch, each field's description and default, a key as a password field; and a
user (not an admin) setting their own user valves, which reach the pipe for them alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import SCREENSHOTS, sign_in

PLUGIN = "console_weather_valves"


@pytest.fixture
def console_plugins():
    return [PLUGIN]


def ask(client) -> str:
    hello = [{"role": "user", "content": "weather?"}]
    reply = client.post("/v1/chat/completions", json={"model": PLUGIN, "messages": hello})
    assert reply.status_code == 200, reply.text
    return reply.json()["choices"][0]["message"]["content"]


def test_the_form_follows_the_schema_and_its_settings_reach_the_pipe(page, console):
    sign_in(page, then=f"/plugins/functions/{PLUGIN}")
    form = page.locator("#valves")
    units = form.locator("select[name=units]")
    expect(units.locator("option")).to_have_text(["metric", "imperial"])
    expect(units).to_have_value("metric")
    wind = form.locator("input[name=show_wind]")
    expect(wind).to_have_attribute("type", "checkbox")
    expect(wind).to_have_class("switch")
    expect(wind).not_to_be_checked()
    expect(form.locator("[name=city]")).to_have_value("Oslo")
    expect(form.locator("label:has([name=units])")).to_contain_text("Units for temperatures.")
    expect(form.locator("label:has([name=show_wind])")).to_contain_text("Add the wind speed")
    expect(form.locator("[name=WEATHER_API_KEY]")).to_have_attribute("type", "password")

    units.select_option("imperial")
    wind.check()
    form.locator("[name=city]").fill("Bergen")
    form.get_by_role("button", name="Save valves").click()
    expect(page.locator(".toast")).to_contain_text("Valves saved")
    page.reload()
    expect(form.locator("select[name=units]")).to_have_value("imperial")
    expect(form.locator("input[name=show_wind]")).to_be_checked()
    page.screenshot(path=str(SCREENSHOTS / "valves-form.png"), full_page=True)
    assert ask(console.client()) == "Hello! Bergen: 54 F, wind 5 m/s"


def test_a_user_sets_their_own_user_valves(page, console):
    bob_key = console.user_key("bob@example.com")
    sign_in(page, key=bob_key, then="/plugins")
    page.locator("#plugin-list").get_by_role("link", name="your valves").click()
    page.wait_for_url(f"**/plugins/functions/{PLUGIN}")
    expect(page.locator("#code-card")).to_have_count(0)  # no code for a user
    expect(page.locator("#valves")).to_have_count(0)  # nor the admin's valves
    mine = page.locator("#user-valves")
    expect(mine.locator("[name=greeting]")).to_have_value("Hello")
    expect(mine.locator("label:has([name=shout])")).to_contain_text("Answer in capitals.")
    mine.locator("[name=greeting]").fill("Ahoy")
    mine.locator("input[name=shout]").check()
    mine.get_by_role("button", name="Save valves").click()
    expect(page.locator(".toast")).to_contain_text("Valves saved")
    page.reload()
    expect(mine.locator("[name=greeting]")).to_have_value("Ahoy")
    page.screenshot(path=str(SCREENSHOTS / "user-valves.png"), full_page=True)

    assert ask(console.client(key=bob_key)) == "AHOY! OSLO: 12 C"
    assert ask(console.client()) == "Hello! Oslo: 12 C"  # the admin's own are untouched
