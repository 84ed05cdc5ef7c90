"""The database: one async engine, SQLite embedded by default, PostgreSQL for scale."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from pipehouse.store.outage import CONNECT_TIMEOUT, report_unreachable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# aiosqlite logs every statement it runs, parameters included, at DEBUG: those are valves,
# users' settings and connection keys. Its INFO and above still reach the log.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def async_url(url: str) -> str:
    """Accept the URLs people write (`sqlite:///x.db`, `postgres://...`) and pick async drivers."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


class MissingDriver(RuntimeError):
    """The database URL names a database whose driver is an optional extra not installed."""


def require_driver(url: str) -> None:
    """PostgreSQL's driver is the `postgres` extra: a plain install has SQLite only. Without
    this check the first connection fails with a bare `No module named 'asyncpg'`."""
    if make_url(url).get_backend_name() != "postgresql":
        return
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        raise MissingDriver(
            "PIPEHOUSE_DATABASE_URL names PostgreSQL, whose driver (asyncpg) is not installed: "
            "pip install 'pipehouse[postgres]'"
        ) from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _owner_only(url: str) -> None:
    """Create the SQLite file readable by its owner only (0600): it holds API key hashes,
    valves and users' settings, secrets included. SQLite gives its -wal and -shm files the
    same mode. A file that exists is tightened too."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)
    except FileNotFoundError:  # no such directory: SQLite will say so when it connects
        return


class Database:
    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        require_driver(self.url)
        # hide_parameters: at DEBUG, SQLAlchemy logs every statement with its parameters, and
        # those are valves, users' settings and connection keys.
        # pool_pre_ping: a connection that broke while idle (PostgreSQL restarted) is replaced
        # before a request uses it; the connect timeout makes a hung database fail in seconds.
        postgres = make_url(self.url).get_backend_name() == "postgresql"
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_pre_ping=True,
            hide_parameters=True,
            connect_args={"timeout": CONNECT_TIMEOUT} if postgres else {},
        )
        if postgres:
            report_unreachable(self.engine.sync_engine)  # store/outage.py
        if self.engine.dialect.name == "sqlite":
            _owner_only(self.url)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic; runs on its own thread and loop)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        await asyncio.to_thread(command.upgrade, config, "head")

    async def close(self) -> None:
        await self.engine.dispose()
