"""`pipehouse connections ...` and `serve --upstream`: each command run in the test's process as
`python -m pipehouse` runs it, on a temporary data directory (SQLite). Keys are stored as given
and never printed."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from pipehouse.config import Settings
from pipehouse.service.connections import cli_connections
from pipehouse.store.connections import ConnectionStore
from pipehouse.store.db import Database
from tests.support.cli import invoke

KEY = "sk-cli-secret-9876"


@pytest.fixture
def cli(tmp_path):
    data_dir = tmp_path / "data"

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        result = invoke(*args, "--data-dir", str(data_dir), env=env)
        assert KEY not in result.stdout + result.stderr
        return result

    run.data_dir = data_dir
    return run


def stored(data_dir: Path) -> dict:
    """The stored rows by id, read from the database the CLI wrote."""

    async def look():
        db = Database(Settings(data_dir=data_dir).db_url)
        try:
            return {row.id: row for row in await ConnectionStore(db).all()}
        finally:
            await db.close()

    return asyncio.run(look())


def row(table: str, connection_id: str) -> list[str]:
    lines = [line for line in table.splitlines() if line.strip().startswith(connection_id + " ")]
    assert len(lines) == 1, table
    return [cell.strip() for cell in lines[0].split("│")]


def test_add_prints_the_id_alone_and_stores_the_key(cli):
    added = cli(
        "connections",
        "add",
        "http://127.0.0.1:11434/v1/",
        "--id",
        "ollama",
        "--key-env",
        "OLLAMA_KEY",
        "--prefix",
        "local",
        "--model",
        "llama3",
        "-m",
        "qwen",
        env={"OLLAMA_KEY": KEY},
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "ollama\n"
    found = stored(cli.data_dir)["ollama"]
    assert (found.base_url, found.api_key, found.prefix) == (
        "http://127.0.0.1:11434/v1",
        KEY,
        "local",
    )
    assert (found.models, found.enabled) == (["llama3", "qwen"], True)

    plain = cli("connections", "add", "https://api.example.com/v1", "--key", KEY, "--disabled")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == "api-example-com\n"  # made from the host
    assert stored(cli.data_dir)["api-example-com"].api_key == KEY
    assert stored(cli.data_dir)["api-example-com"].enabled is False
    again = cli("connections", "add", "https://api.example.com/v2")
    assert again.stdout == "api-example-com-2\n"
    assert stored(cli.data_dir)["api-example-com-2"].api_key is None


def test_list_shows_whether_there_is_a_key_never_the_key(cli):
    cli("connections", "add", "http://h:1/v1", "--id", "keyed", "--key", KEY, "-m", "a", "-m", "b")
    cli("connections", "add", "http://h:2/v1", "--id", "keyless", "--prefix", "p", "--disabled")
    listed = cli("connections", "list")
    assert listed.returncode == 0, listed.stderr
    assert row(listed.stdout, "keyed")[:6] == ["keyed", "http://h:1/v1", "-", "a, b", "yes", "set"]
    assert row(listed.stdout, "keyless")[:6] == ["keyless", "http://h:2/v1", "p", "all", "no", "-"]


def test_remove(cli):
    cli("connections", "add", "http://h/v1", "--id", "gone")
    removed = cli("connections", "remove", "gone")
    assert removed.returncode == 0, removed.stderr
    assert "removed gone" in removed.stderr
    assert stored(cli.data_dir) == {}
    again = cli("connections", "remove", "gone")
    assert again.returncode == 1
    assert "no stored connection gone" in again.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["ftp://h"], {}, "http:// or https://"),
        (["http://h", "--id", "a/b"], {}, "letters, digits"),
        (["http://h", "--key", KEY, "--key-env", "X"], {"X": KEY}, "give the key once"),
        (["http://h", "--key-env", "UNSET_FOR_THIS_TEST"], {}, "not set"),
    ],
)
def test_add_refuses(cli, args, env, message):
    refused = cli("connections", "add", *args, env=env)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert message in refused.stderr
    assert stored(cli.data_dir) == {}


def test_add_refuses_an_id_in_use(cli):
    cli("connections", "add", "http://h/v1", "--id", "one", "--key", KEY)
    taken = cli("connections", "add", "http://other/v1", "--id", "one")
    assert taken.returncode == 2
    assert "already exists" in taken.stderr and "connections remove one" in taken.stderr
    assert stored(cli.data_dir)["one"].base_url == "http://h/v1"


def test_serve_refuses_a_bad_upstream_before_starting(cli):
    flag = cli("serve", "--upstream", "http://ok/v1", "--upstream", "localhost:11434")
    assert flag.returncode == 2
    assert "upstream localhost:11434" in flag.stderr
    from_env = cli("serve", env={"PIPEHOUSE_UPSTREAMS": "http://ok/v1;nope"})
    assert from_env.returncode == 2
    assert "upstream nope" in from_env.stderr


def test_upstreams_from_the_environment_pair_keys_by_position(monkeypatch):
    monkeypatch.setenv("PIPEHOUSE_UPSTREAMS", " http://a/v1/ ; ;http://c/v1")
    monkeypatch.setenv("PIPEHOUSE_UPSTREAM_KEYS", f"{KEY};;sk-c")
    settings = Settings()
    assert KEY not in repr(settings)
    found = [(c.id, c.base_url, c.api_key, c.source) for c in cli_connections(settings)]
    assert found == [("cli-0", "http://a/v1", KEY, "cli"), ("cli-2", "http://c/v1", "sk-c", "cli")]
    monkeypatch.delenv("PIPEHOUSE_UPSTREAMS")
    assert Settings().upstreams == []
