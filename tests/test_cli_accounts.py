"""`pipehouse keys ...` and `pipehouse users ...`: each command run in the test's process as
`python -m pipehouse` runs it, on a temporary data directory (SQLite)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from pipehouse.config import Settings
from pipehouse.store.accounts import Accounts
from pipehouse.store.db import Database
from tests.support.cli import invoke


@pytest.fixture
def cli(tmp_path):
    data_dir = tmp_path / "data"

    def run(*args: str) -> subprocess.CompletedProcess:
        return invoke(*args, "--data-dir", str(data_dir))

    run.data_dir = data_dir
    return run


def owner_of(data_dir: Path, key: str):
    """The user a key logs in as, read from the database the CLI wrote (None: no such key)."""

    async def look():
        db = Database(Settings(data_dir=data_dir).db_url)
        try:
            return await Accounts(db).user_for_key(key)
        finally:
            await db.close()

    return asyncio.run(look())


def row(table: str, email: str) -> list[str]:
    """The cells of the table line that shows `email`."""
    lines = [line for line in table.splitlines() if email in line]
    assert len(lines) == 1, table
    return [cell.strip() for cell in lines[0].split("│")]


def test_keys_create_prints_the_key_alone(cli):
    made = cli("keys", "create", "--user", "ada@example.com", "--name", "laptop")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == f"{key}\n"  # so that KEY=$(pipehouse keys create ...) works
    assert key.startswith("ph-") and len(key) > 30
    user = owner_of(cli.data_dir, key)
    assert (user.email, user.role) == ("ada@example.com", "user")
    again = cli("keys", "create", "--user", "ada@example.com")
    assert again.stdout.strip() != key
    assert owner_of(cli.data_dir, again.stdout.strip()).id == user.id


def test_keys_list_shows_prefixes_not_keys(cli):
    first = cli("keys", "create", "--user", "ada@example.com", "--name", "laptop").stdout.strip()
    second = cli("keys", "create", "--user", "bob@example.com", "--name", "ci").stdout.strip()
    listed = cli("keys", "list")
    assert listed.returncode == 0, listed.stderr
    for key, email, name in (
        (first, "ada@example.com", "laptop"),
        (second, "bob@example.com", "ci"),
    ):
        assert key not in listed.stdout
        cells = row(listed.stdout, email)
        assert cells[:4] == [key[:9], email, "user", name]


def test_keys_revoke_by_prefix(cli):
    key = cli("keys", "create", "--user", "ada@example.com").stdout.strip()
    revoked = cli("keys", "revoke", key[:9])
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in revoked.stderr
    assert owner_of(cli.data_dir, key) is None
    assert row(cli("keys", "list").stdout, "ada@example.com")[-1] != "-"  # a revocation date
    again = cli("keys", "revoke", key[:9])
    assert again.returncode == 1
    assert "no active key" in again.stderr


def test_keys_create_needs_to_know_whose_key_it_is(cli):
    result = cli("keys", "create")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--user" in result.stderr and "--admin" in result.stderr


def test_an_admin_key(cli):
    key = cli("keys", "create", "--admin").stdout.strip()
    assert owner_of(cli.data_dir, key).role == "admin"
    cli("users", "create", "ada@example.com")
    refused = cli("keys", "create", "--admin", "--user", "ada@example.com")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "pipehouse users set-role ada@example.com admin" in refused.stderr


def test_users_create_list_set_role_and_delete(cli):
    created = cli("users", "create", "ada@example.com", "--name", "Ada Lovelace")
    assert created.returncode == 0, created.stderr
    user_id = created.stdout.strip()
    assert row(cli("users", "list").stdout, "ada@example.com")[:4] == [
        "ada@example.com",
        "Ada Lovelace",
        "user",
        user_id,
    ]
    duplicate = cli("users", "create", "ada@example.com")
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr

    assert cli("users", "set-role", "ada@example.com", "admin").returncode == 0
    assert row(cli("users", "list").stdout, "ada@example.com")[2] == "admin"
    bad_role = cli("users", "set-role", "ada@example.com", "superuser")
    assert bad_role.returncode == 2
    assert "admin, user, pending" in bad_role.stderr
    assert cli("users", "create", "bob@example.com", "--role", "owner").returncode == 2

    key = cli("keys", "create", "--user", "ada@example.com").stdout.strip()
    assert cli("users", "delete", "ada@example.com").returncode == 0
    assert "ada@example.com" not in cli("users", "list").stdout
    assert owner_of(cli.data_dir, key) is None  # their keys went with them
    missing = cli("users", "delete", "ada@example.com")
    assert missing.returncode == 2
    assert "no user ada@example.com" in missing.stderr
