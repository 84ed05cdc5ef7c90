"""Commands that work straight on the database (`keys`, `users`, `connections`), whether or not
a server is running on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pipehouse.config import Settings
from pipehouse.store.db import Database

T = TypeVar("T")


class CommandError(Exception):
    """Something the command cannot do (exit status 2)."""


async def with_database(settings: Settings, action: Callable[[Database], Awaitable[T]]) -> T:
    """`action` on the settings' database, migrated first (a first command may create it)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url)
    try:
        await db.migrate()
        return await action(db)
    finally:
        await db.close()
