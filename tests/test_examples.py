"""The example plugins, run with the README's commands from the checkout's root: in the test's
process as `python -m pipehouse` runs them, and the quickstart through the `./pipehouse` script
itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import cli
from tests.support.cli import ENV
from tests.support.polling import eventually

ROOT = Path(__file__).resolve().parent.parent


def pipehouse(*args: str):
    """A README command, from the checkout's root."""
    return cli.invoke(*args, cwd=ROOT)


def test_readme_quickstart_pipe_answers_with_its_status_events():
    # a child process: the README's own launcher, `./pipehouse`, as a new user types it
    result = cli.pipehouse(
        "run",
        "examples/hello_pipe.py",
        "hi",
        command=[str(ROOT / "pipehouse")],
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Hello,") and "“hi”" in result.stdout
    # the status events the pipe emits, shown on stderr as they arrive
    assert "Reading your message" in result.stderr and "Done" in result.stderr


def test_manifold_example_offers_three_models():
    described = json.loads(pipehouse("inspect", "examples/echo_manifold.py", "--json").stdout)
    ids = [m["id"] for m in described["models"]]
    assert ids == ["echo_manifold.upper", "echo_manifold.lower", "echo_manifold.reverse"]
    upper = pipehouse("run", "examples/echo_manifold.py", "Hello", "--model", "upper")
    assert upper.stdout.strip() == "HELLO"


def test_filter_example_refuses_a_banned_word_and_wraps_a_pipe():
    refused = pipehouse(
        "run", "examples/hello_pipe.py", "oh darn", "--filter", "examples/word_filter.py"
    )
    assert refused.returncode == 1
    assert "word_filter" in refused.stderr and "darn" in refused.stderr
    allowed = pipehouse(
        "run",
        "examples/hello_pipe.py",
        "fine words",
        "--filter",
        "examples/word_filter.py",
        "--no-stream",
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "words)" in allowed.stdout  # the outlet's word-count footnote


def test_pipelines_example_runs_as_a_pipelines_file():
    result = pipehouse("run", "examples/pipelines_echo.py", "ping")
    assert result.returncode == 0, result.stderr
    assert "ping" in result.stdout


def test_action_and_toolkit_examples_describe_themselves():
    tools = json.loads(pipehouse("inspect", "examples/clock_tools.py", "--json").stdout)
    assert tools["kind"] == "tools"
    assert {s["name"] for s in tools["tool_specs"]} >= {"add_days", "convert_units"}
    action = json.loads(pipehouse("inspect", "examples/confirm_action.py", "--json").stdout)
    assert action["kind"] == "action"


def test_event_calls_client_example_answers_the_ask_pipe(tmp_path):
    from tests.api.conftest import start_server

    for server in start_server(tmp_path, None, []):
        shutil.copy(ROOT / "examples" / "ask_pipe.py", server.plugin_dir / "ask_pipe.py")
        listed = server.client().get

        def loaded(listed=listed) -> bool:
            return "ask_pipe" in {m["id"] for m in listed("/v1/models").json()["data"]}

        eventually(loaded, what="the example pipe loading")
        client = ROOT / "examples" / "clients" / "answer_event_calls.py"
        env = {**ENV, "PIPEHOUSE_URL": server.base_url, "PIPEHOUSE_KEY": server.admin_key}
        # a child process: the example client is a script of its own, run as its user runs it
        result = subprocess.run(
            [sys.executable, str(client), "ask_pipe", "Grace"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "Hello, Grace!"
        assert "asked confirmation" in result.stderr and "asked input" in result.stderr
