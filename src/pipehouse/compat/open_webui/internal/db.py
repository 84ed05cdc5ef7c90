"""`open_webui.internal.db`: a session of pipehouse's database, for plugins that query it.

The schema is pipehouse's, not Open WebUI's: the `user`, `file`, `function` and `tool` tables
exist with pipehouse's columns (`open_webui.models.users.User` is pipehouse's user table
class), and most of Open WebUI's other tables do not. Only the async
session exists; pipehouse has no sync database driver, so Open WebUI's older `get_db()` is not
provided. The session belongs to the server's event loop: use it from `async def` plugin code.

`Base` is a declarative base of its own (a plugin's tables never join pipehouse's schema
migrations) and `engine` is the server's engine, which is async: create a plugin's tables with
`async with engine.begin() as conn: await conn.run_sync(Base.metadata.create_all)`.
The engine and sessions live in the server's process: a plugin running isolated (in a worker)
that uses them is told to run inline (`errors.InlineOnly`); `engine` itself imports there, so
such a plugin still loads and an admin can move it.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import types
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeMeta, declarative_base

from pipehouse.compat import services as compat_services
from pipehouse.compat.errors import DOCS, CompatError, InlineOnly, ServerRequired, missing_names

__all__ = ["Base", "JSONField", "get_async_db", "get_async_db_context"]
_SYNC_SESSION = (
    "is a sync database session, which pipehouse does not have (its database driver is "
    f"async); use `async with get_async_db_context() as session:` in async code ({DOCS})"
)
_missing = missing_names(
    __name__,
    {
        name: f"open_webui.internal.db.{name} {_SYNC_SESSION}"
        for name in ("get_db", "get_db_context", "get_session", "SessionLocal", "Session")
    },
)


class _Redefinable(DeclarativeMeta):
    """A plugin's module runs again when it is reloaded, defining its tables again: the new
    definition replaces the old one (Open WebUI raises "Table ... is already defined")."""

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> None:
        table = namespace.get("__tablename__")
        tables = cls.metadata.tables
        if isinstance(table, str) and table in tables:
            cls.metadata.remove(tables[table])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "This declarative base already contains a class")
            super().__init__(name, bases, namespace)


Base = declarative_base(metaclass=_Redefinable)


class JSONField(types.TypeDecorator):
    """Any JSON value kept as text, as Open WebUI's column type of that name keeps it."""

    impl = types.UnicodeText
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return json.dumps(value, ensure_ascii=False) if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return json.loads(value) if value is not None else None


def _unreachable(label: str, what: str) -> CompatError:
    """Why there is no database here: a worker process cannot have the server's (the plugin
    must run inline), and `pipehouse run` has none."""
    if compat_services.remote is not None:
        return InlineOnly(f"{label} ({what})")
    return ServerRequired(label)


_ENGINE = ("open_webui.internal.db.engine", "the server's database engine")


class _EngineElsewhere:
    """`engine` in a worker process: the name imports (so the plugin loads, and an admin can
    set it inline), and the first use says why it cannot work there and what to do."""

    def __getattr__(self, name: str) -> Any:
        raise _unreachable(*_ENGINE)

    def __repr__(self) -> str:
        return "<open_webui.internal.db.engine: in the server's process, not this worker's>"


def _engine() -> AsyncEngine | _EngineElsewhere:
    services = compat_services.current()
    if services is None and compat_services.remote is not None:
        return _EngineElsewhere()
    if services is None:
        raise _unreachable(*_ENGINE)
    return services.backend.db.engine


def __getattr__(name: str) -> Any:
    if name == "engine":  # the running server's, read when a plugin asks
        return _engine()
    return _missing(name)


@asynccontextmanager
async def get_async_db_context(db: AsyncSession | None = None) -> AsyncIterator[AsyncSession]:
    """`db` itself when one is given, else a new session of pipehouse's database."""
    if isinstance(db, AsyncSession):
        yield db
        return
    services = compat_services.current()
    if services is None:
        raise _unreachable("get_async_db_context", "a session of the server's database")
    if asyncio.get_running_loop() is not services.loop:
        raise CompatError(
            "get_async_db_context(): the database session belongs to the server's event loop; "
            "use it from async plugin code, not from a loop of the plugin's own"
        )
    async with services.backend.db.session() as session:
        yield session


get_async_db = get_async_db_context
