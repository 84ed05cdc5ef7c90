"""`pipehouse serve` as a user starts it: which directory plugins it serves across runs that share
a data directory, and what it writes where."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import plugin_path
from tests.support.cli import ENV, invoke


@dataclass
class Served:
    url: str
    pid: int
    stdout: str = ""
    stderr: str = ""

    def model_ids(self) -> list[str]:
        return [m["id"] for m in httpx.get(f"{self.url}/v1/models", timeout=30).json()["data"]]

    def answer(self, model: str, prompt: str) -> str:
        reply = httpx.post(
            f"{self.url}/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": prompt}]},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        return reply.json()["choices"][0]["message"]["content"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(
    data_dir: Path,
    *plugin_dirs: Path,
    options: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`pipehouse serve [OPTIONS]` until the block ends (then stopped with Ctrl-C); output kept;
    `env` is added to the environment. A child process: it serves on a port while the test asks
    it, and Ctrl-C is what stops it."""
    port = _free_port()
    plugins = [arg for d in plugin_dirs for arg in ("--plugins", str(d))]
    common = ["--no-auth", "--no-watch", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [sys.executable, "-m", "pipehouse", "serve", *common, *options, *plugins],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENV, **(env or {})},
    )
    served = Served(f"http://127.0.0.1:{port}", process.pid)
    try:
        deadline = time.monotonic() + 60
        while True:  # ready when it answers
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{served.url}/v1/models", timeout=5).status_code == 200:
                    break
            time.sleep(0.1)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        served.stdout, served.stderr = process.communicate(timeout=60)


def _directory(root: Path, name: str, *fixtures: str) -> Path:
    directory = root / name
    directory.mkdir()
    for fixture in fixtures:
        shutil.copy(plugin_path(fixture), directory / f"{fixture}.py")
    return directory


def test_another_plugins_directory_serves_only_its_own_files(tmp_path):
    data = tmp_path / "data"
    examples = _directory(tmp_path, "examples", "cli_shout_filter", "cli_status_pipe")
    mine = _directory(tmp_path, "mine", "cli_chatty_pipe")
    with serving(data, examples) as first:
        assert "cli_status_pipe" in first.model_ids()
        assert first.answer("cli_status_pipe", "hi").startswith("echo: HI")  # the global filter
    with serving(data, mine) as second:
        assert second.model_ids() == ["cli_chatty_pipe"]
        # the first run's global filter no longer changes this pipe's answers
        assert second.answer("cli_chatty_pipe", "quiet please") == "Hi, quiet please"
        # and the first run's plugins are listed with why they are not served
        listed = httpx.get(f"{second.url}/api/v1/functions/", timeout=30).json()
        earlier = {f["id"]: f["status"] for f in listed if f["id"] != "cli_chatty_pipe"}
        assert set(earlier) == {"cli_shout_filter", "cli_status_pipe"}
        for status in earlier.values():
            assert status["state"] == "missing"
            assert "not in this run's plugin directories" in status["error"]["message"]
    # plugins' prints went to stderr: a server's stdout is not theirs
    assert second.stdout == ""
    assert "chatty_pipe: module imported" in second.stderr
    assert "chatty_pipe: answering" in second.stderr


def test_a_file_with_the_id_of_another_runs_file_is_the_one_served(tmp_path):
    data = tmp_path / "data"
    first_dir = _directory(tmp_path, "a", "cli_chatty_pipe")
    second_dir = tmp_path / "b"
    second_dir.mkdir()
    source = plugin_path("cli_chatty_pipe").read_text()
    (second_dir / "cli_chatty_pipe.py").write_text(
        source.replace('default="Hi"', 'default="Hello from b"')
    )
    with serving(data, first_dir) as first:
        assert first.answer("cli_chatty_pipe", "x") == "Hi, x"
    with serving(data, second_dir) as second:
        assert second.answer("cli_chatty_pipe", "x") == "Hello from b, x"


def test_a_directory_plugin_whose_file_is_gone_is_no_longer_served(tmp_path):
    data = tmp_path / "data"
    plugins = _directory(tmp_path, "plugins", "cli_chatty_pipe", "cli_status_pipe")
    with serving(data, plugins) as first:
        assert sorted(first.model_ids()) == ["cli_chatty_pipe", "cli_status_pipe"]
    (plugins / "cli_status_pipe.py").unlink()
    with serving(data, plugins) as second:
        assert second.model_ids() == ["cli_chatty_pipe"]


def test_a_missing_plugins_directory_is_an_error_at_start(tmp_path):
    result = invoke(
        "serve", "--no-auth", "--data-dir", str(tmp_path), "--plugins", str(tmp_path / "nope")
    )
    assert result.returncode == 2
    assert f"--plugins {tmp_path / 'nope'}: no such directory" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("options", "env", "mode"),
    [
        (("--isolation", "inline"), {}, "inline"),
        ((), {"PIPEHOUSE_ISOLATION": "inline"}, "inline"),
        (("--isolation", "isolated"), {"PIPEHOUSE_ISOLATION": "inline"}, "isolated"),
    ],
    ids=["flag", "variable", "flag-over-variable"],
)
def test_the_isolation_mode_chosen_at_start_is_where_plugins_run(tmp_path, options, env, mode):
    plugins = _directory(tmp_path, "plugins", "isolation_reads_request")
    with serving(tmp_path / "data", plugins, options=options, env=env) as served:
        shown = httpx.get(f"{served.url}/api/v1/isolation/isolation_reads_request", timeout=30)
        assert shown.json() == {
            "id": "isolation_reads_request",
            "mode": mode,
            "set": None,
            "default": mode,
        }
        report = json.loads(served.answer("isolation_reads_request", "who answers?"))
        # inline: the server's own process answers; isolated: a worker process
        assert (report["pid"] == served.pid) is (mode == "inline")


@pytest.mark.parametrize(
    ("options", "env", "named"),
    [
        (("--isolation", "sandboxed"), {}, "--isolation sandboxed"),
        ((), {"PIPEHOUSE_ISOLATION": "sandboxed"}, "PIPEHOUSE_ISOLATION=sandboxed"),
    ],
    ids=["flag", "variable"],
)
def test_an_unknown_isolation_mode_is_an_error_at_start(tmp_path, options, env, named):
    result = invoke("serve", "--no-auth", "--data-dir", str(tmp_path), *options, env=env)
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert f"error: {named}: use isolated or inline" in said
    assert not (tmp_path / "pipehouse.db").exists()  # refused before anything started
