"""The plugin editor (web/pages.py, static/js/editor.js, valves.js): a new pipe from a template,
a load error shown at its line with nothing going live, valves with a secret kept masked, and
an older version diffed and restored."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PLUGINS
from tests.web.conftest import SCREENSHOTS, sign_in


@pytest.fixture
def console_plugins():
    return ["valves_secrets"]


def test_a_pipe_from_a_template_with_a_syntax_error_fixed_at_its_line(page, console):
    sign_in(page, then="/plugins")
    page.get_by_role("link", name="pipe", exact=True).click()
    page.wait_for_url("**/plugins/new?kind=pipe")
    expect(page.locator(".CodeMirror")).to_contain_text("class Pipe:")
    # Python highlighting: keywords and strings are told apart
    expect(page.locator(".CodeMirror .cm-keyword", has_text="class").first).to_be_visible()
    expect(page.locator(".CodeMirror .cm-string").first).to_be_visible()
    page.fill("#plugin-id", "otter_pipe")
    page.fill("#plugin-name", "Otter pipe")
    # break it: a line that does not parse, at the end of the file
    page.click(".CodeMirror-code")
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("def broken(:")
    lines = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.lineCount()")
    page.click("#save")

    error = page.locator("#load-error")
    expect(error).to_contain_text(f"line {lines}: SyntaxError")
    expect(page.locator(".CodeMirror .error-line")).to_contain_text("def broken(:")
    page.screenshot(path=str(SCREENSHOTS / "editor-load-error.png"))
    # nothing went live
    admin = console.client()
    assert admin.get("/api/v1/functions/id/otter_pipe").status_code == 404
    assert "otter_pipe" not in {m["id"] for m in admin.get("/v1/models").json()["data"]}

    # fix it where the editor put the cursor: the line shown
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")
    page.keyboard.press("Backspace")
    page.click("#save")
    page.wait_for_url("**/plugins/functions/otter_pipe")
    expect(page.locator("#state")).to_contain_text("loaded")
    expect(page.locator("#versions tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Activate").click()  # new functions start inactive
    expect(page.get_by_role("button", name="Deactivate")).to_be_visible()
    expect(page.locator("#state")).to_contain_text("active")
    reply = admin.post(
        "/v1/chat/completions",
        json={"model": "otter_pipe", "messages": [{"role": "user", "content": "hi otters"}]},
    )
    assert reply.status_code == 200
    assert "hi otters" in reply.json()["choices"][0]["message"]["content"]


def test_valves_form_saves_a_setting_and_keeps_the_secret_masked(page, console):
    sign_in(page, then="/plugins/functions/valves_secrets")
    form = page.locator("#valves")
    expect(form.locator("[name=model]")).to_have_value("gpt-4o-mini")  # the default
    secret = form.locator("[name=OPENAI_API_KEY]")
    expect(secret).to_have_attribute("type", "password")
    form.locator("[name=model]").fill("otter-large")
    secret.fill("sk-live-0123456789-do-not-show")
    form.get_by_role("button", name="Save valves").click()
    expect(page.locator(".toast")).to_contain_text("Valves saved")

    page.reload()
    expect(form.locator("[name=model]")).to_have_value("otter-large")
    shown = form.locator("[name=OPENAI_API_KEY]")
    expect(shown).to_have_attribute("type", "password")
    expect(shown).not_to_have_value("")
    assert "do-not-show" not in shown.input_value()
    assert "do-not-show" not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "valves.png"), full_page=True)

    # the pipe runs with what was saved, and saving again (the mask posted back) keeps the secret
    form.get_by_role("button", name="Save valves").click()
    expect(page.locator(".toast").last).to_contain_text("Valves saved")
    answer = console.client().post(
        "/v1/chat/completions",
        json={"model": "valves_secrets", "messages": [{"role": "user", "content": "which?"}]},
    )
    assert answer.json()["choices"][0]["message"]["content"] == "otter-large"
    stored = console.call(console.app.state.valves.valves("valves_secrets"))
    assert stored["OPENAI_API_KEY"] == "sk-live-0123456789-do-not-show"


def test_a_wrong_value_is_shown_at_its_field(page, console):
    sign_in(page, then="/plugins/functions/valves_secrets")
    field = page.locator("#valves [name=max_tokens]")
    field.fill("2.5")  # not an integer
    page.get_by_role("button", name="Save valves").click()
    expect(page.locator("#valves label:has([name=max_tokens]) .field-error")).to_contain_text(
        "valid integer"
    )


def test_an_older_version_is_diffed_and_restored(page, console):
    admin = console.client()
    first = (PLUGINS / "cli_status_pipe.py").read_text()
    second = first.replace('prefix: str = "echo"', 'prefix: str = "shout"')
    made = admin.post(
        "/api/v1/functions/create",
        json={"id": "echoer", "name": "Echoer", "content": first, "meta": {}},
    )
    assert made.status_code == 200, made.text
    assert admin.post("/api/v1/functions/id/echoer/update", json={
        "id": "echoer", "name": "Echoer", "content": second, "meta": {}
    }).status_code == 200  # fmt: skip
    admin.post("/api/v1/functions/id/echoer/toggle")
    assert ask(admin, "echoer") == "shout: hi [user]"

    sign_in(page, then="/plugins/functions/echoer")
    versions = page.locator("#versions tbody tr")
    expect(versions).to_have_count(2)
    older = versions.filter(has=page.get_by_role("button", name="Diff to latest"))
    older.get_by_role("button", name="Diff to latest").click()
    diff = page.locator("#diff")
    expect(diff.locator(".del")).to_contain_text('prefix: str = "echo"')
    expect(diff.locator(".add")).to_contain_text('prefix: str = "shout"')
    page.screenshot(path=str(SCREENSHOTS / "editor-version-diff.png"), full_page=True)

    older.get_by_role("button", name="Restore into editor").click()
    expect(page.locator(".toast")).to_contain_text("Save to make it live")
    expect(page.locator(".CodeMirror")).to_contain_text('prefix: str = "echo"')
    assert ask(admin, "echoer") == "shout: hi [user]"  # nothing changed before Save
    page.click("#save")
    expect(versions).to_have_count(3)
    assert ask(admin, "echoer") == "echo: hi [user]"


def test_a_broken_change_leaves_the_last_version_serving_and_delete_removes_it(page, console):
    admin = console.client()
    code = (PLUGINS / "cli_status_pipe.py").read_text()
    made = admin.post(
        "/api/v1/functions/create",
        json={"id": "heron", "name": "Heron", "content": code, "meta": {}},
    )
    assert made.status_code == 200, made.text
    admin.post("/api/v1/functions/id/heron/toggle")
    sign_in(page, then="/plugins/functions/heron")
    expect(page.locator("#versions tbody tr")).to_have_count(1)

    broken = code.replace("class Pipe:", "class Pipe(:")
    line = broken.splitlines().index("class Pipe(:") + 1
    page.evaluate("code => document.querySelector('.CodeMirror').CodeMirror.setValue(code)", broken)
    page.click("#save")
    error = page.locator("#load-error")
    expect(error).to_contain_text(f"line {line}: SyntaxError")
    expect(error).to_contain_text("the last good version keeps serving")
    expect(page.locator(".CodeMirror .error-line")).to_contain_text("class Pipe(:")
    assert ask(admin, "heron") == "echo: hi [user]"
    assert admin.get("/api/v1/functions/id/heron").json()["content"] == code
    page.reload()
    expect(page.locator("#versions tbody tr")).to_have_count(1)  # no version was made

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/plugins")
    expect(page.locator("#plugin-list tbody tr")).to_have_count(1)  # valves_secrets alone
    expect(page.locator("#plugin-list")).not_to_contain_text("heron")
    assert admin.get("/api/v1/functions/id/heron").status_code == 404
    assert "heron" not in {m["id"] for m in admin.get("/v1/models").json()["data"]}


def ask(client, model: str) -> str:
    hello = [{"role": "user", "content": "hi"}]
    reply = client.post("/v1/chat/completions", json={"model": model, "messages": hello})
    assert reply.status_code == 200, reply.text
    return reply.json()["choices"][0]["message"]["content"]
