"""`pipehouse run ACTION.py`: one click on an action, run in the test's process as
`python -m pipehouse` runs it."""

from __future__ import annotations

import json

from tests.conftest import plugin_path
from tests.support.cli import invoke


def run_action(name: str, *args: str, stdin: str = ""):
    return invoke("run", str(plugin_path(name)), *args, stdin=stdin)


def test_the_return_value_goes_to_stdout_and_events_to_stderr():
    result = run_action("action_reports", "one two three")
    assert result.returncode == 0, result.stderr
    # a `message` event appends to the answer: it is answer text, on stdout, before the result
    text, _, returned = result.stdout.partition("\n{")
    assert text == "\n\n3 words"
    value = json.loads("{" + returned)
    assert value["count"] == 3 and value["id"] == "action_reports"
    assert value["model"] == "local" and value["model_actions"] == ["action_reports"]
    assert value["message_id"] and value["chat_id"].startswith("local:")
    assert "counting" in result.stderr and "counted" in result.stderr
    assert "notice (info) 3 words" in result.stderr


def test_json_prints_events_and_the_result_one_per_line():
    result = run_action("action_reports", "a b", "--json", "--user-valve", "shout=true")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["event"]["type"] for line in lines[:-1]] == [
        "status",
        "message",
        "notification",
        "status",
    ]
    assert lines[2]["event"]["data"]["content"] == "2 WORDS"
    assert lines[-1]["result"]["count"] == 2


def test_the_text_is_the_answer_acted_on_and_messages_give_the_conversation(tmp_path):
    from_stdin = run_action("action_returns", "--json", stdin="the answer\n")
    body = json.loads(from_stdin.stdout)["result"]
    assert body["messages"][-1]["role"] == "assistant"
    assert body["messages"][-1]["content"] == "the answer"
    assert body["id"] == body["messages"][-1]["id"] and body["session_id"]
    conversation = tmp_path / "chat.json"
    conversation.write_text(
        json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x y"}])
    )
    result = run_action("action_reports", "--messages", str(conversation), "--model", "gpt-x")
    value = json.loads(result.stdout[result.stdout.index("{") :])
    assert (value["count"], value["model"]) == (2, "gpt-x")


def test_a_sub_action_is_chosen_with_a_flag_and_gets_its_id():
    several = run_action("action_buttons", "text")
    assert several.returncode == 2
    assert "--sub-action" in several.stderr and "summarize, translate, v1.2" in several.stderr
    chosen = run_action("action_buttons", "text", "--sub-action", "v1.2", "--valve", "priority=4")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout) == {"clicked": "v1.2", "priority": 4}
    full_id = run_action("action_buttons", "text", "--sub-action", "action_buttons.translate")
    assert json.loads(full_id.stdout)["clicked"] == "translate"
    unknown = run_action("action_buttons", "text", "--sub-action", "nope")
    assert unknown.returncode == 2 and "no sub-action 'nope'" in unknown.stderr
    none_listed = run_action("action_reports", "text", "--sub-action", "x")
    assert none_listed.returncode == 2 and "has no sub-actions" in none_listed.stderr


def test_event_calls_are_answered_from_flags():
    answered = run_action("action_asks", "text", "--answer", "yes", "--answer", "Ada")
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout) == {"hello": "Ada"}
    assert "confirmation answered from --answer" in answered.stderr
    declined = run_action("action_asks", "text", "-a", "no")
    assert json.loads(declined.stdout) == {"cancelled": True, "answer": False}
    nobody = run_action("action_asks", "text")  # no terminal, no --answer
    assert json.loads(nobody.stdout)["answer"] == {
        "error": "No client is listening for event calls."
    }


def test_none_is_said_on_stderr_and_a_failure_exits_1():
    nothing = run_action("kind_action_and_event", "text")
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout == "" and "the action returned nothing" in nothing.stderr
    quiet = invoke(
        "run", str(plugin_path("action_returns")), "--messages", "/dev/stdin", stdin="[]"
    )
    assert quiet.returncode == 2 and "give the answer to act on" in quiet.stderr
    failed = run_action("action_raises", "text")
    assert failed.returncode == 1
    assert "Error in plugin action_raises (action): ValueError: nothing to act on" in failed.stderr
    assert "action_raises.py" in failed.stderr and "line 8" in failed.stderr


def test_filters_do_not_apply_to_actions():
    result = run_action("action_reports", "text", "--filter", str(plugin_path("filter_trail")))
    assert result.returncode == 2 and "an action runs on its own" in result.stderr


def test_the_action_template_runs(tmp_path):
    made = invoke("new", "action", "my_action", "--dir", str(tmp_path))
    assert "pipehouse run" in made.stderr
    result = invoke("run", str(tmp_path / "my_action.py"), "three little words", "-a", "yes")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "done", "words": 3}
    assert "This message has 3 words." in result.stderr
