"""The database engine: a SQLite file only its owner can read, no SQL parameters in logs, and a
clear error when PostgreSQL's driver (the `postgres` extra) is missing."""

from __future__ import annotations

import logging
import os
import stat
import sys

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pipehouse import cli
from pipehouse.store.db import Database, MissingDriver

SECRET = "sk-in-a-parameter-0123456789"


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_sqlite_file_is_created_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "new.db"
    db = Database(f"sqlite:///{path}")
    await db.migrate()
    await db.close()
    assert mode(path) == 0o600


async def test_an_existing_world_readable_file_is_tightened(tmp_path):
    path = tmp_path / "old.db"
    path.touch()
    os.chmod(path, 0o644)
    db = Database(f"sqlite:///{path}")
    await db.close()
    assert mode(path) == 0o600


async def test_statement_parameters_never_reach_the_log_at_debug(tmp_path, caplog):
    """Neither SQLAlchemy's statement log (INFO, when switched on) nor aiosqlite's DEBUG
    lines. (SQLAlchemy's own DEBUG level adds result rows: that is asking for the data.)"""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    db = Database(f"sqlite:///{tmp_path / 'debug.db'}")
    async with db.engine.connect() as connection:
        found = await connection.execute(text("SELECT :value"), {"value": SECRET})
        assert found.scalar() == SECRET
    await db.close()
    assert "SELECT" in caplog.text  # the statement is logged, as asked
    assert SECRET not in caplog.text


POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def test_postgres_without_its_driver_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # as on an install without the extra
    with pytest.raises(MissingDriver, match=r"pip install 'pipehouse\[postgres\]'"):
        Database(POSTGRES)


@pytest.mark.parametrize("command", [["serve"], ["keys", "list"]])
def test_the_cli_refuses_to_start_on_postgres_without_its_driver(monkeypatch, command):
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    result = CliRunner().invoke(cli.app, [*command, "--database-url", POSTGRES])
    assert result.exit_code == 2
    assert "asyncpg" in result.output and "pipehouse[postgres]" in result.output
