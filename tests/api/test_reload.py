"""Hot reload of a watched plugin directory: edits, new files and deletions take effect on the
running server; a broken file never takes a working plugin (or any other) down."""

from __future__ import annotations

import logging
import os

import pytest

from tests.support.polling import eventually

HELLO = [{"role": "user", "content": "hi"}]
BROKEN = '''"""
title: Half-way through an edit
"""


class Pipe:
    def pipe(self, body: dict) -> str
        return "never runs"
'''


@pytest.fixture
def server_plugins():
    return ["cli_status_pipe"]


def answer(server, model: str = "cli_status_pipe") -> tuple[int, str | None]:
    reply = server.client().post("/v1/chat/completions", json={"model": model, "messages": HELLO})
    if reply.status_code != 200:
        return reply.status_code, None
    return 200, reply.json()["choices"][0]["message"]["content"]


def model_ids(server) -> set[str]:
    return {m["id"] for m in server.client().get("/v1/models").json()["data"]}


def status(server, plugin_id: str):
    return server.app.state.plugins.status.get(plugin_id)


def load_errors(records: list[logging.LogRecord], plugin_id: str) -> list[str]:
    return [
        r.getMessage()
        for r in records
        if r.levelno >= logging.ERROR and plugin_id in r.getMessage()
    ]


def test_editing_a_file_changes_the_answer(server):
    assert answer(server) == (200, "echo: hi [user]")
    path = server.plugin_dir / "cli_status_pipe.py"
    path.write_text(path.read_text().replace('prefix: str = "echo"', 'prefix: str = "edited"'))
    eventually(lambda: answer(server) == (200, "edited: hi [user]"))


def test_an_editor_saving_through_a_temporary_file_is_seen(server):
    path = server.plugin_dir / "cli_status_pipe.py"
    temporary = server.plugin_dir / ".cli_status_pipe.py.swp"
    temporary.write_text(path.read_text().replace('prefix: str = "echo"', 'prefix: str = "saved"'))
    os.replace(temporary, path)
    eventually(lambda: answer(server) == (200, "saved: hi [user]"))
    assert model_ids(server) == {"cli_status_pipe"}


def test_a_new_file_adds_its_models(server):
    server.add_plugin("cli_manifold")
    eventually(lambda: {"cli_manifold.up", "cli_manifold.down"} <= model_ids(server))
    assert answer(server, "cli_manifold.up") == (200, "HI")
    server.add_plugin("cli_status_pipe", as_name="second_status_pipe")
    eventually(lambda: "second_status_pipe" in model_ids(server))
    assert answer(server, "second_status_pipe") == (200, "echo: hi [user]")


def test_deleting_a_file_removes_its_model_until_it_is_back(server):
    server.add_plugin("cli_manifold")
    eventually(lambda: "cli_manifold.up" in model_ids(server))
    (server.plugin_dir / "cli_status_pipe.py").unlink()
    eventually(lambda: "cli_status_pipe" not in model_ids(server))
    assert answer(server) == (404, None)
    assert answer(server, "cli_manifold.up") == (200, "HI")
    # putting the file back serves it again
    server.add_plugin("cli_status_pipe")
    eventually(lambda: answer(server) == (200, "echo: hi [user]"))


@pytest.mark.parametrize("server_plugins", [["cli_status_pipe", "load_syntax_error"]])
def test_a_broken_file_at_start_leaves_the_others_serving(server, caplog):
    assert answer(server) == (200, "echo: hi [user]")
    assert model_ids(server) == {"cli_status_pipe"}
    broken = status(server, "load_syntax_error")
    assert broken.state == "error"
    assert broken.error["line"] == 7
    assert broken.error["path"].endswith("load_syntax_error.py")
    assert broken.error["type"] == "SyntaxError"
    logged = load_errors(caplog.get_records("setup"), "load_syntax_error")
    assert logged and "load_syntax_error.py:7" in logged[0]
    # the API says so too, though the file never loaded (so it has no function row)
    overview = {p["id"]: p for p in server.client().get("/api/v1/plugins").json()}
    assert overview["load_syntax_error"]["state"] == "error"
    assert overview["load_syntax_error"]["error"]["line"] == 7
    assert overview["cli_status_pipe"]["state"] == "loaded"
    assert server.client(key=server.user_key()).get("/api/v1/plugins").status_code == 403
    # removing the broken file forgets it
    (server.plugin_dir / "load_syntax_error.py").unlink()
    eventually(lambda: status(server, "load_syntax_error") is None)


def test_a_broken_file_added_later_is_reported_with_its_line(server, caplog):
    server.add_plugin("load_syntax_error")
    broken = eventually(lambda: status(server, "load_syntax_error"))
    assert broken.state == "error"
    assert broken.error["line"] == 7
    eventually(lambda: load_errors(caplog.records, "load_syntax_error"))
    assert "load_syntax_error.py:7" in load_errors(caplog.records, "load_syntax_error")[0]
    assert answer(server) == (200, "echo: hi [user]")
    assert model_ids(server) == {"cli_status_pipe"}


def test_breaking_a_working_file_keeps_the_last_good_version(server, caplog):
    path = server.plugin_dir / "cli_status_pipe.py"
    good = path.read_text()
    path.write_text(BROKEN)
    eventually(lambda: status(server, "cli_status_pipe").state == "error")
    assert status(server, "cli_status_pipe").error["line"] == 7
    assert load_errors(caplog.records, "cli_status_pipe")
    # still listed, still active, still answering as before the edit
    assert answer(server) == (200, "echo: hi [user]")
    assert "cli_status_pipe" in model_ids(server)
    assert server.app.state.catalog.get("cli_status_pipe").active
    row = server.call(server.app.state.plugins.store.functions.get("cli_status_pipe"))
    assert row.is_active
    # fixing the file serves the fixed version
    path.write_text(good.replace('prefix: str = "echo"', 'prefix: str = "fixed"'))
    eventually(lambda: answer(server) == (200, "fixed: hi [user]"))
    assert status(server, "cli_status_pipe").state == "loaded"
