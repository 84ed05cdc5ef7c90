"""The playground (static/js/playground.js): streaming with status lines, a confirmation and an
input asked by `__event_call__` answered in the page, an `execute` call run by the page, an
action button under the answer, an uploaded file read by the pipe, a manifold's sub-model, a
toggle filter and a toolkit switched on for a message."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import SCREENSHOTS, sign_in


@pytest.fixture
def console_plugins():
    return [
        "console_streams_words",
        "cli_confirm_pipe",
        "action_buttons",
        "files_reads_pipe",
        "console_asks_browser",
        "events_asks_pipe",
        "cli_manifold",
        "console_pirate_filter",
        "tools_math",
        "tools_pipe_calls_add",
    ]


def ask(page, model: str, text: str) -> None:
    page.goto(f"/playground?model={model}")
    expect(page.locator("#send")).to_be_enabled()  # the event channel is listening
    page.fill("#prompt", text)
    page.click("#send")


def test_an_answer_streams_with_its_status_line_source_and_toast(page, console):
    sign_in(page)
    ask(page, "console_streams_words", "Tell me about otters")
    answer = page.locator(".message.assistant")
    # part of the answer is on the page while it still streams
    expect(page.locator(".message.assistant.streaming .content")).to_contain_text("Otters hold")
    expect(answer.locator(".status")).to_have_text("Reading the river guide")
    expect(answer.locator(".sources")).to_contain_text("River guide")
    expect(page.locator(".message.assistant:not(.streaming)")).to_have_count(1)
    expect(answer.locator(".content")).to_have_text(
        "Otters hold hands while they sleep so they do not drift apart . "
    )
    expect(answer.locator(".status")).to_have_text("Told a story of 13 words")
    expect(page.locator(".toast")).to_contain_text("Story told")
    page.screenshot(path=str(SCREENSHOTS / "playground.png"))


def test_a_confirmation_asked_by_the_pipe_is_answered_in_the_page(page, console):
    sign_in(page)
    ask(page, "cli_confirm_pipe", "clean up")
    dialog = page.locator("#call-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Proceed?")
    expect(dialog).to_contain_text("Really?")
    page.screenshot(path=str(SCREENSHOTS / "playground-confirmation.png"))
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".message.assistant .content")).to_have_text("answer=True")


def test_an_action_button_under_the_answer_runs_the_action(page, console):
    sign_in(page)
    ask(page, "cli_confirm_pipe", "go")
    page.locator("#call-dialog").get_by_role("button", name="Cancel").click()
    answer = page.locator(".message.assistant")
    expect(answer.locator(".content")).to_have_text("answer=False")
    answer.get_by_role("button", name="Summarize").click()
    expect(answer.locator(".action-result")).to_contain_text('"clicked":"summarize"')


def test_an_uploaded_file_reaches_the_pipe(page, console, tmp_path):
    notes = tmp_path / "otter-notes.txt"
    notes.write_text("Otters keep a favourite stone in a pouch under their arm.")
    sign_in(page)
    page.goto("/playground?model=files_reads_pipe")
    page.set_input_files("#attach", str(notes))
    expect(page.locator("#attached")).to_have_text("otter-notes.txt")
    expect(page.locator("#send")).to_be_enabled()
    page.fill("#prompt", "what do my notes say?")
    page.click("#send")
    answer = page.locator(".message.assistant .content")
    expect(answer).to_contain_text("favourite stone in a pouch")
    expect(answer).to_contain_text("otter-notes.txt")


def test_an_execute_call_runs_in_the_page_and_its_result_reaches_the_pipe(page, console):
    sign_in(page)
    ask(page, "console_asks_browser", "what is this page?")
    answer = page.locator(".message.assistant .content")
    expect(answer).to_have_text(
        f"Your browser says: language {page.evaluate('navigator.language')}, page '{page.title()}'"
    )
    expect(page.locator("#call-dialog")).to_be_hidden()  # nothing was asked of the person
    page.screenshot(path=str(SCREENSHOTS / "playground-execute.png"))


def test_an_input_asked_by_the_pipe_is_typed_in_the_page(page, console):
    sign_in(page)
    ask(page, "events_asks_pipe", "go on")
    dialog = page.locator("#call-dialog")
    expect(dialog).to_contain_text("Shall I go on?")
    expect(dialog.locator("#call-input")).to_be_hidden()  # a confirmation has no field
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_contain_text("Your name?")
    expect(dialog.locator("#call-input")).to_be_visible()
    dialog.locator("#call-input").fill("Ada")
    page.screenshot(path=str(SCREENSHOTS / "playground-input.png"))
    dialog.get_by_role("button", name="OK").click()
    expect(page.locator(".message.assistant .content")).to_have_text(
        '{"confirmed": true, "name": "Ada"}'
    )
    expect(page.locator(".message.assistant .status")).to_have_text("done")


def test_a_manifold_sub_model_is_picked_and_answers(page, console):
    sign_in(page, then="/playground")
    picker = page.locator("#model")
    expect(picker.locator("option[value='cli_manifold.up']")).to_have_count(1)
    expect(picker.locator("option[value='cli_manifold.down']")).to_have_count(1)
    picker.select_option("cli_manifold.up")
    expect(page.locator("#send")).to_be_enabled()
    page.fill("#prompt", "quiet river")
    page.click("#send")
    expect(page.locator(".message.assistant .content")).to_have_text("QUIET RIVER")


def test_a_toggle_filter_runs_only_when_switched_on(page, console):
    sign_in(page, then="/playground?model=cli_manifold.down")
    expect(page.locator("#send")).to_be_enabled()
    pirate = page.get_by_label("Pirate Speak")
    expect(pirate).not_to_be_checked()
    page.fill("#prompt", "Hello")
    page.click("#send")
    first = page.locator(".message.assistant").nth(0)
    expect(first.locator(".content")).to_have_text("hello")
    expect(page.locator("#send")).to_be_enabled()
    pirate.check()
    page.fill("#prompt", "Hello")
    page.click("#send")
    expect(page.locator(".message.assistant").nth(1).locator(".content")).to_have_text(
        "arr, hello, matey"
    )


def test_a_toolkit_switched_on_reaches_the_pipe_as_tools(page, console):
    sign_in(page, then="/playground?model=tools_pipe_calls_add")
    expect(page.locator("#send")).to_be_enabled()
    page.get_by_label("Math toolkit").check()
    page.fill("#prompt", "add")
    page.click("#send")
    expect(page.locator(".message.assistant .content")).to_have_text("1 + 2 = 3")
