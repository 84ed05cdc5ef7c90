"""The plugin list (static/js/plugins.js, environment.js): a plugin's environment from queued to
ready and then answering, a failed install with the installer's output and a retry, and a
plugin file uploaded from the list. Environments are really built from PyPI (the suite's shared
uv cache, tests/conftest.py)."""

from __future__ import annotations

from filelock import FileLock
from playwright.sync_api import expect

from pipehouse.envs import EnvironmentSpec
from tests.conftest import PLUGINS
from tests.support.polling import eventually
from tests.web.conftest import SCREENSHOTS, sign_in

MISSING = "pipehouse-fixture-no-such-distribution==1.0"


def create_in_editor(page, plugin_id: str, code: str) -> None:
    """Paste a file into a new plugin's editor and save it, as an admin does."""
    page.goto("/plugins/new?kind=pipe")
    page.fill("#plugin-id", plugin_id)
    page.evaluate("code => document.querySelector('.CodeMirror').CodeMirror.setValue(code)", code)
    page.click("#save")
    page.wait_for_url(f"**/plugins/functions/{plugin_id}")


def row(page, plugin_id: str):
    return page.locator(f"#plugin-list tr[data-id={plugin_id}]")


def environment_of(console, plugin_id: str) -> dict | None:
    overview = console.client().get("/api/v1/plugins").json()
    return next((p["environment"] for p in overview if p["id"] == plugin_id), None)


def test_a_plugin_with_requirements_is_shown_installing_then_ready_and_answers(page, console):
    code = (PLUGINS / "env_figlet_modern.py").read_text()
    key = EnvironmentSpec.of(["pyfiglet==1.0.2"]).key
    locks = console.data_dir / "envs" / ".locks"
    locks.mkdir(parents=True)
    # Another builder (a replica sharing the data dir) holds the environment's lock: the
    # server waits, and the list says so, until it is let go.
    other_builder = FileLock(locks / f"{key}.lock")
    other_builder.acquire()
    try:
        sign_in(page, then="/plugins")
        create_in_editor(page, "banner", code)
        expect(page.locator("#state")).to_contain_text("its requirements are being installed")
        expect(page.locator("#load-error")).to_be_hidden()  # waiting is not an error
        page.goto("/plugins")
        environment = row(page, "banner").locator(".environment")
        expect(environment).to_have_attribute("data-state", "queued")
        expect(environment).to_contain_text("environment queued: waiting for another pipehouse")
        expect(environment).to_contain_text("pyfiglet==1.0.2")
        page.screenshot(path=str(SCREENSHOTS / "plugins-environment-queued.png"), full_page=True)
        row(page, "banner").get_by_label("banner active").check()
    finally:
        other_builder.release()

    # the list follows the build by itself: no reload
    expect(environment).to_have_attribute("data-state", "ready", timeout=90_000)
    expect(row(page, "banner").locator(".badge.state-loaded")).to_be_visible()
    environment.locator("summary").click()
    expect(environment.locator(".installer-output")).to_contain_text("+ pyfiglet==1.0.2")
    page.screenshot(path=str(SCREENSHOTS / "plugins-environment-ready.png"), full_page=True)

    page.goto("/playground?model=banner")
    expect(page.locator("#send")).to_be_enabled()
    page.fill("#prompt", "ok")
    page.click("#send")
    expect(page.locator(".message.assistant .content")).to_contain_text("pyfiglet 1.0.2")


def test_a_failed_install_shows_the_installer_output_and_can_be_retried(page, console):
    code = (PLUGINS / "env_figlet_modern.py").read_text().replace("pyfiglet==1.0.2", MISSING)
    sign_in(page, then="/plugins")
    create_in_editor(page, "typo", code)
    page.goto("/plugins")
    environment = row(page, "typo").locator(".environment")
    expect(environment).to_have_attribute("data-state", "failed", timeout=60_000)
    expect(environment.locator(".error")).to_contain_text(
        "no package named pipehouse-fixture-no-such-distribution"
    )
    output = environment.locator(".installer-output")
    expect(output).to_be_visible()  # open, not folded, when it failed
    failed = environment_of(console, "typo")
    assert failed["progress"], failed
    expect(output).to_contain_text(failed["progress"][-1])  # the installer's last line
    page.screenshot(path=str(SCREENSHOTS / "plugins-environment-failed.png"), full_page=True)

    environment.get_by_role("button", name="Retry install").click()
    expect(page.locator(".toast")).to_contain_text("Installing typo's requirements again")
    eventually(
        lambda: (
            (env := environment_of(console, "typo"))
            and env["state"] == "failed"
            and env["created"] > failed["created"]
        ),
        seconds=60,
        what="the retried install",
    )
    expect(row(page, "typo").locator(".environment")).to_have_attribute("data-state", "failed")
    expect(row(page, "typo").get_by_role("button", name="Retry install")).to_be_visible()


def test_a_plugin_file_uploaded_from_the_list_is_saved_and_answers(page, console):
    sign_in(page, then="/plugins")
    page.set_input_files("#upload-plugin", str(PLUGINS / "cli_status_pipe.py"))
    page.wait_for_url("**/plugins/new?from=upload")
    expect(page.locator("#plugin-id")).to_have_value("cli_status_pipe")
    expect(page.locator(".CodeMirror")).to_contain_text("class Pipe")
    page.screenshot(path=str(SCREENSHOTS / "plugins-upload.png"), full_page=True)
    page.click("#save")
    page.wait_for_url("**/plugins/functions/cli_status_pipe")
    expect(page.locator("#state")).to_contain_text("loaded")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#state")).to_contain_text("active")
    answer = console.client().post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert answer.json()["choices"][0]["message"]["content"] == "echo: hi [user]"
