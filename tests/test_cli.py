"""The command line as a plugin author uses it: each command run in the test's process as
`python -m pipehouse` runs it; in a real `pipehouse` process where the process is the point."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import plugin_path
from tests.support.cli import ENV, invoke, pipehouse
from tests.support.greeting_checkout import write_greeting_checkout


def test_run_streams_the_answer_to_stdout_and_events_to_stderr():
    # a child process: `python -m pipehouse` itself, descriptors and all, as a user starts it
    result = pipehouse("run", str(plugin_path("cli_status_pipe")), "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: hello [user]\n"
    assert "thinking hard" in result.stderr
    assert "all done" in result.stderr


def test_run_without_streaming_gives_the_same_answer():
    result = invoke("run", str(plugin_path("cli_status_pipe")), "hello", "--no-stream")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: hello [user]\n"
    assert "all done" in result.stderr


def test_prompt_can_come_from_stdin_and_system_message_is_sent_first():
    result = invoke(
        "run", str(plugin_path("cli_status_pipe")), "--system", "be brief", stdin="from stdin\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: from stdin [system,user]\n"


def test_messages_file_is_the_conversation(tmp_path):
    conversation = tmp_path / "chat.json"
    conversation.write_text(
        json.dumps(
            [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "reply"},
                {"role": "user", "content": "second"},
            ]
        )
    )
    result = invoke("run", str(plugin_path("cli_status_pipe")), "--messages", str(conversation))
    assert result.stdout == "echo: second [user,assistant,user]\n"


def test_valves_and_user_valves_from_flags():
    result = invoke(
        "run",
        str(plugin_path("cli_status_pipe")),
        "hi",
        "--valve",
        "prefix=said",
        "--valve",
        "repeat=2",
        "--user-valve",
        "suffix=?",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "said: hi? [user]said: hi? [user]\n"


def test_an_invalid_valve_is_rejected_with_the_field_named():
    result = invoke("run", str(plugin_path("cli_status_pipe")), "hi", "--valve", "repeat=many")
    assert result.returncode == 1
    assert "repeat" in result.stderr and "integer" in result.stderr
    unknown = invoke("run", str(plugin_path("cli_status_pipe")), "hi", "--valve", "nope=1")
    assert unknown.returncode == 1
    assert "unknown valve 'nope'" in unknown.stderr and "prefix" in unknown.stderr


def test_json_prints_every_chunk_and_event_as_a_json_line():
    result = invoke("run", str(plugin_path("cli_status_pipe")), "hi", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    events = [line["event"]["data"]["description"] for line in lines if "event" in line]
    assert events == ["thinking hard", "all done"]
    ids = {line["id"] for line in lines if "choices" in line}
    assert len(ids) == 1  # one completion id for every chunk
    assert lines[-1]["choices"][0]["finish_reason"] == "stop"


def test_manifold_needs_a_model_when_it_offers_several():
    path = str(plugin_path("cli_manifold"))
    ambiguous = invoke("run", path, "Hi There")
    assert ambiguous.returncode == 2
    assert "up" in ambiguous.stderr and "down" in ambiguous.stderr
    assert invoke("run", path, "Hi There", "--model", "up").stdout == "HI THERE\n"
    full_id = invoke("run", path, "Hi There", "-m", "cli_manifold.down")
    assert full_id.stdout == "hi there\n"
    unknown = invoke("run", path, "x", "--model", "sideways")
    assert unknown.returncode == 2 and "cli_manifold.up" in unknown.stderr


def test_filters_apply_around_the_pipe():
    result = invoke(
        "run",
        str(plugin_path("cli_status_pipe")),
        "hi there",
        "--filter",
        str(plugin_path("cli_shout_filter")),
    )
    assert result.returncode == 0, result.stderr
    # inlet upper-cased the prompt; the stream hook replaced spaces in every chunk
    assert result.stdout == "echo:!HI!THERE![user]\n"


def test_a_filter_file_runs_on_its_own_around_an_echo_model():
    result = invoke("run", str(plugin_path("cli_shout_filter")), "quiet words", "--valve", "mark=_")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "QUIET_WORDS_"


def test_event_calls_are_answered_from_flags():
    path = str(plugin_path("cli_confirm_pipe"))
    assert invoke("run", path, "go", "--answer", "yes").stdout == "answer=True\n"
    assert invoke("run", path, "go", "--answer", "no").stdout == "answer=False\n"


def test_event_call_without_anyone_to_answer_returns_at_once():
    result = invoke("run", str(plugin_path("cli_confirm_pipe")), "go")
    assert result.returncode == 0
    assert "No client is listening" in result.stdout
    assert "--answer" in result.stderr


def test_plugin_error_exits_non_zero_and_points_into_the_plugin_file():
    path = plugin_path("cli_raises_pipe")
    result = invoke("run", str(path), "hi")
    assert result.returncode == 1
    assert result.stdout.startswith("partial")
    assert f'File "{path}", line 10' in result.stderr
    assert 'settings["api_key_missing"]' in result.stderr
    assert "KeyError" in result.stderr


def environments_in(tmp_path) -> dict[str, str]:
    """A data dir of the test's own, and the suite's shared uv download cache."""
    return {"PIPEHOUSE_DATA_DIR": str(tmp_path), "UV_CACHE_DIR": os.environ["UV_CACHE_DIR"]}


def test_a_requirement_no_registry_has_fails_naming_it(tmp_path):
    result = invoke(
        "run", str(plugin_path("cli_missing_requirement")), "hi", env=environments_in(tmp_path)
    )
    assert result.returncode == 1
    assert result.stdout == ""
    message = " ".join(result.stderr.split())
    assert "no package named pipehouse-fixture-not-a-real-package in the package registry" in (
        message
    )
    assert "Traceback" not in result.stderr


def test_offline_builds_never_reach_a_registry_and_say_so(tmp_path):
    env = {**environments_in(tmp_path), "PIPEHOUSE_OFFLINE": "1"}
    result = invoke("run", str(plugin_path("cli_missing_requirement")), "hi", env=env)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "PIPEHOUSE_OFFLINE is set and pipehouse-fixture-not-a-real-package is not in" in message
    assert "in the package registry" not in message  # the online error: no registry asked


def test_run_builds_the_files_environment_once_and_env_commands_manage_it(tmp_path):
    figlet = str(plugin_path("env_figlet_modern"))
    first = invoke("run", figlet, "hi", env=environments_in(tmp_path))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("pyfiglet 1.0.2\n")
    assert "+ pyfiglet==1.0.2" in first.stderr  # the installer's progress, as it went

    again = invoke("inspect", figlet, "--json", env=environments_in(tmp_path))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["name"] == "Modern Banner"
    assert "pyfiglet==1.0.2" not in again.stderr  # the same environment, not built again

    listed = invoke("env", "list", env=environments_in(tmp_path))
    key, state = listed.stdout.split()[:2]
    assert state == "ready" and "pyfiglet==1.0.2" in listed.stdout
    shown = json.loads(invoke("env", "show", key, env=environments_in(tmp_path)).stdout)
    assert shown["requirements"] == ["pyfiglet==1.0.2"] and shown["size"] > 0

    rebuilt = invoke("env", "rebuild", key, env=environments_in(tmp_path))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "+ pyfiglet==1.0.2" in rebuilt.stderr

    pruned = invoke("env", "prune", "--all", env=environments_in(tmp_path))
    assert pruned.stdout.split() == [key]
    assert invoke("env", "list", env=environments_in(tmp_path)).stdout == ""


def test_env_rebuild_builds_again_an_environment_whose_build_failed(tmp_path):
    checkout = tmp_path / "greeting"  # not there yet: the first build fails
    greeter = tmp_path / "greeter.py"
    source = plugin_path("env_built_from_source").read_text()
    greeter.write_text(source.replace("file:///SOURCE_CHECKOUT", checkout.as_uri()))
    env = {**environments_in(tmp_path / "data"), "PIPEHOUSE_OFFLINE": "1"}  # nothing downloaded
    assert invoke("run", str(greeter), "hi", env=env).returncode == 1
    key, state = invoke("env", "list", env=env).stdout.split()[:2]
    assert state == "failed"

    write_greeting_checkout(checkout)  # fixed: asked to, the rebuild installs it
    rebuilt = invoke("env", "rebuild", key, env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "+ pipehouse-fixture-greeting==1.0" in rebuilt.stderr  # the installer's progress
    shown = json.loads(invoke("env", "show", key, env=env).stdout)
    assert shown["state"] == "ready" and shown["error"] is None
    ran = invoke("run", str(greeter), "hi", env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "hello, world\n"
    assert "+ pipehouse-fixture-greeting" not in ran.stderr  # the rebuilt one, not built again


def test_no_install_uses_the_installed_packages_only(tmp_path):
    result = invoke(
        "run",
        "--no-install",
        str(plugin_path("env_figlet_modern")),
        "hi",
        env=environments_in(tmp_path),
    )
    assert result.returncode == 1
    assert "not installed: pyfiglet==1.0.2" in " ".join(result.stderr.split())
    assert not (tmp_path / "envs").exists()


def test_missing_file_is_a_usage_error():
    result = invoke("run", "no/such/plugin.py", "hi")
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_inspect_shows_kind_valves_and_models():
    result = invoke("inspect", str(plugin_path("cli_status_pipe")))
    assert result.returncode == 0, result.stderr
    assert "kind: pipe" in result.stdout
    assert "prefix" in result.stdout and "repeat" in result.stdout and "suffix" in result.stdout
    manifold = invoke("inspect", str(plugin_path("cli_manifold")), "--json")
    described = json.loads(manifold.stdout)
    assert described["kind"] == "pipe" and described["is_manifold"] is True
    assert [m["id"] for m in described["models"]] == ["cli_manifold.up", "cli_manifold.down"]
    assert [m["name"] for m in described["models"]] == ["Case: Upper", "Case: Lower"]


def test_inspect_reports_load_errors():
    result = invoke("inspect", "--no-install", str(plugin_path("cli_missing_requirement")))
    assert result.returncode == 1
    # the requirements are marked even though the plugin could not load, and the hint says how
    assert "pipehouse-fixture-not-a-real-package>=1.0 (missing)" in result.stdout
    message = " ".join(result.stderr.split())
    assert "not installed: pipehouse-fixture-not-a-real-package>=1.0" in message
    assert "without --no-install" in message


def test_plugin_prints_go_to_stderr_and_stdout_is_the_answer_alone():
    result = invoke("run", str(plugin_path("cli_chatty_pipe")), "Ada")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hi, Ada\n"
    for printed in ("module imported", "ready, greeting=Hi", "answering", "from a subprocess"):
        assert f"chatty_pipe: {printed}" in result.stderr


def test_inspect_json_stays_json_when_the_plugin_prints():
    result = invoke("inspect", str(plugin_path("cli_chatty_pipe")), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "Chatty Pipe"
    assert "chatty_pipe: module imported" in result.stderr


def test_an_installer_option_in_requirements_is_refused_by_name_never_passed_on():
    result = invoke("run", str(plugin_path("cli_installer_option")), "hi")
    assert result.returncode == 1
    assert "not a requirement pipehouse can install: '--index-url=http://127.0.0.1:9/simple'" in (
        " ".join(result.stderr.split())
    )
    assert "installing" not in result.stderr  # no installer ran
    assert "Traceback" not in result.stderr


def test_a_placeholder_requirements_line_is_a_clean_message():
    result = invoke("run", str(plugin_path("cli_placeholder_requirements")), "hi")
    assert result.returncode == 1
    assert "'package2  # Optional'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_requirement_on_a_version_pipehouse_keeps_is_a_clean_message(tmp_path):
    from importlib.metadata import version

    result = invoke(
        "run", str(plugin_path("cli_pinned_httpx")), "hi", env=environments_in(tmp_path)
    )
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "httpx==0.27.0 cannot be installed beside pipehouse" in message
    assert f"which runs on httpx=={version('httpx')} and keeps those versions" in message
    assert "Traceback" not in result.stderr


def test_event_calls_are_asked_at_a_terminal():
    # A real pseudo-terminal: the confirmation is asked on screen and the typed answer returned
    # (a child process: the terminal is its stdin, stdout and stderr, descriptors included).
    import pty
    import select

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipehouse", "run", str(plugin_path("cli_confirm_pipe")), "go"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=ENV,
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    answered = False
    try:
        while process.poll() is None or select.select([leader], [], [], 0)[0]:
            ready, _, _ = select.select([leader], [], [], 30)
            assert ready, f"no output from the terminal; saw {seen!r}"
            try:
                chunk = os.read(leader, 1024)
            except OSError:  # the terminal closed: the process is done
                break
            seen += chunk
            if not answered and b"Really?" in seen:
                os.write(leader, b"y\n")
                answered = True
    finally:
        process.wait(30)
        os.close(leader)
    assert b"Proceed?" in seen
    assert answered
    assert b"answer=True" in seen
    assert process.returncode == 0


def test_new_writes_starting_files_that_work(tmp_path):
    for kind in ("pipe", "filter", "action", "tools"):
        made = invoke("new", kind, f"my_{kind}", "--dir", str(tmp_path))
        assert made.returncode == 0, made.stderr
        path = tmp_path / f"my_{kind}.py"
        assert made.stdout.strip() == str(path)
        assert f"title: My {kind.title()}" in path.read_text()
        described = json.loads(invoke("inspect", str(path), "--json").stdout)
        assert described["kind"] == kind
    answered = invoke("run", str(tmp_path / "my_pipe.py"), "hello from a template")
    assert answered.returncode == 0, answered.stderr
    assert "hello from a template" in answered.stdout
    filtered = invoke("run", str(tmp_path / "my_filter.py"), "through the filter")
    assert filtered.returncode == 0, filtered.stderr
    assert "through the filter" in filtered.stdout
    again = invoke("new", "pipe", "my_pipe", "--dir", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr
    unknown = invoke("new", "widget", "w", "--dir", str(tmp_path))
    assert unknown.returncode == 2
